// System/tap/internal ports over a fake NativeIo: batching, early flush, drops,
// oversize frames, merged counters, stop twice, and the factory.
import { describe, expect, it } from 'vitest';
import { DpifError } from '../../../../datapath/dpif-error.js';
import { STAT_NAMES, type NativeIoStats } from '../../../../datapath/native/index.js';
import { GuestPort } from '../../../../datapath/ports/guest.js';
import { InternalPort } from '../../../../datapath/ports/internal.js';
import {
  BATCH_DEFAULT_BYTES,
  defaultBatchFrames,
  frameMaxForMtu,
  type NativeIo,
} from '../../../../datapath/ports/native-io-port.js';
import { PatchPort } from '../../../../datapath/ports/patch.js';
import { SystemPort } from '../../../../datapath/ports/system.js';
import { TapPort } from '../../../../datapath/ports/tap.js';
import { createPort } from '../../../../datapath/ports/factory.js';
import { PacketBatch, SLOT_BYTES, SLOT_FRAME_MAX } from '../../../../datapath/packet-batch.js';
import type { RxSink } from '../../../../datapath/ports/port.js';

class FakeIo implements NativeIo {
  readonly batch = new PacketBatch(8);
  onBatch: ((b: PacketBatch) => void) | null = null;
  /** The rx batch given to each start() call (a restart per MTU change that resizes it). */
  starts: Array<PacketBatch | undefined> = [];
  sent: number[][] = [];
  closed = 0;
  counters: NativeIoStats;
  mtu = 1500;
  mac = Uint8Array.from([2, 0, 0, 0, 0, 1]);
  carrier = true;
  constructor(readonly name: string) {
    this.counters = Object.fromEntries(STAT_NAMES.map((n) => [n, 0])) as NativeIoStats;
  }
  start(cb: (b: PacketBatch) => void, _onError?: (err: Error) => void, batch?: PacketBatch): void {
    this.onBatch = cb;
    this.starts.push(batch);
  }
  stop(): void {
    this.onBatch = null;
  }
  sendBatch(b: PacketBatch): number {
    this.sent.push(Array.from(b.len.subarray(0, b.count)));
    this.counters.txPackets += b.count;
    return b.count;
  }
  get stats(): NativeIoStats {
    return { ...this.counters };
  }
  close(): void {
    this.closed++;
  }
  /** Deliver frames of these lengths (first byte = index). */
  deliver(lengths: number[]): void {
    const b = this.batch;
    b.clear();
    lengths.forEach((n, i) => {
      const f = Buffer.alloc(n, i + 1);
      b.push(f);
      this.counters.rxPackets++;
    });
    this.onBatch!(b);
  }
}

function sinkCollect(): RxSink & { got: Array<{ port: number; lens: number[]; first: number[] }> } {
  const got: Array<{ port: number; lens: number[]; first: number[] }> = [];
  return {
    got,
    receive(port, b) {
      const lens: number[] = [];
      const first: number[] = [];
      for (let i = 0; i < b.count; i++) {
        lens.push(b.len[i]);
        first.push(b.buf[b.off[i]]);
        expect(b.headroom(i)).toBeGreaterThanOrEqual(0);
      }
      got.push({ port, lens, first });
    },
  };
}

describe('NativeIoPort (system/tap/internal) over a fake addon', () => {
  it('keeps the hw-offload socket filter on every fd a system port opens; a TAP refuses one', () => {
    const filters: Array<Uint8Array | null> = [];
    const mk = () => Object.assign(new FakeIo('eth7'), { setSocketFilter: (p: Uint8Array | null) => filters.push(p) });
    const p = new SystemPort('eth7', { opener: mk });
    const prog = new Uint8Array(8);
    p.setSocketFilter(prog); // closed: kept for start()
    expect(filters).toEqual([]);
    p.start(sinkCollect());
    expect(filters).toEqual([prog]);
    p.setSocketFilter(null);
    expect(filters).toEqual([prog, null]);
    p.setSocketFilter(prog);
    p.stop();
    p.start(sinkCollect());
    expect(filters).toEqual([prog, null, prog, prog]);
    p.stop();
    const t = new TapPort('t9', { opener: () => new FakeIo('t9') });
    t.start(sinkCollect());
    expect(() => t.setSocketFilter(prog)).toThrow(DpifError);
    t.setSocketFilter(null); // nothing to detach: fine
    t.stop();
  });

  it('hands received batches to the sink with the port number, dropping oversize frames', () => {
    const io = new FakeIo('eth9');
    const p = new SystemPort('eth9', { opener: () => io });
    p.portNo = 3;
    const sink = sinkCollect();
    p.start(sink);
    io.deliver([60, 1514, 60]);
    io.deliver([60, 9000, 1522, 1600, 100]);
    expect(sink.got).toEqual([
      { port: 3, lens: [60, 1514, 60], first: [1, 2, 3] },
      { port: 3, lens: [60, 1522, 100], first: [1, 3, 5] },
    ]);
    expect(p.rxOversize).toBe(2);
    expect(p.stats.rxDropped).toBe(2);
    expect(p.stats.rxPackets).toBe(8);
    expect(p.mtu).toBe(1500);
    expect(Array.from(p.mac)).toEqual([2, 0, 0, 0, 0, 1]);
    expect(p.carrier).toBe(true);
  });

  it('system port receive: recvmmsg on a TUN/TAP device (a VM NIC), the V3 ring elsewhere, rx_ring wins', () => {
    const mode = (name: string, tun: boolean, ring?: boolean): boolean | undefined => {
      let seen: boolean | undefined;
      const p = new SystemPort(name, {
        ...(ring !== undefined ? { ring } : {}),
        isTunTap: () => tun,
        opener: (n, o) => {
          seen = o.ring;
          return new FakeIo(n);
        },
      });
      p.start(sinkCollect());
      expect(p.rxRing).toBe(seen);
      p.stop();
      return seen;
    };
    expect([mode('vnet0', true), mode('veth0', false), mode('vnet1', true, true), mode('veth1', false, false)]).toEqual([false, true, true, false]);
    const viaFactory = (options: Record<string, string>): SystemPort => createPort({ name: 'vnet9', options }) as SystemPort;
    expect(() => viaFactory({ rx_ring: 'maybe' })).toThrow(/rx_ring=maybe is not true, false, v2 or v3/);
  });

  it('system port ring layout: TPACKET_V2 by default with frames sized from the MTU, v3 on request; rx_ring=v2|v3', () => {
    const layout = (options: Record<string, string>, mtu = 1500): [boolean | undefined, number | undefined, number | undefined] => {
      let seen: [boolean | undefined, number | undefined, number | undefined] = [undefined, undefined, undefined];
      expect(createPort({ name: 'veth7', options })).toBeInstanceOf(SystemPort); // the factory accepts the option
      const p = new SystemPort('veth7', {
        ...(options.rx_ring === 'v3' ? { ring: true, ringVersion: 3 } : options.rx_ring === 'v2' ? { ring: true, ringVersion: 2 } : options.rx_ring === 'false' ? { ring: false } : {}),
        isTunTap: () => false,
        linkMtu: () => mtu,
        opener: (n, o) => {
          seen = [o.ring, o.ringVersion, o.ringFrameBytes];
          return new FakeIo(n);
        },
      });
      p.start(sinkCollect());
      expect(p.rxRingVersion).toBe(o2v(seen));
      p.stop();
      return seen;
    };
    const o2v = (s: [boolean | undefined, number | undefined, number | undefined]): number => (s[0] ? s[1]! : 0);
    expect(layout({})).toEqual([true, 2, 2048]);
    expect(layout({}, 9000)).toEqual([true, 2, 16384]);
    expect(layout({ rx_ring: 'v3' })).toEqual([true, 3, undefined]);
    expect(layout({ rx_ring: 'v2' })).toEqual([true, 2, 2048]);
    expect(layout({ rx_ring: 'false' })).toEqual([false, undefined, undefined]);
    expect(() => createPort({ name: 'veth7', options: { rx_ring: 'v4' } })).toThrow(/rx_ring=v4 is not true, false, v2 or v3/);
  });

  it('a V2 ring opened for MTU 1500 is reopened by refreshLink when the MTU grows; counters carry over', () => {
    const ios: FakeIo[] = [];
    let mtu = 1500;
    const p = new SystemPort('veth8', {
      isTunTap: () => false,
      linkMtu: () => mtu,
      opener: (n) => {
        const io = new FakeIo(n);
        io.mtu = mtu;
        ios.push(io);
        return io;
      },
    });
    const sink = sinkCollect();
    p.start(sink);
    ios[0].deliver([60, 60]);
    expect(p.stats.rxPackets).toBe(2);
    ios[0].mtu = 1400; // smaller: the ring's frames still fit, no reopen
    p.refreshLink();
    expect([ios.length, p.reopens]).toEqual([1, 0]);
    mtu = 9000;
    ios[0].mtu = 9000;
    p.refreshLink();
    expect([ios.length, p.reopens, ios[0].closed]).toEqual([2, 1, 1]);
    expect(p.rxRingFrameBytes).toBe(16384);
    expect(ios[1].starts.at(-1)?.frameMax).toBe(9022); // receiving again, into jumbo slots
    ios[1].deliver([8000]);
    expect(p.stats.rxPackets).toBe(3); // 2 from the old fd + 1 from the new one
    expect(sink.got.at(-1)?.lens).toEqual([8000]);
    p.refreshLink(); // nothing changed: no further reopen
    expect(p.reopens).toBe(1);
    p.stop();
    expect(p.stats.rxPackets).toBe(3);
  });

  it('queues sends, flushes once per batch, flushes early when full, counts drops only when stopped', () => {
    const io = new FakeIo('t0');
    const p = new TapPort('t0', { txBatch: 4, opener: () => io });
    p.start(sinkCollect());
    const f = Buffer.alloc(64);
    for (let i = 0; i < 3; i++) p.send(f, 0, 60 + i);
    expect(io.sent).toEqual([]);
    p.flush();
    expect(io.sent).toEqual([[60, 61, 62]]);
    p.flush(); // nothing queued: no call
    expect(io.sent.length).toBe(1);
    for (let i = 0; i < 6; i++) p.send(f, 0, 60);
    expect(io.sent.length).toBe(2); // early flush of 4
    p.flush();
    expect(io.sent.map((s) => s.length)).toEqual([3, 4, 2]);
    expect(p.stats.txPackets).toBe(9);
    p.stop();
    p.stop();
    expect(io.closed).toBe(1);
    expect(p.carrier).toBe(false);
    expect(p.stats.txPackets).toBe(9); // last counters kept
    for (let i = 0; i < 5; i++) p.send(f, 0, 60); // after stop: queue, then drop on flush
    p.flush();
    expect(p.stats.txDropped).toBe(5);
  });

  it('maps addon errors to DpifError naming the interface', () => {
    const p = new SystemPort('nope0', {
      opener: () => {
        throw Object.assign(new Error('interface nope0: No such device'), { code: 'ENODEV' });
      },
    });
    let err: unknown;
    try {
      p.start(sinkCollect());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DpifError);
    expect((err as DpifError).code).toBe('ENODEV');
    expect((err as DpifError).message).toMatch(/system port nope0: no such network device/);
    p.stop(); // nothing open: fine
  });

  it('closes the fd when starting fails after opening', () => {
    const io = new FakeIo('eth8');
    io.start = () => {
      throw Object.assign(new Error('eth8: uv_poll_init: Bad file descriptor'), { code: 'EBADF' });
    };
    const p = new SystemPort('eth8', { opener: () => io });
    expect(() => p.start(sinkCollect())).toThrow(/system port eth8: cannot open/);
    expect(io.closed).toBe(1);
    expect(p.carrier).toBe(false);
    p.stop();
    expect(io.closed).toBe(1);
  });

  it('internal is a tap with its own type', () => {
    const p = new InternalPort('br0', { opener: () => new FakeIo('br0') });
    expect(p.type).toBe('internal');
    expect(p).toBeInstanceOf(TapPort);
  });
});

describe('NativeIoPort batch slots sized from the MTU', () => {
  it('frame max is MTU + Ethernet + 2 VLAN tags, capped at the jumbo slot; odd MTUs get jumbo slots', () => {
    expect(frameMaxForMtu(1500)).toBe(1522);
    expect(frameMaxForMtu(9000)).toBe(9022);
    expect(frameMaxForMtu(65535)).toBe(SLOT_FRAME_MAX);
    expect(frameMaxForMtu(68)).toBe(90);
    expect(frameMaxForMtu(0)).toBe(SLOT_FRAME_MAX);
    expect(frameMaxForMtu(Number.NaN)).toBe(SLOT_FRAME_MAX);
  });

  it('default batches: 256 frames for MTU 1500, fewer jumbo ones, never more bytes than 64 jumbo slots', () => {
    expect(BATCH_DEFAULT_BYTES).toBe(64 * SLOT_BYTES);
    expect(defaultBatchFrames(1522)).toBe(256);
    expect(defaultBatchFrames(9022)).toBe(65);
    expect(defaultBatchFrames(SLOT_FRAME_MAX)).toBe(64);
    for (const mtu of [68, 576, 1500, 2000, 4000, 9000, 9194, 65535]) {
      const fm = frameMaxForMtu(mtu);
      expect(new PacketBatch(defaultBatchFrames(fm), fm).buf.length).toBeLessThanOrEqual(BATCH_DEFAULT_BYTES);
    }
  });

  it('a 1500-MTU port receives and sends in 256-frame batches of 1,600-byte slots (800 KiB per port)', () => {
    const io = new FakeIo('eth1');
    const p = new SystemPort('eth1', { opener: () => io });
    p.start(sinkCollect());
    const rx = io.starts[0]!;
    expect(rx.capacity).toBe(256);
    expect(rx.frameMax).toBe(1522);
    expect(rx.slotBytes).toBe(1600);
    expect(p.frameMax).toBe(1522);
    expect(p.batchBytes).toBe(2 * 256 * 1600);
    expect(p.batchBytes).toBeLessThan(2 * 64 * SLOT_BYTES); // the old default: 1.13 MiB
    const f = Buffer.alloc(64);
    for (let i = 0; i < 300; i++) p.send(f, 0, 60);
    expect(io.sent.map((s) => s.length)).toEqual([256]); // early flush at 256
  });

  it('explicit rx_batch/tx_batch win over the default; a jumbo port keeps big slots', () => {
    const io = new FakeIo('eth2');
    io.mtu = 9000;
    const p = new TapPort('eth2', { rxBatch: 32, txBatch: 16, opener: () => io });
    p.start(sinkCollect());
    expect(io.starts[0]!.capacity).toBe(32);
    expect(io.starts[0]!.frameMax).toBe(9022);
    expect(p.batchBytes).toBe((32 + 16) * 9088);
    const q = new SystemPort('eth3', { opener: () => io });
    q.start(sinkCollect());
    expect(io.starts[1]!.capacity).toBe(65);
    expect(q.batchBytes).toBeLessThanOrEqual(2 * BATCH_DEFAULT_BYTES);
  });

  it('drops frames longer than the tx slot (the MTU) and counts them as tx errors, sending the rest', () => {
    const io = new FakeIo('eth4');
    const p = new SystemPort('eth4', { opener: () => io });
    p.start(sinkCollect());
    const f = Buffer.alloc(9216);
    p.send(f, 0, 1522);
    p.send(f, 0, 1523);
    p.send(f, 0, 9000);
    p.send(f, 0, 60);
    p.flush();
    expect(io.sent).toEqual([[1522, 60]]);
    expect(p.txOversize).toBe(2);
    expect(p.stats.txErrors).toBe(2);
    expect(p.stats.txDropped).toBe(0);
  });

  it('refreshLink after an MTU change flushes the queue, resizes both batches and restarts rx into the new one', () => {
    const io = new FakeIo('eth5');
    const p = new SystemPort('eth5', { opener: () => io });
    const sink = sinkCollect();
    p.start(sink);
    const f = Buffer.alloc(9216, 1);
    p.send(f, 0, 100);
    p.refreshLink(); // same MTU: nothing changes
    expect(io.starts.length).toBe(1);
    expect(io.sent).toEqual([]);
    expect(p.batchResizes).toBe(0);

    io.mtu = 9000;
    p.refreshLink();
    expect(io.sent).toEqual([[100]]); // queued frame went out with the old batch
    expect(io.starts.length).toBe(2);
    const rx = io.starts[1]!;
    expect(rx).not.toBe(io.starts[0]);
    expect(rx.frameMax).toBe(9022);
    expect(rx.capacity).toBe(65);
    expect(p.mtu).toBe(9000);
    expect(p.frameMax).toBe(9022);
    expect(p.batchResizes).toBe(1);
    p.send(f, 0, 9000);
    p.flush();
    expect(io.sent[1]).toEqual([9000]);
    expect(p.txOversize).toBe(0);
    io.deliver([60, 9022, 9023]);
    expect(sink.got.at(-1)!.lens).toEqual([60, 9022]);

    io.mtu = 1500; // and back: small slots again, jumbo frames dropped
    p.refreshLink();
    expect(io.starts[2]!.frameMax).toBe(1522);
    expect(io.starts[2]!.capacity).toBe(256);
    p.send(f, 0, 9000);
    expect(p.txOversize).toBe(1);
    // An interface that cannot be read (moved into another namespace): nothing changes, no throw.
    Object.defineProperty(io, 'mtu', { get: () => { throw Object.assign(new Error('no such device'), { code: 'ENODEV' }); }, configurable: true });
    expect(() => p.refreshLink()).not.toThrow();
    expect([p.mtu, p.frameMax, io.starts.length]).toEqual([1500, 1522, 3]);
    p.stop();
    p.refreshLink(); // stopped: no-op
    expect(io.starts.length).toBe(3);
  });

  it('slotFrameMax (bench option) keeps jumbo slots at any MTU; out of range is refused', () => {
    const io = new FakeIo('eth6');
    const p = new SystemPort('eth6', { rxBatch: 64, txBatch: 64, slotFrameMax: SLOT_FRAME_MAX, opener: () => io });
    p.start(sinkCollect());
    expect(io.starts[0]!.slotBytes).toBe(SLOT_BYTES);
    expect(p.batchBytes).toBe(2 * 64 * SLOT_BYTES);
    io.deliver([60, 1600]);
    expect(p.rxOversize).toBe(1); // still the MTU's limit on receive
    expect(() => new SystemPort('eth6', { slotFrameMax: 10_000 })).toThrow(/slot frame max 10000/);
  });
});

describe('createPort', () => {
  it('creates each supported type; no type means system', () => {
    expect(createPort({ name: 'veth1' })).toBeInstanceOf(SystemPort);
    expect(createPort({ name: 'veth1', type: '' }).type).toBe('system');
    expect(createPort({ name: 'tap1', type: 'tap', options: { rx_batch: '32' } }).type).toBe('tap');
    expect(createPort({ name: 'br0', type: 'internal' }).type).toBe('internal');
    const g = createPort({ name: 'vm1', type: 'guest', options: { mac: '02:00:00:00:00:01', ip: '10.0.0.1/24' } });
    expect(g).toBeInstanceOf(GuestPort);
  });

  it('pairs patch ports through the context', () => {
    const patches = new Map<string, PatchPort>();
    const a = createPort({ name: 'pa', type: 'patch', options: { peer: 'pb' } }, { patches }) as PatchPort;
    expect(a.peer).toBeNull();
    const b = createPort({ name: 'pb', type: 'patch', options: { peer: 'pa' } }, { patches }) as PatchPort;
    expect(a.peer).toBe(b);
    expect(b.peer).toBe(a);
  });

  it('rejects unknown types, options and bad values with EINVAL', () => {
    const codeOf = (f: () => unknown): [string, string] => {
      try {
        f();
      } catch (e) {
        return [(e as DpifError).code, (e as Error).message];
      }
      return ['', ''];
    };
    expect(codeOf(() => createPort({ name: 'x', type: 'vxlan' }))).toEqual(['EINVAL', 'EINVAL: unsupported interface type vxlan']);
    expect(codeOf(() => createPort({ name: 'x', type: 'system', options: { foo: '1' } }))[1]).toMatch(/unknown option foo/);
    expect(codeOf(() => createPort({ name: 'x', type: 'system', options: { rx_ring: 'maybe' } }))[0]).toBe('EINVAL');
    expect(codeOf(() => createPort({ name: 'x', type: 'system', options: { tx_ring: '33' } }))[1]).toMatch(/tx_ring=33 is not a multiple of 32/);
    expect(codeOf(() => createPort({ name: 'x', type: 'system', options: { tx_ring: '70000' } }))[1]).toMatch(/tx_ring=70000/);
    expect(codeOf(() => createPort({ name: 'x', type: 'tap', options: { tx_batch: '0' } }))[1]).toMatch(/tx_batch=0/);
    expect(codeOf(() => createPort({ name: 'x', type: 'guest' }))[1]).toMatch(/options:mac/);
    expect(codeOf(() => createPort({ name: 'x', type: 'patch' }))[1]).toMatch(/options:peer/);
    expect(codeOf(() => createPort({ name: 'much-too-long-name0', type: 'tap' }))[0]).toBe('EINVAL');
  });
});
