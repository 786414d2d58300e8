import { describe, expect, it } from 'vitest';
import { FlowCache } from '../../../../datapath/cache/flow-cache.js';
import { FlowCacheError } from '../../../../datapath/cache/flow-cache-error.js';
import { hashKey } from '../../../../datapath/flow/hash.js';
import { W_ETH_TYPE, W_IN_PORT, W_NW_DST, newKey } from '../../../../datapath/flow/key.js';

function pkt(port: number, dst: number): Uint32Array {
  const k = newKey();
  k[W_IN_PORT] = port;
  k[W_ETH_TYPE] = 0x0800;
  k[W_NW_DST] = dst >>> 0;
  return k;
}
function mask(prefix: number): Uint32Array {
  const m = newKey();
  m[W_IN_PORT] = 0xffffffff;
  m[W_ETH_TYPE] = 0xffff;
  m[W_NW_DST] = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return m;
}

describe('FlowCache', () => {
  it('misses, then a megaflow hit, then EMC hits for the same key', () => {
    const fc = new FlowCache<string>();
    const k = pkt(1, 0x0a000001);
    expect(fc.lookup(k)).toBeNull();
    const f = fc.put(k, mask(8), 'out:2', 'ufid-1');
    expect(fc.lookup(k)).toBe(f);
    expect(fc.lookup(k, hashKey(k, 0))).toBe(f);
    expect(fc.lookup(pkt(1, 0x0a000002))).toBe(f);
    expect([fc.misses, fc.megaflowHits, fc.emcHits]).toEqual([1, 2, 1]);
    expect(fc.getByUfid('ufid-1')).toBe(f);
    expect(fc.get(pkt(1, 0x0affffff), mask(8))).toBe(f);
    expect([...fc.dump()]).toEqual([f]);
    expect(fc.count).toBe(1);
  });

  it('EMC never returns a deleted flow, and sees modified actions', () => {
    const fc = new FlowCache<string>();
    const k = pkt(1, 0x0a000001);
    const f = fc.put(k, mask(8), 'a');
    fc.lookup(k);
    expect(fc.lookup(k)?.actions).toBe('a'); // EMC hit
    expect(fc.modify(k, mask(8), 'b')).toBe(f);
    expect(fc.lookup(k)?.actions).toBe('b');
    expect(fc.del(f)).toBe(true);
    expect(fc.del(f)).toBe(false);
    expect(fc.lookup(k)).toBeNull();
    expect(fc.getByUfid('')).toBeNull();
    const g = fc.put(k, mask(16), 'c');
    expect(fc.lookup(k)).toBe(g);
    expect(fc.delMatch(pkt(1, 0x0a00ffff), mask(16))).toBe(g);
    expect(fc.lookup(k)).toBeNull();
  });

  it('put returns the existing flow for a duplicate and throws ERR_FLOW_LIMIT when full', () => {
    const fc = new FlowCache<string>({ flowLimit: 2 });
    const a = fc.put(pkt(1, 0), mask(0), 'a');
    expect(fc.put(pkt(1, 5), mask(0), 'dup')).toBe(a);
    fc.put(pkt(2, 0), mask(0), 'b');
    expect(() => fc.put(pkt(3, 0), mask(0), 'c')).toThrowError(FlowCacheError);
    try {
      fc.put(pkt(3, 0), mask(0), 'c');
    } catch (e) {
      expect((e as FlowCacheError).code).toBe('ERR_FLOW_LIMIT');
    }
    expect(fc.count).toBe(2);
  });

  it('flush empties classifier and EMC; works with the EMC disabled', () => {
    for (const emcEntries of [0, 8192]) {
      const fc = new FlowCache<string>({ emcEntries });
      expect(fc.emc === null).toBe(emcEntries === 0);
      const k = pkt(1, 1);
      const f = fc.put(k, mask(32), 'a', 'u');
      expect(fc.lookup(k)).toBe(f);
      expect(fc.lookup(k)).toBe(f);
      fc.flush();
      expect(f.dead).toBe(true);
      expect(fc.lookup(k)).toBeNull();
      expect(fc.count).toBe(0);
      expect(fc.getByUfid('u')).toBeNull();
      expect(fc.emcHits + fc.megaflowHits + fc.misses).toBe(3);
    }
  });

  it('hit() accumulates per-flow statistics', () => {
    const fc = new FlowCache<string>();
    const f = fc.put(pkt(1, 1), mask(32), 'a');
    fc.hit(f, 60, 0x02, 1000);
    fc.hit(f, 1500, 0x10, 1005);
    expect([f.packets, f.bytes, f.tcpFlags, f.usedMs]).toEqual([2, 1560, 0x12, 1005]);
  });

  it('a ufid names one live flow; stats() reports counters', () => {
    const fc = new FlowCache<string>();
    const a = fc.put(pkt(1, 1), mask(32), 'a', 'u1');
    expect(fc.put(pkt(2, 2), mask(32), 'b', 'u1')).toBe(a);
    expect(fc.count).toBe(1);
    fc.del(a);
    const b = fc.put(pkt(2, 2), mask(32), 'b', 'u1');
    expect(b).not.toBe(a);
    expect(fc.getByUfid('u1')).toBe(b);
    fc.lookup(pkt(2, 2));
    fc.lookup(pkt(2, 2));
    fc.lookup(pkt(3, 3));
    expect(fc.stats()).toMatchObject({
      flows: 1,
      flowLimit: 200_000,
      masks: 1,
      emcHits: 1,
      megaflowHits: 1,
      misses: 1,
      lookups: 3,
      masksHitPerPacket: 1,
      emcEntries: 8192,
      emcUsed: 1,
    });
    expect(JSON.parse(JSON.stringify(fc.stats())).flows).toBe(1);
  });

  it('flows of one mask share one mask array, owned by the cache', () => {
    const fc = new FlowCache<string>();
    const m = mask(24);
    const a = fc.put(pkt(1, 0x0a000000), m, 'a');
    const b = fc.put(pkt(2, 0x0a000000), m, 'b');
    expect(b.mask).toBe(a.mask);
    expect(a.mask).not.toBe(m);
    m.fill(0); // the caller's array is not used after put
    expect(fc.lookup(pkt(2, 0x0a0000ff))).toBe(b);
    expect(fc.lookup(pkt(2, 0x0a0001ff))).toBeNull();
  });
});
