import { describe, expect, it } from 'vitest';
import { compileActions } from '../../../datapath/actions/compile.js';
import { formatActions, parseActions } from '../../../datapath/actions/odp-actions.js';
import { Datapath } from '../../../datapath/dpif.js';
import * as K from '../../../datapath/flow/key.js';
import { DpMeter, DpMeterTable, METER_DROP, METER_PASS } from '../../../datapath/meter.js';
import { ipv4HeaderChecksumValid, l4ChecksumValid } from '../../../datapath/packet/checksum.js';
import { buildEthernet } from '../../../datapath/packet/ethernet.js';
import { buildIpv4 } from '../../../datapath/packet/ipv4.js';
import { buildIpv6 } from '../../../datapath/packet/ipv6.js';
import { buildUdp } from '../../../datapath/packet/udp.js';
import { PacketBatch } from '../../../datapath/packet-batch.js';
import { extractFresh, runActions } from '../../helpers/run-actions.js';
import { WirePort } from '../../helpers/wire-port.js';

const SRC = Uint8Array.of(10, 0, 0, 1);
const DST = Uint8Array.of(10, 0, 0, 2);
function udp4(tos: number, dstPort = 9, size = 18): Buffer {
  const l4 = buildUdp({ srcPort: 1000, dstPort, payload: Buffer.alloc(size) }, { src: SRC, dst: DST });
  return buildEthernet({ dst: '02:00:00:00:00:02', src: '02:00:00:00:00:01', type: 0x0800, payload: buildIpv4({ src: SRC, dst: DST, protocol: 17, ttl: 64, tos, payload: l4 }) });
}

describe('DpMeter token buckets (fake clock)', () => {
  it('kbps with burst: the burst, then the rate; of the exceeded bands the highest rate applies; band counters', () => {
    // 800 kbit/s = 100 bytes/ms, burst 8 kbit = 1000 bytes; remark above 400 kbit/s (burst 500 bytes), drop above 800.
    const m = new DpMeter(
      1,
      {
        unit: 'kbps',
        bands: [
          { type: 'dscp_remark', rate: 400, burst: 4, precLevel: 2 },
          { type: 'drop', rate: 800, burst: 8 },
        ],
      },
      0,
    );
    const v = Array.from({ length: 12 }, () => m.apply(100, 0));
    expect(v).toEqual([0, 0, 0, 0, 0, 2, 2, 2, 2, 2, METER_DROP, METER_DROP]);
    expect(m.apply(100, 10)).toBe(METER_PASS); // 10 ms refill 1000 bytes of the drop band, 500 of the remark band
    expect([m.packets, m.bytes]).toEqual([13, 1300]);
    expect([...m.bandPackets]).toEqual([5, 2]);
    expect([...m.bandBytes]).toEqual([500, 200]);
  });

  it('pktps without burst: one second at the rate, then exactly the rate over time', () => {
    const m = new DpMeter(2, { unit: 'pktps', bands: [{ type: 'drop', rate: 1000, burst: 0 }] }, 0);
    let passed = 0;
    for (let i = 0; i < 5000; i++) if (m.apply(1500, 0) === METER_PASS) passed++;
    expect(passed).toBe(1000);
    // 2000 pps offered for 10 s (2 packets per ms): 1000 pps pass.
    passed = 0;
    for (let t = 1; t <= 10_000; t++) for (let k = 0; k < 2; k++) if (m.apply(1500, t) === METER_PASS) passed++;
    expect(passed).toBe(10_000);
  });

  it('a clock that steps back refills nothing; the table validates configurations', () => {
    const m = new DpMeter(3, { unit: 'pktps', bands: [{ type: 'drop', rate: 1, burst: 1 }] }, 100);
    expect(m.apply(60, 100)).toBe(METER_PASS);
    expect(m.apply(60, 50)).toBe(METER_DROP);
    const t = new DpMeterTable();
    expect(() => t.set(1, { unit: 'kbps', bands: [] }, 0)).toThrow(/bands/);
    expect(() => t.set(1, { unit: 'kbps', bands: [{ type: 'drop', rate: 0, burst: 0 }] }, 0)).toThrow(/rate/);
    expect(() => t.set(1, { unit: 'kbps', bands: [{ type: 'dscp_remark', rate: 5, burst: 0, precLevel: 4 }] }, 0)).toThrow(/prec_level/);
    expect(() => t.set(-1, { unit: 'kbps', bands: [{ type: 'drop', rate: 5, burst: 0 }] }, 0)).toThrow(/meter id/);
    expect(t.size).toBe(0);
  });
});

describe('meter(id) datapath action', () => {
  it('ODP text meter(N) round-trips; compile rejects a non-u32 id', () => {
    const acts = parseActions('meter(7),2');
    expect(acts).toEqual([{ type: 'meter', id: 7 }, { type: 'output', port: 2 }]);
    expect(formatActions(acts)).toBe('meter(7),2');
    expect(() => compileActions([{ type: 'meter', id: -1 }])).toThrow(/meter/);
  });

  it('dscp_remark: IPv4 AF21 → AF22 (prec 1) with a valid header checksum, ECN kept; saturates at AF23; IPv6 traffic class; ARP untouched', () => {
    const remark = (prec: number) => ({ meter: () => prec });
    const r = runActions(udp4((18 << 2) | 1), [{ type: 'meter', id: 1 }, { type: 'output', port: 2 }], [], true, remark(1));
    const out = r.outputs[0]!.bytes;
    expect(out[15]).toBe((20 << 2) | 1);
    expect(ipv4HeaderChecksumValid(out, 14)).toBe(true);
    expect(l4ChecksumValid(out, 34, out.length - 34, 17, SRC, DST)).toBe(true);
    expect(r.key).toEqual(extractFresh(out).key);
    expect(r.stats.meterRemarked).toBe(1);
    expect(runActions(udp4(18 << 2), [{ type: 'meter', id: 1 }, { type: 'output', port: 2 }], [], true, remark(3)).outputs[0]!.bytes[15]).toBe(22 << 2);
    const s6 = Uint8Array.from(Buffer.alloc(16, 1));
    const d6 = Uint8Array.from(Buffer.alloc(16, 2));
    const v6 = buildEthernet({
      dst: '02:00:00:00:00:02',
      src: '02:00:00:00:00:01',
      type: 0x86dd,
      payload: buildIpv6({ src: s6, dst: d6, nextHeader: 17, hopLimit: 64, trafficClass: 18 << 2, payload: buildUdp({ srcPort: 1, dstPort: 2, payload: Buffer.alloc(8) }, { src: s6, dst: d6 }) }),
    });
    const r6 = runActions(v6, [{ type: 'meter', id: 1 }, { type: 'output', port: 2 }], [], true, remark(1));
    const o6 = r6.outputs[0]!.bytes;
    expect(((o6.readUInt32BE(14) >>> 20) & 0xff) >>> 2).toBe(20);
    expect(o6.readUInt32BE(14) >>> 28).toBe(6);
    expect(r6.key).toEqual(extractFresh(o6).key);
    const arp = Buffer.from('ffffffffffff0200000000010806000108000604000102000000000100000000000000000000000000', 'hex');
    const ra = runActions(arp, [{ type: 'meter', id: 1 }, { type: 'output', port: 2 }], [], true, remark(1));
    expect(ra.outputs[0]!.bytes.equals(arp)).toBe(true);
  });

  it('in a Datapath batch a drop affects only that packet; counters; clone branch; meter deleted → pass', async () => {
    let now = 1000;
    const dp = new Datapath({ name: 'dpm', clock: () => now });
    const [p1, p2, p3] = [new WirePort('p1'), new WirePort('p2'), new WirePort('p3')];
    for (const p of [p1, p2, p3]) await dp.addPort(p);
    await dp.start();
    dp.meterSet(1, { unit: 'pktps', bands: [{ type: 'drop', rate: 100, burst: 3 }] });
    // Frames to UDP port 9 are metered then sent to p2; to UDP port 7 go to p3 unmetered.
    const mask = K.newKey();
    mask[K.W_IN_PORT] = 0xffffffff;
    mask[K.W_TP_PORTS] = 0xffff;
    const put = (dport: number, actions: Parameters<typeof dp.flowPut>[2]) => {
      const { key } = extractFresh(udp4(0, dport));
      key[K.W_IN_PORT] = 1;
      for (let i = 0; i < K.KEY_WORDS; i++) key[i] = key[i]! & mask[i]!;
      dp.flowPut(key, mask, actions);
    };
    put(9, [{ type: 'meter', id: 1 }, { type: 'output', port: 2 }]);
    put(7, [{ type: 'output', port: 3 }]);
    const batch = new PacketBatch(32);
    for (let i = 0; i < 10; i++) batch.push(udp4(0, i % 2 === 0 ? 9 : 7));
    dp.receive(1, batch);
    expect(p2.sent.length).toBe(3); // the burst
    expect(p3.sent.length).toBe(5); // unmetered frames between dropped ones all pass
    const m = dp.meterGet(1)!;
    expect([m.packets, m.bandPackets[0]]).toEqual([5, 2]);
    expect(dp.stats.actions.meterDropped).toBe(2);
    expect(dp.stats.upcalls).toBe(0);
    now += 20; // 2 tokens
    batch.clear();
    for (let i = 0; i < 4; i++) batch.push(udp4(0, 9));
    dp.receive(1, batch);
    expect(p2.sent.length).toBe(5);
    // A meter in a clone drops the copy only.
    dp.meterSet(2, { unit: 'pktps', bands: [{ type: 'drop', rate: 1, burst: 1 }] });
    put(9, [{ type: 'clone', actions: [{ type: 'meter', id: 2 }, { type: 'output', port: 3 }] }, { type: 'output', port: 2 }]);
    p2.sent.length = 0;
    p3.sent.length = 0;
    batch.clear();
    for (let i = 0; i < 3; i++) batch.push(udp4(0, 9));
    dp.receive(1, batch);
    expect([p2.sent.length, p3.sent.length]).toEqual([3, 1]);
    // No such meter: the packet passes (OVS's userspace datapath).
    expect(dp.meterDel(2)).toBe(true);
    batch.clear();
    batch.push(udp4(0, 9));
    dp.receive(1, batch);
    expect([p2.sent.length, p3.sent.length]).toEqual([4, 2]);
  });
});
