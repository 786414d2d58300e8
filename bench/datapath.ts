// bench/datapath: frames/s through the datapath fast path on one core, in
// process, 64-byte UDP frames: (a) EMC hits, (b) megaflow hits with the EMC
// disabled, (c) miss -> upcall -> install; at several flow and mask counts.
// Beside them, in the same run, the JS ceiling: a loop that copies each frame
// into the batch (as a port's receive does) and only reads its headers.

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Datapath } from '../datapath/dpif.js';
import {
  KEY_WORDS,
  W_ETH_TYPE,
  W_IN_PORT,
  W_NW_DST,
  W_NW_PROTO_TOS_TTL_FRAG,
  W_NW_SRC,
  W_TP_PORTS,
} from '../datapath/flow/key.js';
import { BATCH_MAX, PacketBatch } from '../datapath/packet-batch.js';
import { newPortStats, type Port, type RxSink } from '../datapath/ports/port.js';

export interface DatapathBenchRow {
  bench: 'datapath';
  case: 'ceiling' | 'emc-hit' | 'megaflow-hit' | 'upcall-install';
  flows: number;
  masks: number;
  mpps: number;
  ceilingMpps: number;
  /** Average classifier subtables searched per lookup (megaflow cases). */
  masksPerPacket?: number;
}

const FRAME_BYTES = 64;

/** A port that only counts what it is given: the bench measures the datapath, not I/O. */
class CountingPort implements Port {
  readonly type = 'bench';
  portNo = 0;
  readonly stats = newPortStats();
  readonly carrier = true;
  readonly mtu = 1500;
  readonly mac = new Uint8Array(6);
  constructor(readonly name: string) {}
  start(_sink: RxSink): void {}
  send(_buf: Uint8Array, _off: number, len: number): void {
    this.stats.txPackets++;
    this.stats.txBytes += len;
  }
  flush(): void {}
  stop(): void {}
}

/** 64-byte Ethernet/IPv4/UDP frames; frame f has tp_src = f % masks (its mask id) and a unique nw_dst. */
function buildFrames(count: number, masks: number): Buffer {
  const all = Buffer.alloc(count * FRAME_BYTES);
  for (let f = 0; f < count; f++) {
    const o = f * FRAME_BYTES;
    all.set([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00], o);
    const ip = o + 14;
    all[ip] = 0x45;
    all.writeUInt16BE(FRAME_BYTES - 14, ip + 2);
    all[ip + 8] = 64;
    all[ip + 9] = 17;
    all.writeUInt32BE(0xc0a80001 + (f % 251), ip + 12);
    all.writeUInt32BE((0x0a000000 + f) >>> 0, ip + 16);
    const udp = ip + 20;
    all.writeUInt16BE(f % masks, udp);
    all.writeUInt16BE(4789, udp + 2);
    all.writeUInt16BE(FRAME_BYTES - 34, udp + 4);
  }
  return all;
}

/**
 * Mask m of a family of distinct, non-overlapping masks: every mask matches
 * in_port, eth_type, proto, nw_dst and tp_src (the mask id) exactly, and they
 * differ in the nw_src prefix length and the tos bits they look at.
 */
function benchMask(m: number): Uint32Array {
  const mask = new Uint32Array(KEY_WORDS);
  mask[W_IN_PORT] = 0xffffffff;
  mask[W_ETH_TYPE] = 0xffff;
  mask[W_NW_DST] = 0xffffffff;
  const prefix = m % 33;
  mask[W_NW_SRC] = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const tos = [0, 0xfc, 0x03, 0xff][Math.floor(m / 33) % 4];
  mask[W_NW_PROTO_TOS_TTL_FRAG] = (0xff000000 | (tos << 16)) >>> 0;
  mask[W_TP_PORTS] = 0xffff0000;
  return mask;
}

interface RunResult {
  mpps: number;
  masksPerPacket: number;
}

/** Feed frames through `process` in batches for about `seconds`; returns frames/s in millions. */
function drive(frames: Buffer, count: number, seconds: number, step: (b: PacketBatch) => void): number {
  const batch = new PacketBatch(BATCH_MAX);
  let f = 0;
  let done = 0;
  const run = (n: number) => {
    for (let k = 0; k < n; k++) {
      batch.clear();
      for (let i = 0; i < BATCH_MAX; i++) {
        batch.push(frames, f * FRAME_BYTES, FRAME_BYTES);
        if (++f === count) f = 0;
      }
      step(batch);
    }
    done += n * BATCH_MAX;
  };
  run(2000); // warm-up: let the JIT settle
  done = 0;
  const start = process_hrtime();
  const cpu0 = process.cpuUsage();
  let elapsed = 0;
  while (elapsed < seconds) {
    run(500);
    elapsed = Number(process_hrtime() - start) / 1e9;
  }
  return done / cpuSeconds(cpu0) / 1e6;
}

const process_hrtime = () => process.hrtime.bigint();

/**
 * CPU seconds this process used since `from`. Rates are frames per CPU second
 * of the (single-threaded) process: on a shared machine wall-clock rates
 * measure the neighbours, CPU time measures the code.
 */
function cpuSeconds(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1e6;
}

/** Pass each of the first `count` frames through the datapath once, in batches. */
function installAll(dp: Datapath, frames: Buffer, count: number): void {
  const batch = new PacketBatch(BATCH_MAX);
  for (let f = 0; f < count; ) {
    batch.clear();
    for (let i = 0; i < BATCH_MAX && f < count; i++, f++) batch.push(frames, f * FRAME_BYTES, FRAME_BYTES);
    dp.receive(1, batch);
  }
}

function ceiling(frames: Buffer, count: number, seconds: number): number {
  let sink = 0;
  const mpps = drive(frames, count, seconds, (b) => {
    const buf = b.buf;
    for (let i = 0; i < b.count; i++) {
      const o = b.off[i];
      // Ethertype, IPv4 source/destination, protocol and ports: what a key needs.
      sink += ((buf[o + 12] << 8) | buf[o + 13]) ^ buf[o + 23];
      sink ^= (buf[o + 26] << 24) | (buf[o + 27] << 16) | (buf[o + 28] << 8) | buf[o + 29];
      sink ^= (buf[o + 30] << 24) | (buf[o + 31] << 16) | (buf[o + 32] << 8) | buf[o + 33];
      sink ^= (buf[o + 34] << 24) | (buf[o + 35] << 16) | (buf[o + 36] << 8) | buf[o + 37];
    }
  });
  if (sink === 0.5) console.log(sink); // keep the loop observable
  return mpps;
}

async function hitCase(flows: number, masks: number, emc: boolean, seconds: number): Promise<RunResult> {
  const dp = new Datapath({ emcEntries: emc ? 8192 : 0, flowLimit: Math.max(200_000, flows * 2) });
  const inPort = new CountingPort('in');
  const out = new CountingPort('out');
  await dp.addPort(inPort, 1);
  await dp.addPort(out, 2);
  const frames = buildFrames(flows, masks);
  const maskList = Array.from({ length: masks }, (_, m) => benchMask(m));
  dp.setUpcallHandler({
    miss: (_inPort, key) => ({ actions: [{ type: 'output', port: 2 }], mask: maskList[(key[W_TP_PORTS] >>> 16) % masks] }),
  });
  // Install every flow through the upcall path once.
  installAll(dp, frames, flows);
  if (dp.stats.flows !== flows) throw new Error(`bench setup: ${dp.stats.flows} flows installed, expected ${flows}`);
  const cls = dp.cache.classifier;
  cls.resetCounters();
  const mpps = drive(frames, flows, seconds, (b) => dp.receive(1, b));
  const lookups = cls.lookups;
  const searched = cls.subtablesSearched;
  await dp.stop();
  return { mpps, masksPerPacket: lookups > 0 ? searched / lookups : 0 };
}

async function upcallCase(masks: number, seconds: number): Promise<number> {
  const total = 1 << 17;
  const dp = new Datapath({ flowLimit: total + 1 });
  await dp.addPort(new CountingPort('in'), 1);
  await dp.addPort(new CountingPort('out'), 2);
  const frames = buildFrames(total, masks);
  const maskList = Array.from({ length: masks }, (_, m) => benchMask(m));
  const actions = [{ type: 'output' as const, port: 2 }];
  dp.setUpcallHandler({ miss: (_p, key) => ({ actions, mask: maskList[(key[W_TP_PORTS] >>> 16) % masks] }) });
  let installed = 0;
  let cpu = 0;
  for (let round = 0; cpu < seconds || round < 2; round++) {
    dp.flowFlush();
    const cpu0 = process.cpuUsage();
    installAll(dp, frames, total);
    if (round > 0) {
      cpu += cpuSeconds(cpu0);
      installed += dp.stats.flows;
    }
  }
  await dp.stop();
  return installed / cpu / 1e6;
}

interface CaseSpec {
  kind: 'ceiling' | 'emc-hit' | 'megaflow-hit' | 'upcall-install';
  flows: number;
  masks: number;
  seconds: number;
}

/** Run one case in this process (the forked child does this). */
export async function runCase(spec: CaseSpec): Promise<RunResult> {
  switch (spec.kind) {
    case 'ceiling':
      return { mpps: ceiling(buildFrames(spec.flows, 1), spec.flows, spec.seconds), masksPerPacket: 0 };
    case 'emc-hit':
      return hitCase(spec.flows, spec.masks, true, spec.seconds);
    case 'megaflow-hit':
      return hitCase(spec.flows, spec.masks, false, spec.seconds);
    case 'upcall-install':
      return { mpps: await upcallCase(spec.masks, spec.seconds), masksPerPacket: 0 };
  }
}

/** Each case runs in a fresh Node process so one case's JIT state cannot slow (or speed) another. */
function runForked(spec: CaseSpec): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--case', JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`bench case ${JSON.stringify(spec)} exited with ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()!) as RunResult);
    });
  });
}

export async function runDatapathBench(opts: { quick: boolean }): Promise<DatapathBenchRow[]> {
  const seconds = opts.quick ? 0.3 : 2;
  const flowCounts = [1, 1000, 100_000];
  const maskCounts = [1, 10, 100];
  const rows: DatapathBenchRow[] = [];
  const ceil = (await runForked({ kind: 'ceiling', flows: 1000, masks: 0, seconds })).mpps;
  rows.push({ bench: 'datapath', case: 'ceiling', flows: 1000, masks: 0, mpps: ceil, ceilingMpps: ceil });
  for (const flows of flowCounts) {
    for (const masks of maskCounts) {
      if (masks > flows) continue;
      for (const kind of ['emc-hit', 'megaflow-hit'] as const) {
        const r = await runForked({ kind, flows, masks, seconds });
        rows.push({ bench: 'datapath', case: kind, flows, masks, mpps: r.mpps, ceilingMpps: ceil, masksPerPacket: r.masksPerPacket });
      }
    }
  }
  for (const masks of maskCounts) {
    const r = await runForked({ kind: 'upcall-install', flows: 1 << 17, masks, seconds });
    rows.push({ bench: 'datapath', case: 'upcall-install', flows: 1 << 17, masks, mpps: r.mpps, ceilingMpps: ceil });
  }
  return rows;
}

// Child mode: `node dist/bench/datapath.js --case JSON` prints one JSON result.
if (process.argv[2] === '--case' && process.argv[1] === fileURLToPath(import.meta.url)) {
  runCase(JSON.parse(process.argv[3]) as CaseSpec)
    .then((r) => {
      console.log(JSON.stringify(r));
      process.exit(0);
    })
    .catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
}
