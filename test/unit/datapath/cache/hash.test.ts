import { describe, expect, it } from 'vitest';
import { hashKey, hashMasked } from '../../../../datapath/flow/hash.js';
import { KEY_WORDS, W_ETH_TYPE, W_IN_PORT, W_NW_DST, newKey } from '../../../../datapath/flow/key.js';
import { Subtable } from '../../../../datapath/cache/subtable.js';

describe('flow key hashing', () => {
  it('hashKey is deterministic, int32, and sensitive to every word and the basis', () => {
    const k = newKey();
    const h0 = hashKey(k, 0);
    expect(h0).toBe(hashKey(newKey(), 0));
    expect(h0 | 0).toBe(h0);
    expect(hashKey(k, 1)).not.toBe(h0);
    const seen = new Set<number>([h0]);
    for (let i = 0; i < KEY_WORDS; i++) {
      const k2 = newKey();
      k2[i] = 1;
      seen.add(hashKey(k2, 0));
    }
    expect(seen.size).toBe(KEY_WORDS + 1);
  });

  it('hashMasked ignores bits outside the mask and matches the subtable inline hash', () => {
    const mask = newKey();
    mask[W_IN_PORT] = 0xffffffff;
    mask[W_ETH_TYPE] = 0xffff;
    mask[W_NW_DST] = 0xffffff00;
    const st = new Subtable(mask);
    const a = newKey();
    a[W_IN_PORT] = 3;
    a[W_ETH_TYPE] = 0x0800;
    a[W_NW_DST] = 0x0a000001;
    const b = a.slice();
    b[W_NW_DST] = 0x0a0000fe;
    b[W_NW_DST + 1] = 99;
    b[0x20] = 7;
    const ha = hashMasked(a, mask, st.words, st.n, 0);
    expect(hashMasked(b, mask, st.words, st.n, 0)).toBe(ha);
    expect(st.hashOf(a)).toBe(ha);
    b[W_NW_DST] = 0x0a000101;
    expect(hashMasked(b, mask, st.words, st.n, 0)).not.toBe(ha);
  });

  it('high-bit words hash the same through Uint32 and masked paths', () => {
    const mask = newKey().fill(0xffffffff);
    const st = new Subtable(mask);
    const k = newKey().fill(0xdeadbeef);
    expect(hashMasked(k, mask, st.words, st.n, 0)).toBe(st.hashOf(k));
  });
});
