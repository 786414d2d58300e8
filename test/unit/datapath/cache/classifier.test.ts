import { describe, expect, it } from 'vitest';
import { Classifier } from '../../../../datapath/cache/classifier.js';
import { Megaflow } from '../../../../datapath/cache/megaflow.js';
import { FlowCacheError } from '../../../../datapath/cache/flow-cache-error.js';
import { W_ETH_TYPE, W_IN_PORT, W_NW_DST, newKey } from '../../../../datapath/flow/key.js';

function maskOf(port: boolean, dstPrefix: number): Uint32Array {
  const m = newKey();
  if (port) m[W_IN_PORT] = 0xffffffff;
  m[W_ETH_TYPE] = 0xffff;
  if (dstPrefix > 0) m[W_NW_DST] = (0xffffffff << (32 - dstPrefix)) >>> 0;
  return m;
}
function pkt(port: number, dst: number): Uint32Array {
  const k = newKey();
  k[W_IN_PORT] = port;
  k[W_ETH_TYPE] = 0x0800;
  k[W_NW_DST] = dst >>> 0;
  return k;
}

describe('Classifier', () => {
  it('looks up across subtables, counts hits, misses and subtables searched', () => {
    const c = new Classifier<string>();
    const a = c.insert(new Megaflow(pkt(1, 0x0a000000), maskOf(true, 8), 'a'));
    const b = c.insert(new Megaflow(pkt(0, 0xc0a80100), maskOf(false, 24), 'b'));
    expect(c.count).toBe(2);
    expect(c.subtableCount).toBe(2);
    expect(c.lookup(pkt(1, 0x0a010203))).toBe(a);
    expect(c.lookup(pkt(7, 0xc0a801fe))).toBe(b);
    expect(c.lookup(pkt(2, 0x0a010203))).toBeNull();
    expect(c.lookups).toBe(3);
    expect(c.hits).toBe(2);
    expect(c.misses).toBe(1);
    expect(c.subtablesSearched).toBe(1 + 2 + 2);
  });

  it('rejects a duplicate masked key by returning the installed flow', () => {
    const c = new Classifier<string>();
    const a = c.insert(new Megaflow(pkt(1, 0x0a000001), maskOf(true, 8), 'a'));
    const dup = new Megaflow(pkt(1, 0x0affffff), maskOf(true, 8), 'dup');
    expect(c.insert(dup)).toBe(a);
    expect(c.count).toBe(1);
    expect(a.actions).toBe('a');
  });

  it('modifies actions, finds by key and mask, removes and drops empty subtables', () => {
    const c = new Classifier<string>();
    const a = c.insert(new Megaflow(pkt(1, 0x0a000000), maskOf(true, 8), 'a'));
    expect(c.find(pkt(1, 0x0a999999), maskOf(true, 8))).toBe(a);
    expect(c.find(pkt(1, 0x0a999999), maskOf(true, 16))).toBeNull();
    expect(c.modify(pkt(1, 0x0a000000), maskOf(true, 8), 'a2')).toBe(a);
    expect(c.lookup(pkt(1, 0x0a000005))?.actions).toBe('a2');
    expect(c.modify(pkt(2, 0x0a000000), maskOf(true, 8), 'x')).toBeNull();
    expect(c.remove(a)).toBe(true);
    expect(a.dead).toBe(true);
    expect(c.remove(a)).toBe(false);
    expect(c.count).toBe(0);
    expect(c.subtableCount).toBe(0);
    expect(c.lookup(pkt(1, 0x0a000005))).toBeNull();
    // A removed flow object can be installed again.
    expect(c.insert(a)).toBe(a);
    expect(a.dead).toBe(false);
    expect(c.lookup(pkt(1, 0x0a000005))).toBe(a);
  });

  it('enforces the flow limit with ERR_FLOW_LIMIT', () => {
    const c = new Classifier<number>({ flowLimit: 3 });
    for (let i = 0; i < 3; i++) c.insert(new Megaflow(pkt(i, 0), maskOf(true, 0), i));
    expect(c.full).toBe(true);
    let err: unknown;
    try {
      c.insert(new Megaflow(pkt(9, 0), maskOf(true, 0), 9));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FlowCacheError);
    expect((err as FlowCacheError).code).toBe('ERR_FLOW_LIMIT');
    expect((err as Error).message).toMatch(/flow-limit is 3/);
    // A duplicate is still answered when full.
    expect(c.insert(new Megaflow(pkt(1, 0), maskOf(true, 0), 1)).actions).toBe(1);
    expect(new Classifier().flowLimit).toBe(200_000);
  });

  it('dumps every flow, tolerating removal while dumping, and flushes', () => {
    const c = new Classifier<number>();
    const all = new Set<Megaflow<number>>();
    for (let i = 0; i < 100; i++) all.add(c.insert(new Megaflow(pkt(i, i << 8), maskOf(i % 3 !== 0, 24), i)));
    const seen = new Set<Megaflow<number>>();
    for (const f of c.dump()) {
      seen.add(f);
      c.remove(f);
    }
    expect(seen).toEqual(all);
    expect(c.count).toBe(0);
    for (const f of all) c.insert(f);
    c.flush();
    expect(c.count).toBe(0);
    expect([...c.dump()]).toEqual([]);
    for (const f of all) expect(f.dead).toBe(true);
  });

  it('re-ranks subtables by hits every resortInterval lookups', () => {
    const c = new Classifier<string>({ resortInterval: 10 });
    const a = c.insert(new Megaflow(pkt(1, 0), maskOf(true, 0), 'a'));
    const b = c.insert(new Megaflow(pkt(0, 0x0a000000), maskOf(false, 8), 'b'));
    expect(c.rankOf(a)).toBe(0);
    expect(c.rankOf(b)).toBe(1);
    for (let i = 0; i < 9; i++) c.lookup(pkt(5, 0x0a000001));
    expect(c.rankOf(b)).toBe(1);
    c.lookup(pkt(5, 0x0a000001)); // 10th lookup re-sorts first
    expect(c.rankOf(b)).toBe(0);
    expect(c.reorders).toBe(1);
    const stB = c.subtables()[0];
    expect(stB.hitsTotal + stB.hits).toBe(10);
    c.resetCounters();
    c.lookup(pkt(5, 0x0a000001));
    expect(c.subtablesSearched).toBe(1);
  });

  it('ties (overlapping flows) go to the first subtable in rank order', () => {
    const c = new Classifier<string>({ resortInterval: 0 });
    const wide = c.insert(new Megaflow(pkt(0, 0x0a000000), maskOf(false, 8), 'wide'));
    const narrow = c.insert(new Megaflow(pkt(1, 0x0a000000), maskOf(true, 24), 'narrow'));
    expect(c.lookup(pkt(1, 0x0a000001))).toBe(wide);
    for (let i = 0; i < 5; i++) c.lookup(pkt(2, 0x0a000001)); // wide: 6 hits, narrow 0
    c.lookup(pkt(1, 0x0b000001));
    // Make narrow's subtable rank first: only its hits count from here.
    c.resort();
    c.remove(wide);
    for (let i = 0; i < 3; i++) c.lookup(pkt(1, 0x0a000001));
    c.insert(wide);
    c.resort();
    expect(c.rankOf(narrow)).toBe(0);
    expect(c.lookup(pkt(1, 0x0a000001))).toBe(narrow);
    expect(c.lookup(pkt(2, 0x0a000001))).toBe(wide);
  });
});
