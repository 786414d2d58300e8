// The tc offload's bookkeeping with a fake tc: command lines, ordering of tc
// filter and socket filter, stats credited from tc, cleanup, and the failure
// paths (tc missing, cls_bpf missing, socket filter refused) that must leave
// flows in user space with one warning.
import { describe, expect, it } from 'vitest';
import { Datapath } from '../../../../datapath/dpif.js';
import * as K from '../../../../datapath/flow/key.js';
import { runCbpf, type CbpfInsn } from '../../../../datapath/offload/cbpf.js';
import { parseTcFilterStats, tcFilterAddArgs } from '../../../../datapath/offload/tc-command.js';
import { TcRunner, type TcResult } from '../../../../datapath/offload/tc-runner.js';
import { newPortStats, type Port, type RxSink } from '../../../../datapath/ports/port.js';
import { extractFlow } from '../../../../datapath/flow/extract.js';
import { eth, icmp4, ipv4 } from '../../../helpers/frames.js';

class FakeSystemPort implements Port {
  type = 'system';
  portNo = 0;
  readonly stats = newPortStats();
  readonly carrier = true;
  readonly mtu = 1500;
  readonly mac = new Uint8Array(6);
  filter: Uint8Array | null = null;
  log: string[];
  refuseFilter = false;
  constructor(
    readonly name: string,
    log: string[],
  ) {
    this.log = log;
  }
  start(_sink: RxSink): void {}
  send(): void {}
  flush(): void {}
  stop(): void {}
  setSocketFilter(prog: Uint8Array | null): void {
    if (this.refuseFilter) throw new Error('EOPNOTSUPP');
    this.filter = prog;
    this.log.push(`sockfilter ${this.name} ${prog === null ? 'none' : prog.length / 8}`);
  }
}

function fakeTc(log: string[], answer: (args: readonly string[]) => Partial<TcResult> = () => ({}), all?: string[]) {
  return new TcRunner({
    ratePerSec: 0,
    exec: async (args) => {
      all?.push(args.join(' '));
      log.push(`tc ${args.slice(0, 2).join(' ')} ${args[3]}${args.includes('handle') ? ` h${args[args.indexOf('handle') + 1]}` : ''}`);
      return { ok: true, stdout: '', error: '', missing: false, ...answer(args) };
    },
  });
}

const A = [2, 0, 0, 0, 0, 1];
const B = [2, 0, 0, 0, 0, 2];
const ping = Uint8Array.from([...eth(B, A, 0x0800), ...ipv4('10.0.0.1', '10.0.0.2', 1, icmp4(8, 0))]);

function l2Mask(): Uint32Array {
  const m = K.newKey();
  m[K.W_IN_PORT] = 0xffffffff;
  m[K.W_ETH_DST_HI] = 0xffff;
  m[K.W_ETH_DST_LO] = 0xffffffff;
  m[K.W_VLAN0] = 0xffffffff;
  return m;
}

async function setup(answer?: (args: readonly string[]) => Partial<TcResult>, port3Type = 'system') {
  const log: string[] = [];
  const warnings: string[] = [];
  const all: string[] = [];
  const tc = fakeTc(log, answer, all);
  const dp = new Datapath({ name: 'dp0', offload: { tc, statsIntervalMs: 0, warn: (m) => warnings.push(m) } });
  const p1 = new FakeSystemPort('veth1', log);
  const p2 = new FakeSystemPort('veth2', log);
  const p3 = new FakeSystemPort('veth3', log);
  p3.type = port3Type;
  await dp.addPort(p1);
  await dp.addPort(p2);
  await dp.addPort(p3);
  await dp.start();
  // Every system port's device gets clsact as soon as it joins.
  await dp.offload!.settled();
  const setupLog = log.splice(0);
  const key = K.newKey();
  extractFlow(ping, 0, ping.length, 1, key, K.newLayout());
  return { dp, p1, p2, p3, log, warnings, key, tc, setupLog, all };
}

describe('tc offload', () => {
  it('installs a filter, then the socket filter; removes in the opposite order', async () => {
    const { dp, p1, log, key, setupLog } = await setup();
    expect(setupLog).toEqual(['tc qdisc add veth1', 'tc qdisc add veth2', 'tc qdisc add veth3']);
    const f = dp.flowPut(key, l2Mask(), [{ type: 'output', port: 2 }]);
    await dp.offload!.settled();
    expect(log).toEqual(['tc filter replace veth1 h1', 'sockfilter veth1 ' + (p1.filter!.length / 8)]);
    expect(dp.offload!.isOffloaded(f)).toBe(true);
    expect(dp.dumpFlowsText()[0]).toMatch(/, offloaded:yes, dp:tc, actions:2$/);
    // The socket filter drops exactly the offloaded frames.
    const insns: CbpfInsn[] = [];
    const dv = new DataView(p1.filter!.buffer);
    for (let i = 0; i < p1.filter!.length; i += 8)
      insns.push({ code: dv.getUint16(i, true), jt: p1.filter![i + 2], jf: p1.filter![i + 3], k: dv.getUint32(i + 4, true) });
    expect(runCbpf(insns, ping)).toBe(0);
    const other = Uint8Array.from(ping);
    other[5] = 9;
    expect(runCbpf(insns, other)).not.toBe(0);
    log.length = 0;
    dp.flowDel(key, l2Mask());
    await dp.offload!.settled();
    expect(log).toEqual(['sockfilter veth1 none', 'tc filter del veth1 h1']);
    await dp.stop();
    expect(log.slice(2)).toEqual(['tc qdisc del veth1', 'tc qdisc del veth2', 'tc qdisc del veth3']);
  });

  it('several outputs: mirror to all but the last, redirect to the last', () => {
    expect(tcFilterAddArgs('a', 'ingress', 7, 3, '1,6 0 0 0', [{ dev: 'b', dir: 'egress' }, { dev: 'c', dir: 'ingress' }]).join(' ')).toBe(
      'filter replace dev a ingress prio 7 handle 3 protocol all bpf bytecode 1,6 0 0 0 action mirred egress mirror dev b action mirred ingress redirect dev c',
    );
  });

  it('tap/internal ports: inputs on the egress hook (no socket filter); never outputs', async () => {
    const { dp, log, key, all, setupLog } = await setup(() => ({ stdout: '' }), 'tap');
    expect(setupLog).toEqual(['tc qdisc add veth1', 'tc qdisc add veth2', 'tc qdisc add veth3']);
    all.length = 0;
    const tapKey = key.slice();
    tapKey[K.W_IN_PORT] = 3;
    const f = dp.flowPut(tapKey, l2Mask(), [{ type: 'output', port: 1 }]);
    await dp.offload!.settled();
    expect(dp.offload!.isOffloaded(f)).toBe(true);
    expect(log.filter((l) => l.startsWith('sockfilter'))).toEqual([]); // no socket filter on a TAP's fd
    expect(all[all.length - 1]).toMatch(/^filter replace dev veth3 egress prio 30303 handle 1 .* action mirred egress redirect dev veth1$/);
    const g = dp.flowPut(key, l2Mask(), [{ type: 'output', port: 3 }]);
    await dp.offload!.settled();
    expect(dp.offload!.isOffloaded(g)).toBe(false);
    expect(dp.offloadStats!.refused).toEqual({ 'output to a tap/internal port': 1 });
    await dp.stop();
  });

  it('leaves non-offloadable flows in user space and counts why', async () => {
    const { dp, log, key } = await setup();
    dp.flowPut(key, l2Mask(), []); // drop
    const k2 = key.slice();
    k2[K.W_ETH_DST_LO] = 7;
    dp.flowPut(k2, l2Mask(), [{ type: 'output', port: 2 }, { type: 'userspace', pid: 0, cookie: new Uint8Array(0) } as never]);
    await dp.offload!.settled();
    expect(log).toEqual([]);
    expect(dp.offloadStats!.refused).toEqual({ drop: 1, 'action userspace': 1 });
    await dp.stop();
  });

  it('credits tc counters to the megaflow', async () => {
    let packets = 0;
    const { dp, key } = await setup((args) =>
      args[0] === '-s'
        ? { stdout: JSON.stringify([{ pref: 30303, kind: 'bpf', options: { handle: '0x1', actions: [{ stats: { packets, bytes: packets * 84 } }] } }]) }
        : {},
    );
    const f = dp.flowPut(key, l2Mask(), [{ type: 'output', port: 2 }]);
    await dp.offload!.settled();
    packets = 5;
    await dp.offload!.pollStats();
    expect(f.packets).toBe(5);
    expect(f.bytes).toBe(5 * 98);
    expect(f.usedMs).toBeGreaterThan(0);
    packets = 7;
    await dp.offload!.pollStats();
    expect(f.packets).toBe(7);
    await dp.stop();
  });

  it('tc missing: one warning, flows stay in user space, nothing more is tried', async () => {
    const { dp, log, warnings, key, setupLog } = await setup(() => ({ ok: false, missing: true, error: 'spawn tc ENOENT' }));
    dp.flowPut(key, l2Mask(), [{ type: 'output', port: 2 }]);
    await dp.offload!.settled();
    const k2 = key.slice();
    k2[K.W_ETH_DST_LO] = 7;
    dp.flowPut(k2, l2Mask(), [{ type: 'output', port: 2 }]);
    await dp.offload!.settled();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/tc \(iproute2\) is not installed/);
    expect(dp.offloadStats!.disabled).toBe('tc not found');
    expect(dp.offloadStats!.offloaded).toBe(0);
    expect(setupLog[0]).toBe('tc qdisc add veth1');
    expect(setupLog.every((l) => l.startsWith('tc qdisc add'))).toBe(true);
    expect(log).toEqual([]);
    await dp.stop();
  });

  it('cls_bpf missing: one warning, offload disabled', async () => {
    const { dp, warnings, key } = await setup((args) => (args[1] === 'replace' ? { ok: false, error: 'Unknown filter "bpf", hence option "bytecode" is unparsable' } : {}));
    const f = dp.flowPut(key, l2Mask(), [{ type: 'output', port: 2 }]);
    await dp.offload!.settled();
    expect(dp.offload!.isOffloaded(f)).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(dp.offloadStats!.disabled).toMatch(/Unknown filter/);
    await dp.stop();
  });

  it('socket filter refused: the tc filter is taken back', async () => {
    const { dp, p1, log, warnings, key } = await setup();
    p1.refuseFilter = true;
    const f = dp.flowPut(key, l2Mask(), [{ type: 'output', port: 2 }]);
    await dp.offload!.settled();
    expect(dp.offload!.isOffloaded(f)).toBe(false);
    expect(log).toEqual(['tc filter replace veth1 h1', 'tc filter del veth1 h1']);
    expect(warnings).toHaveLength(1);
    await dp.stop();
  });

  it('a flow deleted before tc answered is never left in the kernel', async () => {
    const { dp, log, key } = await setup();
    dp.flowPut(key, l2Mask(), [{ type: 'output', port: 2 }]);
    dp.flowDel(key, l2Mask());
    await dp.offload!.settled();
    expect(log.filter((l) => l.startsWith('tc filter'))).toEqual([]);
    expect(dp.offloadStats!.offloaded).toBe(0);
    await dp.stop();
  });

  it('removing an output port takes its flows out of the kernel', async () => {
    const { dp, log, key } = await setup();
    const f = dp.flowPut(key, l2Mask(), [{ type: 'output', port: 2 }]);
    await dp.offload!.settled();
    log.length = 0;
    await dp.delPort(2);
    expect(dp.offload!.isOffloaded(f)).toBe(false);
    expect(log).toEqual(['sockfilter veth1 none', 'tc filter del veth1 h1', 'tc qdisc del veth2']);
    log.length = 0;
    await dp.delPort(1);
    expect(log).toEqual(['tc qdisc del veth1']);
    await dp.stop();
  });

  it('with the offload on, a requested sync runs without waiting for a frame', async () => {
    const { dp } = await setup();
    let syncs = 0;
    dp.setUpcallHandler({ miss: () => null, sync: () => void syncs++ });
    dp.requestSync();
    dp.requestSync();
    await new Promise((r) => setImmediate(r));
    expect(syncs).toBe(1);
    await dp.stop();
    const off = new Datapath({ name: 'off' });
    off.setUpcallHandler({ miss: () => null, sync: () => void syncs++ });
    off.requestSync();
    await new Promise((r) => setImmediate(r));
    expect(syncs).toBe(1); // off: only before the next batch, as before
  });

  it('offload off costs nothing: no tc, no filters', async () => {
    const log: string[] = [];
    const dp = new Datapath({ name: 'dp0' });
    await dp.addPort(new FakeSystemPort('v1', log));
    await dp.addPort(new FakeSystemPort('v2', log));
    const key = K.newKey();
    extractFlow(ping, 0, ping.length, 1, key, K.newLayout());
    dp.flowPut(key, l2Mask(), [{ type: 'output', port: 2 }]);
    expect(dp.offload).toBeNull();
    expect(log).toEqual([]);
    expect(dp.dumpFlowsText()[0]).not.toMatch(/offloaded/);
  });

  it('parses tc JSON stats and rejects garbage', () => {
    expect(parseTcFilterStats('', 1).size).toBe(0);
    expect(() => parseTcFilterStats('{', 1)).toThrow(SyntaxError);
    const s = parseTcFilterStats(
      JSON.stringify([{ pref: 1, kind: 'bpf' }, { pref: 1, kind: 'bpf', options: { handle: '0x1f', actions: [{ stats: { packets: 2, bytes: 100 } }] } }, { pref: 2, kind: 'bpf', options: { handle: '0x2' } }]),
      1,
    );
    expect([...s]).toEqual([[31, { packets: 2, bytes: 128 }]]);
  });

  it('TcRunner: bounded queue, rate limited', async () => {
    let now = 0;
    const slept: number[] = [];
    const r = new TcRunner({
      maxQueue: 2,
      ratePerSec: 10,
      clock: () => now,
      sleep: async (ms) => {
        slept.push(ms);
        now += ms;
      },
      exec: async () => ({ ok: true, stdout: '', error: '', missing: false }),
    });
    const all = [r.run(['a']), r.run(['b']), r.run(['c']), r.run(['d'])];
    const res = await Promise.all(all);
    expect(res.map((x) => x.ok)).toEqual([true, true, true, false]);
    expect(r.queueFull).toBe(1);
    expect(slept).toEqual([100, 100]);
  });
});
