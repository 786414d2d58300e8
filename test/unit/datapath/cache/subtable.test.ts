import { describe, expect, it } from 'vitest';
import { Subtable } from '../../../../datapath/cache/subtable.js';
import { Megaflow } from '../../../../datapath/cache/megaflow.js';
import { W_IN_PORT, W_NW_DST, newKey } from '../../../../datapath/flow/key.js';

function mask(): Uint32Array {
  const m = newKey();
  m[W_IN_PORT] = 0xffffffff;
  m[W_NW_DST] = 0xffffffff;
  return m;
}
function key(port: number, dst: number): Uint32Array {
  const k = newKey();
  k[W_IN_PORT] = port;
  k[W_NW_DST] = dst;
  return k;
}

describe('Subtable', () => {
  it('inserts, finds, rejects duplicates, grows and shrinks, removes with backward shift', () => {
    const m = mask();
    const st = new Subtable<number>(m);
    const flows: Megaflow<number>[] = [];
    for (let i = 0; i < 5000; i++) {
      const f = new Megaflow(key(i & 7, (0xc0000000 + i) >>> 0), m, i);
      expect(st.insert(f)).toBe(f);
      flows.push(f);
    }
    expect(st.count).toBe(5000);
    expect(st.capacity).toBeGreaterThanOrEqual(10000);
    const dup = new Megaflow(key(0, 0xc0000000), m, -1);
    expect(st.insert(dup)).toBe(flows[0]);
    for (let i = 0; i < 5000; i++) {
      const k = key(i & 7, (0xc0000000 + i) >>> 0);
      k[3] = 12345; // unmasked word: ignored
      expect(st.lookup(k)).toBe(flows[i]);
    }
    expect(st.lookup(key(1, 1))).toBeNull();
    // Remove every other flow; the rest must stay reachable.
    for (let i = 0; i < 5000; i += 2) expect(st.remove(flows[i])).toBe(true);
    expect(st.remove(flows[0])).toBe(false);
    for (let i = 0; i < 5000; i++) {
      expect(st.lookup(key(i & 7, (0xc0000000 + i) >>> 0))).toBe(i % 2 ? flows[i] : null);
    }
    for (let i = 1; i < 5000; i += 2) st.remove(flows[i]);
    expect(st.count).toBe(0);
    expect(st.capacity).toBe(8);
  });

  it('keeps colliding hashes apart by comparing masked words', () => {
    const m = newKey(); // empty mask: every key hashes the same
    const st = new Subtable<string>(m);
    const f = new Megaflow(newKey(), m, 'all');
    expect(st.insert(f)).toBe(f);
    expect(st.lookup(key(9, 9))).toBe(f);
  });

  it('tells apart two masked keys with the same 32-bit hash', () => {
    const m = mask();
    const st = new Subtable<number>(m);
    // Birthday search for a colliding pair (about 2^16 tries; varying one word alone
    // never collides: each murmur round is a bijection of the word).
    const seen = new Map<number, number>();
    let a = -1;
    let b = -1;
    for (let i = 0; a < 0; i++) {
      const h = st.hashOf(key(i, i));
      const prev = seen.get(h);
      if (prev !== undefined) {
        a = prev;
        b = i;
      } else seen.set(h, i);
    }
    const fa = new Megaflow(key(a, a), m, a);
    expect(st.insert(fa)).toBe(fa);
    expect(st.lookup(key(b, b))).toBeNull();
    const fb = new Megaflow(key(b, b), m, b);
    expect(st.insert(fb)).toBe(fb);
    expect(st.lookup(key(a, a))).toBe(fa);
    expect(st.lookup(key(b, b))).toBe(fb);
    st.remove(fa);
    expect(st.lookup(key(a, a))).toBeNull();
    expect(st.lookup(key(b, b))).toBe(fb);
  });
});
