// Flow-mod rate against real tooling: how long `ovs-ofctl -O OpenFlow13
// --no-names add-flows` takes to push N flows (distinct nw_dst; 100,000, or
// 10,000 with --quick) over TCP into
//   - a tsvs OpenFlowBridge running in this process (ptcp:0:127.0.0.1), and
//   - a private Open vSwitch (own ovsdb-server + ovs-vswitchd, OVS_RUNDIR/
//     OVS_DBDIR/OVS_LOGDIR in a temp dir, own network namespace; bridge with
//     datapath_type=netdev, protocols=OpenFlow13, controller ptcp:PORT:127.0.0.1).
// ovs-ofctl sends every FLOW_MOD then a barrier, so the time includes
// installing them all. Process start of ovs-ofctl (and for OVS, of
// `ip netns exec`) is included in both. Needs root for the namespace; the
// OVS case is skipped (with a note) when it cannot run.
//
// Wall time depends on how busy the machine is (each flow is a FLOW_MOD +
// BARRIER round trip, so both processes must be scheduled 100,000 times), so
// the cases run interleaved `--repeat` times (default 3) and the medians are
// reported, and beside them the CPU time each switch process spent: this
// process's for tsvs, ovs-vswitchd's (all its threads, from /proc) for OVS.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { OpenFlowBridge } from '../ofproto/bridge.js';

interface Row {
  bench: 'flowmod';
  switch: 'tsvs' | 'ovs';
  /** 'median' for the summary rows, else the repetition (1-based). */
  run: number | 'median';
  flows: number;
  seconds: number;
  flowsPerSec: number;
  /** CPU seconds of the switch process while ovs-ofctl ran. */
  cpuSeconds: number;
  /** Flows per CPU second of the switch process. */
  flowsPerCpuSec: number;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 600_000): Promise<{ stdout: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve({ stdout, ms: performance.now() - t0 });
    });
  });
}

function flowFile(dir: string, n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(`priority=5,ip,nw_dst=10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255},actions=drop`);
  const file = join(dir, `flows-${n}.txt`);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

function row(sw: 'tsvs' | 'ovs', run: number, flows: number, ms: number, cpuMs: number): Row {
  const seconds = ms / 1000;
  const cpuSeconds = cpuMs / 1000;
  return {
    bench: 'flowmod',
    switch: sw,
    run,
    flows,
    seconds: Math.round(seconds * 1000) / 1000,
    flowsPerSec: Math.round(flows / seconds),
    cpuSeconds: Math.round(cpuSeconds * 1000) / 1000,
    flowsPerCpuSec: Math.round(flows / cpuSeconds),
  };
}

/** CPU milliseconds (user + system, all threads) of a process, from /proc/PID/stat. */
function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function benchTsvs(dir: string, file: string, n: number, runNo: number): Promise<Row> {
  const br = new OpenFlowBridge({ name: 'br-bench', rundir: dir, failMode: 'secure', services: ['ptcp:0:127.0.0.1'], ofprotoOptions: { maxRulesPerTable: Math.max(n * 2, 100_000) } });
  try {
    await br.start();
    const tcp = `tcp:127.0.0.1:${br.boundPort('ptcp:0:127.0.0.1')}`;
    const cpu0 = selfCpuMs();
    const r = await run('ovs-ofctl', ['-O', 'OpenFlow13', '--no-names', 'add-flows', tcp, file]);
    const cpuMs = selfCpuMs() - cpu0;
    const got = br.ofproto.tables.ruleCount;
    if (got !== n) throw new Error(`tsvs: ${got} flows installed, expected ${n}`);
    return row('tsvs', runNo, n, r.ms, cpuMs);
  } finally {
    await br.stop();
  }
}

/** A private Open vSwitch in its own namespace and directory; stop() kills what it started and removes both. */
class PrivateOvs {
  readonly ns = `tsvs-bench-${process.pid}`;
  readonly env: NodeJS.ProcessEnv;
  readonly db: string;
  private readonly procs: ChildProcess[] = [];
  /** ovs-vswitchd's pid (`ip netns exec` execs it in place). */
  vswitchdPid = 0;
  private nsCreated = false;

  constructor(readonly dir: string) {
    this.env = { OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir, OVS_SYSCONFDIR: dir, OVS_PKGDATADIR: '/usr/share/openvswitch' };
    this.db = `unix:${join(dir, 'db.sock')}`;
  }

  private daemon(args: string[]): ChildProcess {
    const p = spawn('ip', ['netns', 'exec', this.ns, ...args], { env: { ...process.env, ...this.env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    p.on('exit', (code) => {
      if (code !== 0 && code !== null) process.stderr.write(`${args[0]} exited ${code}: ${err}\n`);
    });
    this.procs.push(p);
    return p;
  }

  async start(): Promise<void> {
    execFileSync('ip', ['netns', 'add', this.ns]);
    this.nsCreated = true;
    execFileSync('ip', ['netns', 'exec', this.ns, 'ip', 'link', 'set', 'lo', 'up']);
    const d = this.dir;
    execFileSync('ovsdb-tool', ['create', join(d, 'conf.db'), '/usr/share/openvswitch/vswitch.ovsschema']);
    this.daemon(['ovsdb-server', join(d, 'conf.db'), `--remote=punix:${join(d, 'db.sock')}`, `--unixctl=${join(d, 'ovsdb-server.ctl')}`, `--log-file=${join(d, 'ovsdb-server.log')}`, '-vconsole:off']);
    await this.waitFor(() => this.vsctl(['--no-wait', 'init']), 'ovsdb-server');
    this.vswitchdPid = this.daemon(['ovs-vswitchd', this.db, `--unixctl=${join(d, 'ovs-vswitchd.ctl')}`, `--log-file=${join(d, 'ovs-vswitchd.log')}`, '-vconsole:off']).pid ?? 0;
  }

  async vsctl(args: string[]): Promise<string> {
    return (await run('ovs-vsctl', [`--db=${this.db}`, '--timeout=20', ...args], this.env, 30_000)).stdout;
  }

  ofctl(args: string[]): Promise<{ stdout: string; ms: number }> {
    return run('ip', ['netns', 'exec', this.ns, 'ovs-ofctl', ...args], this.env);
  }

  private async waitFor(fn: () => Promise<unknown>, what: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        await fn();
        return;
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`${what} did not come up: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** Waits until `target` accepts an OpenFlow connection (ovs-vswitchd has applied the bridge). */
  async waitForOpenFlow(target: string): Promise<void> {
    await this.waitFor(() => this.ofctl(['-O', 'OpenFlow13', 'show', target]), 'the bridge');
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            const t = setTimeout(() => p.kill('SIGKILL'), 3000);
            p.once('exit', () => (clearTimeout(t), resolve()));
            p.kill('SIGTERM');
          }),
      ),
    );
    if (this.nsCreated) {
      try {
        execFileSync('ip', ['netns', 'del', this.ns]);
      } catch {
        /* already gone */
      }
    }
  }
}

async function benchOvs(dir: string, file: string, n: number, port: number, runNo: number): Promise<Row> {
  const ovs = new PrivateOvs(dir);
  // Interrupted: still kill the daemons and delete the namespace and directory.
  const onSignal = (sig: NodeJS.Signals): void => {
    void ovs.stop().finally(() => {
      rmSync(dirname(dir), { recursive: true, force: true }); // the run's temp dir (flows file and this one)
      process.kill(process.pid, sig);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await ovs.start();
    const target = `ptcp:${port}:127.0.0.1`;
    await ovs.vsctl(['add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=netdev', 'protocols=OpenFlow13', 'fail_mode=secure', '--', 'set-controller', 'br0', target]);
    const tcp = `tcp:127.0.0.1:${port}`;
    await ovs.waitForOpenFlow(tcp);
    const comm = readFileSync(`/proc/${ovs.vswitchdPid}/comm`, 'utf8').trim();
    if (comm !== 'ovs-vswitchd') throw new Error(`ovs: pid ${ovs.vswitchdPid} is ${comm}, not ovs-vswitchd`);
    const cpu0 = procCpuMs(ovs.vswitchdPid);
    const r = await ovs.ofctl(['-O', 'OpenFlow13', '--no-names', 'add-flows', tcp, file]);
    const cpuMs = procCpuMs(ovs.vswitchdPid) - cpu0;
    const agg = (await ovs.ofctl(['-O', 'OpenFlow13', 'dump-aggregate', tcp])).stdout;
    const got = Number(/flow_count=(\d+)/.exec(agg)?.[1] ?? -1);
    if (got !== n) throw new Error(`ovs: ${got} flows installed, expected ${n}: ${agg}`);
    return row('ovs', runNo, n, r.ms, cpuMs);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await ovs.stop();
  }
}

function canRunOvs(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (a network namespace is needed)';
  for (const c of ['ovsdb-server', 'ovs-vswitchd', 'ovsdb-tool', 'ovs-vsctl', 'ip']) {
    try {
      execFileSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' });
    } catch {
      return `${c} not found`;
    }
  }
  return undefined;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function medianRow(rows: Row[]): Row {
  const seconds = median(rows.map((r) => r.seconds));
  const cpuSeconds = median(rows.map((r) => r.cpuSeconds));
  const flows = rows[0]!.flows;
  return {
    bench: 'flowmod',
    switch: rows[0]!.switch,
    run: 'median',
    flows,
    seconds,
    flowsPerSec: Math.round(flows / seconds),
    cpuSeconds,
    flowsPerCpuSec: Math.round(flows / cpuSeconds),
  };
}

export async function runFlowmodBench(o: { quick: boolean; repeat?: number }): Promise<Row[]> {
  const n = o.quick ? 10_000 : 100_000;
  const repeat = o.repeat ?? Number(process.env.FLOWMOD_REPEAT ?? 3);
  const dir = mkdtempSync(join(tmpdir(), 'tsvs-flowmod-'));
  const rows: Row[] = [];
  try {
    const file = flowFile(dir, n);
    const why = canRunOvs();
    if (why !== undefined) process.stderr.write(`flowmod: skipping Open vSwitch: ${why}\n`);
    for (let i = 1; i <= repeat; i++) {
      rows.push(await benchTsvs(dir, file, n, i));
      if (why === undefined) {
        const ovsDir = mkdtempSync(join(dir, 'ovs-'));
        // Any port will do: the namespace is ours alone.
        rows.push(await benchOvs(ovsDir, file, n, 6653, i));
        rmSync(ovsDir, { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const summary: Row[] = [];
  for (const sw of ['tsvs', 'ovs'] as const) {
    const mine = rows.filter((r) => r.switch === sw);
    if (mine.length > 0) summary.push(medianRow(mine));
  }
  return [...rows, ...summary];
}
