// PacketBatch slot geometry: slots sized from frameMax (HEADROOM + frameMax rounded up to 64 bytes),
// truncation/refusal at frameMax, headroom per slot, bad geometry refused.
import { describe, expect, it } from 'vitest';
import { HEADROOM, PacketBatch, SLOT_BYTES, SLOT_FRAME_MAX, slotBytesFor } from '../../../datapath/packet-batch.js';

describe('PacketBatch slot sizing', () => {
  it('rounds HEADROOM + frameMax up to 64 bytes; the default is the jumbo slot', () => {
    expect(slotBytesFor(1522)).toBe(1600); // MTU 1500 + Ethernet + 2 VLAN tags
    expect(slotBytesFor(1536)).toBe(1600);
    expect(slotBytesFor(1537)).toBe(1664);
    expect(slotBytesFor(9022)).toBe(9088); // MTU 9000
    expect(slotBytesFor(SLOT_FRAME_MAX)).toBe(SLOT_BYTES);
    expect(SLOT_BYTES).toBe(9280);
    const d = new PacketBatch(4);
    expect(d.frameMax).toBe(SLOT_FRAME_MAX);
    expect(d.slotBytes).toBe(SLOT_BYTES);
    expect(d.buf.length).toBe(4 * SLOT_BYTES);
  });

  it('a 256-frame batch for MTU 1500 takes 400 KiB (vs 2.3 MiB with jumbo slots)', () => {
    const b = new PacketBatch(256, 1522);
    expect(b.slotBytes).toBe(1600);
    expect(b.buf.length).toBe(256 * 1600);
    expect(b.buf.length).toBeLessThan((64 * SLOT_BYTES) / 1.4);
  });

  it('puts frame i at slot i + HEADROOM, word aligned, and reports the headroom left', () => {
    const b = new PacketBatch(3, 1522);
    const f = Buffer.alloc(60, 7);
    for (let i = 0; i < 3; i++) expect(b.push(f)).toBe(true);
    expect(b.push(f)).toBe(false); // full
    for (let i = 0; i < 3; i++) {
      expect(b.off[i]).toBe(i * 1600 + HEADROOM);
      expect((b.buf.byteOffset + b.off[i]) & 3).toBe(0);
      expect(b.headroom(i)).toBe(HEADROOM);
    }
    b.off[1] -= 4; // a pushed tag
    expect(b.headroom(1)).toBe(HEADROOM - 4);
  });

  it('truncates pushed frames to frameMax and refuses to reserve more, leaving the next slot alone', () => {
    const b = new PacketBatch(2, 1522);
    const big = Buffer.alloc(2000, 0xab);
    expect(b.push(big)).toBe(true);
    expect(b.len[0]).toBe(1522);
    expect(b.buf[1600 + HEADROOM - 1]).toBe(0); // nothing written into slot 1
    expect(b.reserve(1523)).toBe(-1);
    expect(b.count).toBe(1);
    expect(b.reserve(1522)).toBe(1600 + HEADROOM);
  });

  it('rejects a frameMax outside 1..SLOT_FRAME_MAX and a non-positive capacity', () => {
    expect(() => new PacketBatch(1, 0)).toThrow(RangeError);
    expect(() => new PacketBatch(1, SLOT_FRAME_MAX + 1)).toThrow(/frameMax 9217/);
    expect(() => new PacketBatch(1, 1500.5)).toThrow(RangeError);
    expect(() => new PacketBatch(0)).toThrow(/capacity 0/);
  });
});
