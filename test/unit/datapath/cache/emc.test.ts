import { describe, expect, it } from 'vitest';
import { Emc } from '../../../../datapath/cache/emc.js';
import { Megaflow } from '../../../../datapath/cache/megaflow.js';
import { hashKey } from '../../../../datapath/flow/hash.js';
import { W_IN_PORT, W_NW_SRC, newKey } from '../../../../datapath/flow/key.js';

function pkt(port: number, src = 0): Uint32Array {
  const k = newKey();
  k[W_IN_PORT] = port;
  k[W_NW_SRC] = src;
  return k;
}
const m = newKey();
m[W_IN_PORT] = 0xffffffff;

describe('Emc', () => {
  it('hits only keys its megaflow matches, verified on the mask words; counts hits and misses', () => {
    const emc = new Emc<string>({ entries: 64 });
    const f = new Megaflow(pkt(1), m, 'f');
    const k = pkt(1, 5);
    emc.insert(k, hashKey(k, 0), f);
    expect(emc.lookup(k, hashKey(k, 0))).toBe(f);
    const other = pkt(1, 6);
    expect(emc.lookup(other, hashKey(other, 0))).toBeNull(); // other hash: other slot
    // Same hash, a key the megaflow does not match (in_port 2): a miss.
    expect(emc.lookup(pkt(2, 5), hashKey(k, 0))).toBeNull();
    // Same hash, a key the megaflow matches (it ignores nw_src): its flow, which is the right answer.
    expect(emc.lookup(other, hashKey(k, 0))).toBe(f);
    expect(emc.hits).toBe(2);
    expect(emc.misses).toBe(2);
    expect(emc.count).toBe(1);
  });

  it('never returns a dead megaflow and clears its slot', () => {
    const emc = new Emc<string>({ entries: 64 });
    const f = new Megaflow(pkt(1), m, 'f');
    const k = pkt(1);
    const h = hashKey(k, 0);
    emc.insert(k, h, f);
    f.dead = true;
    expect(emc.lookup(k, h)).toBeNull();
    expect(emc.deadEvictions).toBe(1);
    f.dead = false; // even if revived, the slot was cleared
    expect(emc.lookup(k, h)).toBeNull();
  });

  it('sees modified actions at once (shared flow object)', () => {
    const emc = new Emc<string>({ entries: 64 });
    const f = new Megaflow(pkt(1), m, 'old');
    const k = pkt(1);
    emc.insert(k, hashKey(k, 0), f);
    f.actions = 'new';
    expect(emc.lookup(k, hashKey(k, 0))?.actions).toBe('new');
  });

  it('uses two ways, then replaces the lower-hash entry; dead entries go first', () => {
    const emc = new Emc<string>({ entries: 2 }); // both ways are slots 0 and 1 (or the same)
    // Hand-picked hashes: slot0 = h & 1, slot1 = (h >>> 13) & 1.
    const hA = 0 | (1 << 13); // ways 0,1
    const hB = 0 | (1 << 13) | 0x100; // ways 0,1, larger hash than A
    const hC = 0 | (1 << 13) | 0x200;
    const fa = new Megaflow(pkt(1), m, 'a');
    const fb = new Megaflow(pkt(2), m, 'b');
    const fc = new Megaflow(pkt(3), m, 'c');
    emc.insert(pkt(1), hA, fa);
    emc.insert(pkt(2), hB, fb);
    expect(emc.lookup(pkt(1), hA)).toBe(fa);
    expect(emc.lookup(pkt(2), hB)).toBe(fb);
    // Both alive: C replaces the lower stored hash (A).
    emc.insert(pkt(3), hC, fc);
    expect(emc.lookup(pkt(1), hA)).toBeNull();
    expect(emc.lookup(pkt(2), hB)).toBe(fb);
    expect(emc.lookup(pkt(3), hC)).toBe(fc);
    // A dead entry is replaced before a live one with a lower hash.
    fc.dead = true;
    emc.insert(pkt(1), hA, fa);
    expect(emc.lookup(pkt(2), hB)).toBe(fb);
    expect(emc.lookup(pkt(1), hA)).toBe(fa);
    // Re-inserting an existing key updates its slot in place.
    const fa2 = new Megaflow(pkt(1), m, 'a2');
    emc.insert(pkt(1), hA, fa2);
    expect(emc.lookup(pkt(1), hA)).toBe(fa2);
    expect(emc.lookup(pkt(2), hB)).toBe(fb);
  });

  it('honours insertInvProb (0 = never, N = about 1 in N) and flush', () => {
    const never = new Emc<string>({ entries: 1024, insertInvProb: 0 });
    const f = new Megaflow(pkt(1), m, 'f');
    never.insert(pkt(1), hashKey(pkt(1), 0), f);
    expect(never.count).toBe(0);
    const some = new Emc<string>({ entries: 1 << 16, insertInvProb: 10, seed: 42 });
    for (let i = 0; i < 10000; i++) {
      const k = pkt(1, i);
      some.insert(k, hashKey(k, 0), f);
    }
    expect(some.inserts).toBeGreaterThan(800);
    expect(some.inserts).toBeLessThan(1200);
    some.flush();
    expect(some.count).toBe(0);
    expect(() => new Emc({ entries: 100 })).toThrow(RangeError);
  });
});
