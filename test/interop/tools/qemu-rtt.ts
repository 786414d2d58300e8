// Ping RTT between two QEMU test guests (test/guests) through several switches,
// measured in one run with interleaved rounds, so that machine load drifts
// evenly over all of them. Root (TAPs, netns, the Linux bridge).
//
//   npx vite-node test/interop/tools/qemu-rtt.ts
//
// Environment:
//   RTT_ROUNDS=3        rounds; each round runs every config once, in order
//   RTT_PINGS=50        pings per measurement (0.2 s apart, after the first reply)
//   RTT_INTERVAL=0.2    seconds between pings
//   RTT_CONFIGS=bridge,stream,daemon-stream,daemon-tap
//       bridge          Linux bridge in a netns, the guests' TAPs enslaved
//       direct          no switch: A's QEMU listens on a stream socket, B's connects (the floor of a stream NIC)
//       socat           both QEMUs listen; socat (C, one process hop, no switching) relays the bytes: the floor of any
//                       user-space switch with stream ports (needs socat)
//       stream          tsvs Datapath in this process (learning switch), two `stream` ports
//       daemon-stream   tsvs-vswitchd (NORMAL), two `stream` ports
//       daemon-tap      tsvs-vswitchd (NORMAL), the guests' own TAPs as `system` ports
//       daemon-tap-offload  daemon-tap with other_config:hw-offload=true: cached flows forwarded by the kernel (tc)
//       NAME:k=v;k=v    any daemon-* config with extra Interface options, e.g. daemon-tap:rx_ring=false
//       NAME+fifo       daemon-*: the daemon's main thread under SCHED_FIFO 10 (chrt):
//                       an experiment on wake-up scheduling delay, not a recommendation
//   RTT_JSON=FILE       write every sample there
//   RTT_TRACE=1         config stream: time each StreamPort read (to the datapath, to the socket write, the write)
//   RTT_WARM=N          config stream: push N frames through the ports before the guests boot (JIT warm-up)
// Prints min/median/avg per measurement and per config (all samples pooled),
// and each config's pooled median over the bridge's.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Datapath } from '../../../datapath/dpif.js';
import { StreamPort } from '../../../datapath/ports/stream.js';
import { DaemonProcess, ensureBuilt, runTool } from '../../helpers/daemon.js';
import { learningSwitch } from '../../helpers/learning-switch.js';
import { QemuGuest, buildGuests } from '../../helpers/qemu-guest.js';
import { until } from '../../helpers/until.js';

const ROUNDS = Number(process.env.RTT_ROUNDS ?? 3);
const PINGS = Number(process.env.RTT_PINGS ?? 50);
const INTERVAL = process.env.RTT_INTERVAL ?? '0.2';
const CONFIGS = (process.env.RTT_CONFIGS ?? 'bridge,stream,daemon-stream,daemon-tap').split(',').filter(Boolean);
const BOOT_MS = 120_000;
const quiet = (): void => undefined;
const dir = mkdtempSync('/tmp/tsvs-rtt-');
const tag = `rt${randomBytes(2).toString('hex')}`;
let seq = 0;

interface Summary {
  min: number;
  median: number;
  avg: number;
  n: number;
}

function summarize(t: number[]): Summary {
  const s = [...t].sort((x, y) => x - y);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { min: s[0], median, avg: s.reduce((x, y) => x + y, 0) / s.length, n: s.length };
}

const f3 = (x: number): string => x.toFixed(3);

/** Boot B (serve) and A (ping B), return A's per-reply times in ms. netA/netB are boot.sh --net specs. */
async function measure(netA: string, netB: string, netns?: string, aFirst?: string, afterBoth?: () => void): Promise<number[]> {
  const n = ++seq;
  const mk = (name: string, net: string, ipLast: number, job: string): QemuGuest =>
    new QemuGuest({ name, net, ip: `10.9.0.${ipLast}/24`, mac: `52:54:00:09:00:0${ipLast}`, job, logFile: join(dir, `${name}.log`), lifeSec: 240, ...(netns ? { netns } : {}) });
  const aJob = `ping 10.9.0.2 ${PINGS} ${INTERVAL} , stop 10.9.0.2`;
  // aFirst: the socket A's QEMU listens on; B connects to it once it is there.
  const started: QemuGuest[] = [];
  try {
    const ga0 = aFirst ? mk(`A${n}`, netA, 1, aJob) : null;
    if (ga0) started.push(ga0);
    if (aFirst) await until('listening QEMU', 10_000, () => (existsSync(aFirst) ? true : undefined));
    const gb = mk(`B${n}`, netB, 2, 'serve');
    started.push(gb);
    const ga = ga0 ?? mk(`A${n}`, netA, 1, aJob);
    if (!ga0) started.push(ga);
    afterBoth?.();
    await ga.waitFor(new RegExp(`JOB-DONE A${n} rc=\\d+`), BOOT_MS + PINGS * Number(INTERVAL) * 1000 + 60_000);
    const m = /^PING-TIMES ([\d. ]*)$/m.exec(ga.output);
    if (!m || !/^PING-OK/m.test(ga.output)) throw new Error(`A${n}: ping failed:\n${ga.tail()}`);
    return m[1].trim().split(/\s+/).map(Number);
  } finally {
    await Promise.all(started.map((g) => g.kill()));
  }
}

function sh(cmd: string, ...args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function bridge(): Promise<number[]> {
  const ns = `${tag}ns${seq}`;
  sh('ip', 'netns', 'add', ns);
  try {
    const ip = (...a: string[]): string => sh('ip', '-n', ns, ...a);
    ip('link', 'add', 'br0', 'type', 'bridge');
    for (const t of ['tap0', 'tap1']) {
      ip('tuntap', 'add', 'dev', t, 'mode', 'tap');
      ip('link', 'set', t, 'master', 'br0');
      ip('link', 'set', t, 'up');
    }
    ip('link', 'set', 'br0', 'up');
    return await measure('tap:tap0', 'tap:tap1', ns);
  } finally {
    sh('ip', 'netns', 'del', ns);
  }
}

async function direct(): Promise<number[]> {
  const path = join(dir, `x${seq}.sock`);
  return measure(`stream-listen:${path}`, `stream:${path}`, undefined, path);
}

async function socat(): Promise<number[]> {
  const [a, b] = [join(dir, `r${seq}a.sock`), join(dir, `r${seq}b.sock`)];
  let relay: ChildProcess | null = null;
  try {
    return await measure(`stream-listen:${a}`, `stream-listen:${b}`, undefined, undefined, () => {
      const deadline = Date.now() + 10_000; // both QEMUs listen within that, or the ping fails
      const start = (): void => {
        if (existsSync(a) && existsSync(b)) relay = spawn('socat', ['-b', '65536', `UNIX-CONNECT:${a}`, `UNIX-CONNECT:${b}`], { stdio: 'ignore' });
        else if (Date.now() < deadline) setTimeout(start, 50);
      };
      start();
    });
  } finally {
    (relay as ChildProcess | null)?.kill('SIGKILL');
  }
}

const trace: number[] = [];
const tracePre: number[] = [];
const traceRx: number[] = [];
const traceWrite: number[] = [];
if (process.env.RTT_TRACE) {
  const proto = StreamPort.prototype as unknown as { onData: (...a: unknown[]) => void; write: (...a: unknown[]) => void };
  const onData = proto.onData;
  const write = proto.write;
  let t0 = 0n;
  proto.onData = function (this: unknown, ...a: unknown[]): void {
    t0 = process.hrtime.bigint();
    onData.apply(this, a);
    trace.push(Number(process.hrtime.bigint() - t0) / 1000);
  };
  const dproto = Datapath.prototype as unknown as { receive: (...a: unknown[]) => void };
  const receive = dproto.receive;
  dproto.receive = function (this: unknown, ...a: unknown[]): void {
    const t = process.hrtime.bigint();
    traceRx.push(Number(t - t0) / 1000);
    receive.apply(this, a);
  };
  proto.write = function (this: unknown, ...a: unknown[]): void {
    const t1 = process.hrtime.bigint();
    tracePre.push(Number(t1 - t0) / 1000);
    write.apply(this, a);
    traceWrite.push(Number(process.hrtime.bigint() - t1) / 1000);
  };
}

/** RTT_WARM=N: N ICMP-sized frames each way through two fake QEMU connections, so the JIT has optimized the path. */
async function warmUp(pa: string, pb: string, n: number): Promise<void> {
  const frame = (src: number, dst: number): Buffer => {
    const f = Buffer.alloc(4 + 98);
    f.writeUInt32BE(98, 0);
    Buffer.from([0x52, 0x54, 0, 0x0a, 0, dst, 0x52, 0x54, 0, 0x0a, 0, src, 0x08, 0x00, 0x45]).copy(f, 4);
    return f;
  };
  const [ca, cb] = await Promise.all([pa, pb].map((p) => new Promise<net.Socket>((r) => { const c = net.createConnection(p, () => r(c)); })));
  let got = 0;
  const done = new Promise<void>((r) => cb.on('data', (d: Buffer) => { got += d.length; if (got >= n * 102) r(); }));
  ca.on('data', () => undefined);
  cb.write(frame(2, 1)); // B's MAC is learned: A's frames go to B only
  await new Promise((r) => setTimeout(r, 50));
  const fa = frame(1, 2);
  for (let i = 0; i < n; i++) {
    ca.write(fa);
    if (i % 64 === 63) await new Promise((r) => setImmediate(r));
  }
  await Promise.race([done, new Promise((r) => setTimeout(r, 20_000))]);
  ca.destroy();
  cb.destroy();
  await new Promise((r) => setTimeout(r, 100));
}

async function stream(): Promise<number[]> {
  const dp = new Datapath({ name: `rtt${seq}` });
  dp.setUpcallHandler(learningSwitch(dp));
  const a = new StreamPort('qa', { path: join(dir, `s${seq}a.sock`), log: quiet });
  const b = new StreamPort('qb', { path: join(dir, `s${seq}b.sock`), log: quiet });
  await dp.addPort(a);
  await dp.addPort(b);
  await dp.start();
  const warm = Number(process.env.RTT_WARM ?? 0);
  if (warm > 0) await warmUp(a.path, b.path, warm);
  for (const t of [trace, tracePre, traceWrite, traceRx]) t.length = 0;
  try {
    return await measure(`stream:${a.path}`, `stream:${b.path}`);
  } finally {
    await dp.stop();
  }
}

/** tsvs-vswitchd with one bridge; kind stream (tsvs listens) or tap (QEMU's TAPs as system ports); opts: extra Interface options. */
async function daemon(kind: 'stream' | 'tap', opts: string[], hwOffload = false): Promise<number[]> {
  const d = new DaemonProcess();
  d.internalDevices = true;
  const br = `${tag}b${seq}`;
  const vsctl = async (...args: string[]): Promise<string> => {
    const r = await runTool('tsvs-vsctl', ['--timeout=20', ...args], d.rundir);
    if (r.code !== 0) throw new Error(`tsvs-vsctl ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  await d.start();
  if (fifoNext) fifo(d.proc!.pid!);
  if (hwOffload) await vsctl('set', 'Open_vSwitch', '.', 'other_config:hw-offload=true');
  try {
    const [pa, pb] = [`${br}a`, `${br}b`];
    const set = (p: string, extra: string[]): string[] => ['--', 'set', 'Interface', p, ...extra, ...opts.map((o) => `options:${o}`)];
    if (kind === 'stream') {
      const [sa, sb] = [join(dir, `d${seq}a.sock`), join(dir, `d${seq}b.sock`)];
      await vsctl('add-br', br, '--', 'add-port', br, pa, ...set(pa, ['type=stream', `options:path=${sa}`]), '--', 'add-port', br, pb, ...set(pb, ['type=stream', `options:path=${sb}`]));
      await until('stream sockets', 10_000, () => (existsSync(sa) && existsSync(sb) ? true : undefined));
      return await measure(`stream:${sa}`, `stream:${sb}`);
    }
    await vsctl('add-br', br, '--', 'add-port', br, pa, ...(opts.length ? set(pa, []) : []), '--', 'add-port', br, pb, ...(opts.length ? set(pb, []) : []));
    return await measure(`tap:${pa}`, `tap:${pb}`);
  } finally {
    await d.kill('SIGTERM');
    rmSync(d.dir, { recursive: true, force: true });
  }
}

let fifoNext = false;

function fifo(pid: number): void {
  sh('chrt', '-f', '-p', '10', String(pid));
}

async function runConfig(c: string): Promise<number[]> {
  const fifoOn = c.endsWith('+fifo');
  const [name, optText] = (fifoOn ? c.slice(0, -5) : c).split(':');
  if (fifoOn && !name.startsWith('daemon-')) throw new Error(`${c}: +fifo is for daemon-* configs (QEMU started from a FIFO process inherits the policy)`);
  fifoNext = fifoOn;
  const opts = optText ? optText.split(';') : [];
  if (name === 'bridge') return bridge();
  if (name === 'stream') return stream();
  if (name === 'direct') return direct();
  if (name === 'socat') return socat();
  if (name === 'daemon-stream') return daemon('stream', opts);
  if (name === 'daemon-tap') return daemon('tap', opts);
  if (name === 'daemon-tap-offload') return daemon('tap', opts, true);
  throw new Error(`unknown config ${c}`);
}

async function main(): Promise<void> {
  buildGuests();
  ensureBuilt();
  const samples = new Map<string, number[][]>(CONFIGS.map((c) => [c, []]));
  const start = new Date().toISOString();
  const load0 = loadavg();
  console.log(`qemu-rtt ${start}: ${ROUNDS} rounds x ${CONFIGS.join(', ')}; ${PINGS} pings ${INTERVAL} s apart; load ${load0.map((l) => l.toFixed(2)).join(' ')}`);
  try {
    for (let r = 1; r <= ROUNDS; r++) {
      for (const c of CONFIGS) {
        const t = await runConfig(c);
        samples.get(c)!.push(t);
        const s = summarize(t);
        console.log(`  round ${r} ${c.padEnd(28)} min/median/avg ${f3(s.min)}/${f3(s.median)}/${f3(s.avg)} ms (${s.n})  load1 ${loadavg()[0].toFixed(2)}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const base = samples.has('bridge') ? summarize(samples.get('bridge')!.flat()) : null;
  console.log(`pooled (${new Date().toISOString()}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}):`);
  for (const [c, runs] of samples) {
    const s = summarize(runs.flat());
    const medians = runs.map((t) => f3(summarize(t).median)).join(' ');
    const ratio = base ? `  median/bridge ${(s.median / base.median).toFixed(2)}  avg/bridge ${(s.avg / base.avg).toFixed(2)}` : '';
    console.log(`  ${c.padEnd(28)} min/median/avg ${f3(s.min)}/${f3(s.median)}/${f3(s.avg)} ms (${s.n}; round medians ${medians})${ratio}`);
  }
  for (const [what, tr] of [['read to write returned', trace], ['read to datapath receive', traceRx], ['read to write called', tracePre], ['socket write', traceWrite]] as const) {
    if (tr.length === 0) continue;
    const t = summarize(tr);
    const p90 = [...tr].sort((x, y) => x - y)[Math.floor(tr.length * 0.9)];
    console.log(`  stream port, ${what} (us): min/median/avg/p90 ${t.min.toFixed(1)}/${t.median.toFixed(1)}/${t.avg.toFixed(1)}/${p90.toFixed(1)} (${t.n})`);
  }
  if (process.env.RTT_JSON) writeFileSync(process.env.RTT_JSON, JSON.stringify({ start, load0, pings: PINGS, interval: INTERVAL, samples: Object.fromEntries(samples) }, null, 1));
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
