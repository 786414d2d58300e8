// bench/forwarding: 64-byte frames/s forwarded veth -> switch -> veth, tsvs
// beside the Linux bridge and Open vSwitch (userspace datapath), interleaved
// in the same run, with tsvs's own blaster/counter (build/Release/tsvs-blast):
//
//   ns A [A0] --veth-- [A1] SWITCH [B1] --veth-- [B0] ns B    (SWITCH, A1, B1 in ns S)
//
// tx pinned to CPU 0; switch and rx pinned to CPU 1 (like perf/run.sh).
// Cases per switch: flows=1 (one datapath flow in_port -> output) and
// flows=10000 (10,000 distinct UDP 5-tuples; megaflows exact on them: tsvs
// installs 5-tuple masks, OVS gets a multipath(symmetric_l4) rule). The Linux
// bridge has no flows: its two rows differ only in the traffic.
// Switch CPU per frame = the switch process's CPU time (utime+stime from
// /proc, all threads) during the tx window / frames received. The Linux
// bridge runs in softirq on the sender's CPU: no process, cpuNsPerFrame null.
// Needs root, `npm install` (addon, tsvs-blast) and tsc output (npm run bench
// compiles). Environment: FWD_ROUNDS, FWD_SECS, FWD_SWITCHES (comma list of
// veth-floor,linux-bridge,ovs,tsvs; also tsvs-b64, tsvs-b256, tsvs-v2, tsvs-v3, tsvs-mmsg, and tsvs-offload: hw-offload on,
// the kernel (tc) forwards the cached flow, flows=1 only), FWD_FLOWS (comma list), FWD_QUIET_PCT (25; 0 = no
// wait), FWD_PROFILE=DIR (tsvs runs under node --cpu-prof, profiles in DIR),
// FWD_OVS_PMD_MASK (OVS pmd-cpu-mask, default 0x2 = CPU 1 like the other switches).
// Every namespace/interface is named tsp<random>*; all are removed on exit.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ForwardingRow {
  bench: 'forwarding';
  /** veth-floor: no switch; tsvs-blast sends from ns S into B1 on the switch's CPU (what any AF_PACKET switch's transmit costs, the receiver's delivery included). */
  /**
   * tsvs-b64: the default before 2026-11-27: rx_batch/tx_batch 64 with 9,280-byte (jumbo) slots.
   * tsvs-b256: rx_batch/tx_batch 256 given as options (since 2026-11-27 also the default for MTU 1500).
   */
  /** tsvs-v2 / tsvs-v3 / tsvs-mmsg: receive through a TPACKET_V2 ring, a TPACKET_V3 ring, or recvmmsg. */
  switch: 'tsvs' | 'tsvs-b64' | 'tsvs-b256' | 'tsvs-v2' | 'tsvs-v3' | 'tsvs-mmsg' | 'tsvs-offload' | 'ovs' | 'linux-bridge' | 'veth-floor';
  flows: number;
  pps: number;
  lossPct: number;
  cpuNsPerFrame: number | null;
  /** The user-space part of cpuNsPerFrame (the rest is system time: syscalls, veth transmit, softirqs run in the switch's context). */
  userNsPerFrame: number | null;
  /** The generator's CPU per frame sent (for the Linux bridge this is where the bridging is charged). */
  txNsPerFrame: number | null;
  /** Softirq time on CPU 1 (switch + receiver CPU; /proc/stat) per frame received: the receiving side's kernel path run inside the switch's sends. */
  softirqNsPerFrame: number;
  round: number;
  txPps: number;
  rxFrames: number;
  /** Frames the receiving counter's own ring dropped (loss at the receiver, not in the switch). */
  rxKernelDrops: number;
  busyPctBefore: number;
  load1: number;
}

type SwitchName = ForwardingRow['switch'];
const HERE = dirname(fileURLToPath(import.meta.url));
const SWITCH_JS = join(HERE, 'forwarding-switch.js');
const CLK_TCK = 100; // USER_HZ on Linux

function packageRoot(): string | null {
  let dir = HERE;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'build', 'Release'))) return dir;
    dir = dirname(dir);
  }
  return null;
}

function sh(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; allowFail?: boolean; timeoutMs?: number } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 30_000 });
  if ((r.status !== 0 || r.error) && !opts.allowFail)
    throw new Error(`${cmd} ${args.join(' ')}: ${r.error?.message ?? ''}${r.stderr ?? ''}`.trim());
  return r.stdout ?? '';
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** CPU busy over intervalMs, in % of one CPU (all CPUs summed). */
function busyPct(intervalMs: number): number {
  const read = () => readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const a = read();
  sleepMs(intervalMs);
  const b = read();
  const d = b.map((v, i) => v - a[i]);
  const total = d.reduce((s, v) => s + v, 0);
  const idle = d[3] + d[4];
  return total > 0 ? (100 * (total - idle) * cpus().length) / total : 0;
}

/** softirq ticks of one CPU (/proc/stat). */
function cpuSoftirqTicks(cpu: number): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith(`cpu${cpu} `));
  return line ? Number(line.trim().split(/\s+/)[7]) : NaN;
}

/** [utime, stime] in clock ticks of a whole process (all threads). */
function procCpuTicks(pid: number): [number, number] {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return [Number(f[11]), Number(f[12])]; // fields 14, 15
  } catch {
    return [NaN, NaN];
  }
}

class Lab {
  readonly tag = 'tsp' + randomBytes(3).toString('hex').slice(0, 5);
  readonly nsA = this.tag + 'A';
  readonly nsB = this.tag + 'B';
  readonly nsS = this.tag + 'S';
  readonly a0 = this.tag + 'a0';
  readonly a1 = this.tag + 'a1';
  readonly b0 = this.tag + 'b0';
  readonly b1 = this.tag + 'b1';
  /** Linux bridge and OVS bridge: distinct names (OVS's netdev bridge leaves a TAP of its name behind). */
  readonly br = this.tag + 'lb';
  readonly ovsBr = this.tag + 'ob';
  readonly tmp = mkdtempSync(`/tmp/${this.tag}-`);
  private children = new Set<ChildProcess>();
  private ovsOn = false;

  create(): void {
    for (const ns of [this.nsA, this.nsB, this.nsS]) {
      sh('ip', ['netns', 'add', ns]);
      sh('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
      sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    sh('ip', ['link', 'add', this.a1, 'netns', this.nsS, 'type', 'veth', 'peer', 'name', this.a0, 'netns', this.nsA]);
    sh('ip', ['link', 'add', this.b1, 'netns', this.nsS, 'type', 'veth', 'peer', 'name', this.b0, 'netns', this.nsB]);
    for (const [ns, i] of [[this.nsA, this.a0], [this.nsS, this.a1], [this.nsS, this.b1], [this.nsB, this.b0]]) {
      sh('ip', ['-n', ns, 'link', 'set', i, 'up']);
      // Same offload state for every switch (tsvs's system ports switch these off anyway).
      sh('ip', ['netns', 'exec', ns, 'ethtool', '-K', i, 'gro', 'off', 'gso', 'off', 'tso', 'off'], { allowFail: true });
    }
    // br_netfilter (if loaded) would send bridged IPv4 through iptables: off in ns S.
    sh('ip', ['netns', 'exec', this.nsS, 'sh', '-c', 'for f in /proc/sys/net/bridge/bridge-nf-call-*; do [ -e $f ] && echo 0 > $f; done; true']);
  }

  spawnIn(ns: string, cpu: number, cmd: string, args: string[], env?: NodeJS.ProcessEnv): ChildProcess {
    const c = spawn('taskset', ['-c', String(cpu), 'ip', 'netns', 'exec', ns, cmd, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: env ?? process.env,
    });
    this.children.add(c);
    c.on('exit', () => this.children.delete(c));
    return c;
  }

  runIn(ns: string, cpu: number, cmd: string, args: string[], timeoutMs = 60_000): string {
    return sh('taskset', ['-c', String(cpu), 'ip', 'netns', 'exec', ns, cmd, ...args], { timeoutMs });
  }

  // --- Linux bridge -------------------------------------------------------
  bridgeUp(): void {
    this.bridgeDown();
    sh('ip', ['-n', this.nsS, 'link', 'add', this.br, 'type', 'bridge']);
    sh('ip', ['-n', this.nsS, 'link', 'set', this.a1, 'master', this.br]);
    sh('ip', ['-n', this.nsS, 'link', 'set', this.b1, 'master', this.br]);
    sh('ip', ['-n', this.nsS, 'link', 'set', this.br, 'up']);
  }
  bridgeDown(): void {
    for (const l of [this.br, this.ovsBr]) sh('ip', ['-n', this.nsS, 'link', 'del', l], { allowFail: true });
  }

  // --- Open vSwitch (private ovsdb, netdev datapath, inside ns S) --------
  get ovsEnv(): NodeJS.ProcessEnv {
    const d = join(this.tmp, 'ovs');
    return {
      ...process.env,
      OVS_RUNDIR: join(d, 'run'),
      OVS_DBDIR: join(d, 'db'),
      OVS_LOGDIR: join(d, 'log'),
      OVS_SYSCONFDIR: join(d, 'etc'),
    };
  }
  ovsUp(): number {
    const env = this.ovsEnv;
    for (const k of ['OVS_RUNDIR', 'OVS_DBDIR', 'OVS_LOGDIR', 'OVS_SYSCONFDIR']) sh('mkdir', ['-p', env[k]!]);
    const db = join(env.OVS_DBDIR!, 'conf.db');
    rmSync(db, { force: true });
    sh('ovsdb-tool', ['create', db, '/usr/share/openvswitch/vswitch.ovsschema'], { env });
    this.ovsOn = true;
    const inS = ['-c', '1', 'ip', 'netns', 'exec', this.nsS];
    sh('taskset', [...inS, 'ovsdb-server', db, `--remote=punix:${env.OVS_RUNDIR}/db.sock`, `--pidfile=${env.OVS_RUNDIR}/ovsdb-server.pid`,
      '--detach', '--no-chdir', `--log-file=${env.OVS_LOGDIR}/ovsdb-server.log`], { env });
    sh('ovs-vsctl', ['--no-wait', 'init'], { env, timeoutMs: 10_000 });
    sh('ovs-vsctl', ['--no-wait', 'set', 'Open_vSwitch', '.', `other_config:pmd-cpu-mask=${process.env.FWD_OVS_PMD_MASK ?? '0x2'}`, 'other_config:flow-limit=200000'], { env });
    sh('taskset', [...inS, 'ovs-vswitchd', `unix:${env.OVS_RUNDIR}/db.sock`, `--pidfile=${env.OVS_RUNDIR}/ovs-vswitchd.pid`,
      '--detach', '--no-chdir', `--log-file=${env.OVS_LOGDIR}/ovs-vswitchd.log`], { env });
    sh('ovs-vsctl', ['--timeout=20', 'add-br', this.ovsBr, '--', 'set', 'bridge', this.ovsBr, 'datapath_type=netdev', 'fail_mode=secure',
      '--', 'add-port', this.ovsBr, this.a1, '--', 'set', 'Interface', this.a1, 'ofport_request=1',
      '--', 'add-port', this.ovsBr, this.b1, '--', 'set', 'Interface', this.b1, 'ofport_request=2'], { env, timeoutMs: 25_000 });
    return Number(readFileSync(join(env.OVS_RUNDIR!, 'ovs-vswitchd.pid'), 'utf8').trim());
  }
  ovsFlows(flows: number): void {
    const env = this.ovsEnv;
    sh('ovs-ofctl', ['del-flows', this.ovsBr], { env });
    sh('ovs-appctl', ['dpctl/del-flows'], { env, allowFail: true });
    const fwd = flows > 1 ? 'in_port=1,actions=multipath(symmetric_l4,0,hrw,16,0,NXM_NX_REG0[0..3]),output:2' : 'in_port=1,actions=output:2';
    sh('ovs-ofctl', ['add-flow', this.ovsBr, fwd], { env });
    sh('ovs-ofctl', ['add-flow', this.ovsBr, 'in_port=2,actions=output:1'], { env });
  }
  ovsDown(): void {
    if (!this.ovsOn) return;
    this.ovsOn = false;
    const env = this.ovsEnv;
    sh('ovs-vsctl', ['--timeout=5', 'del-br', this.ovsBr], { env, allowFail: true });
    sh('ovs-appctl', ['--timeout=5', '-t', 'ovs-vswitchd', 'exit', '--cleanup'], { env, allowFail: true });
    for (const d of ['ovs-vswitchd', 'ovsdb-server']) {
      const pidFile = join(env.OVS_RUNDIR!, `${d}.pid`);
      if (!existsSync(pidFile)) continue;
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        continue;
      }
      for (let i = 0; i < 50 && procAlive(pid); i++) sleepMs(100);
      if (procAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  }

  // --- tsvs -----------------------------------------------------------------
  tsvsUp(flows: number, profileDir: string | null, batch?: number, slotFrameMax?: number, rx?: string, offload = false): ChildProcess {
    const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
    const env: NodeJS.ProcessEnv = batch ? { ...process.env, FWD_TSVS_RXBATCH: String(batch), FWD_TSVS_TXBATCH: String(batch) } : { ...process.env };
    if (slotFrameMax) env.FWD_TSVS_SLOT = String(slotFrameMax);
    if (rx) env.FWD_TSVS_RX = rx;
    if (offload) env.FWD_TSVS_OFFLOAD = '1';
    const c = this.spawnIn(this.nsS, 1, process.execPath, [...nodeArgs, SWITCH_JS, '--mode', flows > 1 ? 'exact' : 'single', this.a1, this.b1], env);
    let out = '';
    c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    (c as ChildProcess & { output: () => string }).output = () => out;
    return c;
  }
  /** Wait until the switch says it attached both ports. */
  async tsvsReady(c: ChildProcess, timeoutMs: number): Promise<void> {
    const out = (c as ChildProcess & { output: () => string }).output;
    for (let t = 0; t < timeoutMs && !out().includes('forwarding-switch:'); t += 50) {
      if (c.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!out().includes('forwarding-switch:')) throw new Error(`tsvs switch did not start: ${out()}`);
  }
  async tsvsDown(c: ChildProcess): Promise<string> {
    if (c.exitCode === null) {
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (c.exitCode === null) c.kill('SIGKILL');
    }
    return (c as ChildProcess & { output: () => string }).output();
  }

  cleanup(): void {
    for (const c of this.children) c.kill('SIGKILL');
    this.ovsDown();
    for (const ns of [this.nsA, this.nsB, this.nsS]) sh('ip', ['netns', 'del', ns], { allowFail: true });
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

function procAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function waitQuiet(pct: number, maxSecs: number): number {
  let b = busyPct(500);
  for (let waited = 0; pct > 0 && b >= pct && waited < maxSecs * 2; waited++) b = busyPct(500);
  return b;
}

async function waitExit(c: ChildProcess, timeoutMs: number): Promise<void> {
  if (c.exitCode !== null) return;
  await Promise.race([new Promise((r) => c.once('exit', r)), new Promise((r) => setTimeout(r, timeoutMs))]);
}

interface MeasureOpts {
  blast: string;
  secs: number;
  warmSecs: number;
  quietPct: number;
  quietMaxSecs: number;
}

async function measure(lab: Lab, sw: SwitchName, flows: number, round: number, swPid: number | null, o: MeasureOpts): Promise<ForwardingRow> {
  // Let MAC-learning switches learn 02:..:0b behind B (4 broadcast frames).
  lab.runIn(lab.nsB, 1, o.blast, ['tx', '-i', lab.b0, '-n', '4', '-t', '1', '--smac', '02:00:00:00:00:0b', '--dmac', 'ff:ff:ff:ff:ff:ff']);
  // Warm-up: installs every flow (upcalls), JIT, caches. Not counted.
  lab.runIn(lab.nsA, 0, o.blast, ['tx', '-i', lab.a0, '-t', String(o.warmSecs), '-f', String(flows)]);
  sleepMs(300);
  const busyBefore = waitQuiet(o.quietPct, o.quietMaxSecs);
  const rx = lab.spawnIn(lab.nsB, 1, o.blast, ['rx', '-i', lab.b0, '-t', String(o.secs + 4), '-w', '0.7']);
  let rxOut = '';
  rx.stdout!.on('data', (d: Buffer) => (rxOut += d.toString()));
  await new Promise((r) => setTimeout(r, 300));
  const c0 = swPid !== null ? procCpuTicks(swPid) : [NaN, NaN];
  const si0 = cpuSoftirqTicks(1);
  // veth-floor: the generator itself takes the switch's place (ns S, B1, CPU 1).
  const txOut =
    sw === 'veth-floor'
      ? lab.runIn(lab.nsS, 1, o.blast, ['tx', '-i', lab.b1, '-t', String(o.secs), '-f', String(flows), '-b', '64'])
      : lab.runIn(lab.nsA, 0, o.blast, ['tx', '-i', lab.a0, '-t', String(o.secs), '-f', String(flows)]);
  const c1 = swPid !== null ? procCpuTicks(swPid) : [NaN, NaN];
  const si1 = cpuSoftirqTicks(1);
  await waitExit(rx, (o.secs + 6) * 1000);
  const tx = JSON.parse(txOut.trim().split('\n').pop()!) as { frames: number; pps: number; secs: number; cpuPct: number };
  const rxJson = JSON.parse(rxOut.trim().split('\n').pop() || '{"frames":0,"pps":0}') as { frames: number; pps: number; kernelDrops?: number };
  const userNs = ((c1[0] - c0[0]) / CLK_TCK) * 1e9;
  const cpuNs = userNs + ((c1[1] - c0[1]) / CLK_TCK) * 1e9;
  const perFrame = (ns: number): number | null =>
    swPid !== null && rxJson.frames > 0 && Number.isFinite(ns) ? Math.round(ns / rxJson.frames) : null;
  const row: ForwardingRow = {
    bench: 'forwarding',
    switch: sw,
    flows,
    pps: Math.round(rxJson.pps),
    lossPct: tx.frames > 0 ? Math.round((10000 * (tx.frames - rxJson.frames)) / tx.frames) / 100 : 0,
    cpuNsPerFrame: perFrame(cpuNs),
    userNsPerFrame: perFrame(userNs),
    txNsPerFrame: tx.frames > 0 ? Math.round(((tx.cpuPct / 100) * tx.secs * 1e9) / tx.frames) : null,
    softirqNsPerFrame: rxJson.frames > 0 ? Math.round((((si1 - si0) / CLK_TCK) * 1e9) / rxJson.frames) : NaN,
    round,
    txPps: Math.round(tx.pps),
    rxFrames: rxJson.frames,
    rxKernelDrops: rxJson.kernelDrops ?? 0,
    busyPctBefore: Math.round(busyBefore),
    load1: Math.round(loadavg()[0] * 100) / 100,
  };
  console.error(JSON.stringify(row));
  return row;
}

export async function runForwardingBench({ quick }: { quick: boolean }): Promise<ForwardingRow[]> {
  const root = packageRoot();
  const blast = root ? join(root, 'build', 'Release', 'tsvs-blast') : '';
  const skip = (why: string): ForwardingRow[] => {
    console.error(`forwarding bench skipped: ${why}`);
    return [];
  };
  if (process.getuid?.() !== 0) return skip('needs root (network namespaces, AF_PACKET)');
  if (!root || !existsSync(blast)) return skip('build/Release/tsvs-blast missing: run npm install');
  if (!existsSync(SWITCH_JS)) return skip(`${SWITCH_JS} missing: compile with tsc`);
  const env = process.env;
  const rounds = Number(env.FWD_ROUNDS ?? (quick ? 1 : 3));
  const o: MeasureOpts = {
    blast,
    secs: Number(env.FWD_SECS ?? (quick ? 2 : 5)),
    warmSecs: quick ? 0.5 : 1,
    quietPct: Number(env.FWD_QUIET_PCT ?? 25),
    quietMaxSecs: quick ? 1 : 8,
  };
  const flowCounts = (env.FWD_FLOWS ?? '1,10000').split(',').map(Number);
  let switches = (env.FWD_SWITCHES ?? 'veth-floor,linux-bridge,ovs,tsvs').split(',') as SwitchName[];
  if (switches.includes('ovs') && !which('ovs-vswitchd')) {
    console.error('forwarding bench: ovs-vswitchd not installed, OVS rows skipped');
    switches = switches.filter((s) => s !== 'ovs');
  }
  const profileDir = env.FWD_PROFILE ?? null;
  const lab = new Lab();
  const onSignal = (): void => {
    lab.cleanup();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const rows: ForwardingRow[] = [];
  try {
    lab.create();
    for (let round = 1; round <= rounds; round++) {
      // Rotate the order each round so slow drift of the machine's load hits every switch alike.
      const order = switches.map((_, i) => switches[(i + round - 1) % switches.length]);
      for (const sw of order) {
        if (sw === 'veth-floor') {
          rows.push(await measure(lab, sw, 1, round, null, o));
        } else if (sw === 'linux-bridge') {
          lab.bridgeUp();
          try {
            for (const f of flowCounts) rows.push(await measure(lab, sw, f, round, null, o));
          } finally {
            lab.bridgeDown();
          }
        } else if (sw === 'ovs') {
          try {
            const pid = lab.ovsUp();
            for (const f of flowCounts) {
              lab.ovsFlows(f);
              rows.push(await measure(lab, sw, f, round, pid, o));
            }
          } finally {
            lab.ovsDown();
          }
        } else {
          // tsvs-offload: one socket filter per input port holds ~100 flows; 10,000 stay in user space.
          for (const f of sw === 'tsvs-offload' ? flowCounts.filter((n) => n === 1) : flowCounts) {
            const c =
              sw === 'tsvs-b64'
                ? lab.tsvsUp(f, profileDir, 64, 9216)
                : sw === 'tsvs-v2' || sw === 'tsvs-v3' || sw === 'tsvs-mmsg'
                  ? lab.tsvsUp(f, profileDir, undefined, undefined, sw.slice(5))
                  : lab.tsvsUp(f, profileDir, sw === 'tsvs-b256' ? 256 : undefined, undefined, undefined, sw === 'tsvs-offload');
            try {
              await lab.tsvsReady(c, 10_000);
              rows.push(await measure(lab, sw, f, round, c.pid!, o));
            } finally {
              const out = await lab.tsvsDown(c);
              if (env.FWD_VERBOSE) console.error(out.trim());
            }
          }
        }
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    lab.cleanup();
  }
  printMedians(rows);
  return rows;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * CPU per frame the switch adds to the whole path, whoever is charged: the switch process's CPU per frame
 * (0 for the Linux bridge) plus the generator's CPU per frame, minus the generator's CPU per frame of the
 * same round's veth-floor (one veth hop into the counter's ring, no switch). Comparable across all three
 * switches: the bridge's work is charged to the generator, tsvs's and OVS's receive side too, and their
 * transmit side pays the counter's delivery, which the floor pays as well. null without a floor row.
 */
export function addedNsPerFrame(rows: ForwardingRow[], r: ForwardingRow): number | null {
  if (r.switch === 'veth-floor') return null;
  const floor = rows.find((x) => x.switch === 'veth-floor' && x.round === r.round);
  if (!floor || floor.txNsPerFrame === null || r.txNsPerFrame === null) return null;
  return (r.cpuNsPerFrame ?? 0) + r.txNsPerFrame - floor.txNsPerFrame;
}

function printMedians(rows: ForwardingRow[]): void {
  const keys = [...new Set(rows.map((r) => `${r.switch}@${r.flows}`))];
  console.error('\nmedians (pps, loss %, switch CPU ns/frame):');
  for (const k of keys) {
    const rs = rows.filter((r) => `${r.switch}@${r.flows}` === k);
    const med = (f: (r: ForwardingRow) => number | null): string => {
      const v = rs.map(f).filter((x): x is number => x !== null && Number.isFinite(x));
      return v.length ? String(median(v)) : '-';
    };
    console.error(
      `  ${k.padEnd(20)} ${String(median(rs.map((r) => r.pps))).padStart(9)} pps  loss ${median(rs.map((r) => r.lossPct)).toFixed(1)} %  cpu ${med((r) => r.cpuNsPerFrame)} (user ${med((r) => r.userNsPerFrame)}) ns/frame  tx ${med((r) => r.txNsPerFrame)}  softirq(cpu1) ${med((r) => r.softirqNsPerFrame)}  added ${med((r) => addedNsPerFrame(rows, r))}  (n=${rs.length})`,
    );
  }
}
