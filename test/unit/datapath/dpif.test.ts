import { describe, expect, it } from 'vitest';
import { Datapath } from '../../../datapath/dpif.js';
import { extractFlow } from '../../../datapath/flow/extract.js';
import * as K from '../../../datapath/flow/key.js';
import { PacketBatch } from '../../../datapath/packet-batch.js';
import { newPortStats, type Port, type RxSink } from '../../../datapath/ports/port.js';

class TestPort implements Port {
  readonly type = 'test';
  portNo = 0;
  readonly stats = newPortStats();
  readonly carrier = true;
  readonly mtu = 1500;
  readonly mac = new Uint8Array(6);
  sent: Buffer[] = [];
  flushes = 0;
  sink: RxSink | null = null;
  constructor(readonly name: string) {}
  start(sink: RxSink): void {
    this.sink = sink;
  }
  send(buf: Uint8Array, off: number, len: number): void {
    this.sent.push(Buffer.from(buf.subarray(off, off + len)));
  }
  flush(): void {
    this.flushes++;
  }
  stop(): void {
    this.sink = null;
  }
}

const udpFrame = (dstIp: number) => {
  const f = Buffer.alloc(60);
  Buffer.from('020000000002020000000001', 'hex').copy(f);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(28, 16);
  f[22] = 64;
  f[23] = 17;
  f.writeUInt32BE(0x0a000001, 26);
  f.writeUInt32BE(dstIp, 30);
  f.writeUInt16BE(1000, 34);
  f.writeUInt16BE(2000, 36);
  f.writeUInt16BE(8, 38);
  return f;
};

async function setup() {
  const dp = new Datapath({ name: 'dp0' });
  const p1 = new TestPort('p1');
  const p2 = new TestPort('p2');
  const p3 = new TestPort('p3');
  expect(await dp.addPort(p1)).toBe(1);
  expect(await dp.addPort(p2)).toBe(2);
  expect(await dp.addPort(p3, 10)).toBe(10);
  await dp.start();
  return { dp, p1, p2, p3 };
}

function batchOf(frames: Buffer[]): PacketBatch {
  const b = new PacketBatch();
  for (const f of frames) b.push(f);
  return b;
}

describe('Datapath', () => {
  it('port numbers: lowest free, requested, duplicates rejected with a clear error', async () => {
    const { dp } = await setup();
    await expect(dp.addPort(new TestPort('p1'))).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(dp.addPort(new TestPort('p4'), 2)).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(dp.addPort(new TestPort('p5'), 0x10000)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(dp.delPort('nope')).rejects.toMatchObject({ code: 'ENOENT' });
    await dp.delPort('p2');
    expect(await dp.addPort(new TestPort('p6'))).toBe(2);
  });

  it('installed megaflow forwards a batch with one flush per port; stats flow back', async () => {
    const { dp, p1, p2 } = await setup();
    const key = K.newKey();
    const mask = K.newKey();
    key[K.W_IN_PORT] = 1;
    mask[K.W_IN_PORT] = 0xffffffff;
    dp.flowPut(key, mask, [{ type: 'output', port: 2 }]);
    dp.receive(1, batchOf([udpFrame(0x0a000002), udpFrame(0x0a000003), udpFrame(0x0a000004)]));
    expect(p2.sent.length).toBe(3);
    expect(p2.flushes).toBe(1);
    expect(p1.sent.length).toBe(0);
    const f = dp.flowGet(key, mask)!;
    expect(f.packets).toBe(3);
    expect(f.bytes).toBe(180);
    expect(dp.stats.megaflowHits + dp.stats.emcHits).toBe(3);
    expect(dp.stats.misses).toBe(0);
    // Replace actions: same key/mask modifies in place.
    dp.flowPut(key, mask, [{ type: 'output', port: 10 }]);
    expect(dp.stats.flows).toBe(1);
    expect(dp.flowDel(key, mask)).toBe(true);
    expect(dp.flowDel(key, mask)).toBe(false);
  });

  it('upcall installs the megaflow with the returned mask; the EMC never serves a deleted flow', async () => {
    const { dp, p2, p3 } = await setup();
    let misses = 0;
    dp.setUpcallHandler({
      miss(inPort, key) {
        misses++;
        expect(inPort).toBe(1);
        expect(key[K.W_ETH_TYPE]).toBe(0x0800);
        const mask = K.newKey();
        mask[K.W_IN_PORT] = 0xffffffff;
        mask[K.W_ETH_TYPE] = 0xffff;
        mask[K.W_NW_DST] = 0xffffff00;
        return { actions: [{ type: 'output', port: 2 }], mask };
      },
    });
    dp.receive(1, batchOf([udpFrame(0x0a000002), udpFrame(0x0a000003)]));
    dp.receive(1, batchOf([udpFrame(0x0a000009)]));
    expect(misses).toBe(1);
    expect(p2.sent.length).toBe(3);
    const [flow] = [...dp.flowDump()];
    expect(flow.key[K.W_NW_DST]).toBe(0x0a000000);
    dp.flowFlush();
    dp.receive(1, batchOf([udpFrame(0x0a000002)]));
    expect(misses).toBe(2);
    expect(p3.sent.length).toBe(0);
  });

  it('a throwing or absent upcall handler counts lost upcalls and drops', async () => {
    const { dp, p2 } = await setup();
    dp.receive(1, batchOf([udpFrame(1)]));
    dp.setUpcallHandler({
      miss() {
        throw new Error('boom');
      },
    });
    dp.receive(1, batchOf([udpFrame(2)]));
    expect(dp.stats.lostUpcalls).toBe(2);
    expect(p2.sent.length).toBe(0);
  });

  it('mask null executes without installing; output to a missing port is counted', async () => {
    const { dp, p2 } = await setup();
    dp.setUpcallHandler({ miss: () => ({ actions: [{ type: 'output', port: 2 }, { type: 'output', port: 99 }], mask: null }) });
    dp.receive(1, batchOf([udpFrame(1), udpFrame(2)]));
    expect(p2.sent.length).toBe(2);
    expect(dp.stats.flows).toBe(0);
    expect(dp.stats.outputDrops).toBe(2);
  });

  it('execute (packet-out) rewrites and outputs a copy; userspace reaches the handler', async () => {
    const { dp, p2 } = await setup();
    const seen: Buffer[] = [];
    dp.setUpcallHandler({ miss: () => null, action: (_p, _k, frame) => seen.push(Buffer.from(frame)) });
    const f = udpFrame(0x0a000002);
    dp.execute(f, 1, [{ type: 'push_vlan', tpid: 0x8100, tci: 0x1000 | 5 }, { type: 'output', port: 2 }, { type: 'userspace', pid: 0 }]);
    expect(p2.sent.length).toBe(1);
    expect(p2.sent[0].length).toBe(64);
    expect(p2.sent[0].readUInt16BE(12)).toBe(0x8100);
    expect(p2.sent[0].readUInt16BE(14) & 0xfff).toBe(5);
    expect(seen.length).toBe(1);
    expect(f.readUInt16BE(12)).toBe(0x0800); // caller's frame untouched
    const key = K.newKey();
    extractFlow(p2.sent[0], 0, 64, 0, key, K.newLayout());
    expect(key[K.W_NW_DST]).toBe(0x0a000002);
  });
});
