// Differential test: FlowCache (EMC + classifier) against a naive linear scan
// over all installed megaflows, on seeded random masks, flows and packets.
import { describe, expect, it } from 'vitest';
import { FlowCache } from '../../../../datapath/cache/flow-cache.js';
import { Classifier } from '../../../../datapath/cache/classifier.js';
import { Megaflow } from '../../../../datapath/cache/megaflow.js';
import { hashKey } from '../../../../datapath/flow/hash.js';
import {
  KEY_WORDS,
  W_ETH_DST_HI,
  W_ETH_DST_LO,
  W_ETH_TYPE,
  W_IN_PORT,
  W_NW_DST,
  W_NW_PROTO_TOS_TTL_FRAG,
  W_NW_SRC,
  W_RECIRC_ID,
  W_TP_PORTS,
  W_VLAN0,
  MASK_NW_PROTO,
  MASK_TP_DST,
  MASK_TP_SRC,
  newKey,
} from '../../../../datapath/flow/key.js';

/** mulberry32: small, seeded, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const prefix = (bits: number): number => (bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);

/** Realistic megaflow masks: what xlate typically un-wildcards. */
function randomMask(r: () => number): Uint32Array {
  const m = newKey();
  m[W_RECIRC_ID] = 0xffffffff; // always matched by OVS
  if (r() < 0.8) m[W_IN_PORT] = 0xffffffff;
  if (r() < 0.9) m[W_ETH_TYPE] = 0xffff;
  if (r() < 0.3) {
    m[W_ETH_DST_HI] = 0xffff;
    m[W_ETH_DST_LO] = 0xffffffff;
  }
  if (r() < 0.15) m[W_VLAN0] = 0x1fff;
  if (r() < 0.8) m[W_NW_DST] = prefix(8 + Math.floor(r() * 25)); // /8../32
  if (r() < 0.3) m[W_NW_SRC] = prefix(8 + Math.floor(r() * 25));
  if (r() < 0.5) m[W_NW_PROTO_TOS_TTL_FRAG] = MASK_NW_PROTO | (r() < 0.3 ? 0xff : 0);
  if (r() < 0.4) m[W_TP_PORTS] = MASK_TP_DST | (r() < 0.2 ? MASK_TP_SRC : 0);
  return m;
}

/** Packets from small value pools so that flows and packets meet often. */
function randomPacket(r: () => number): Uint32Array {
  const k = newKey();
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  k[W_IN_PORT] = 1 + Math.floor(r() * 4);
  k[W_ETH_TYPE] = pick([0x0800, 0x0800, 0x0800, 0x0806, 0x86dd]);
  k[W_ETH_DST_HI] = 0x0200;
  k[W_ETH_DST_LO] = pick([1, 2, 3, 0xffffffff]);
  if (r() < 0.2) k[W_VLAN0] = 0x1000 | pick([10, 20]);
  k[W_NW_DST] = (pick([0x0a000000, 0xc0a80000, 0xac100000, 0x08080000]) | Math.floor(r() * 0x300)) >>> 0;
  k[W_NW_SRC] = (pick([0x0a000000, 0xc0a80000]) | Math.floor(r() * 0x300)) >>> 0;
  k[W_NW_PROTO_TOS_TTL_FRAG] = ((pick([6, 17, 1]) << 24) | (64 << 8) | pick([0, 0, 0, 1])) >>> 0;
  k[W_TP_PORTS] = ((pick([1234, 40000, 5353]) << 16) | pick([22, 53, 80, 443, 8080])) >>> 0;
  k[25] = Math.floor(r() * 0x20); // tcp flags, never masked here
  k[KEY_WORDS - 1] = 0;
  return k;
}

function overlaps(a: Megaflow<unknown>, b: Megaflow<unknown>): boolean {
  for (let i = 0; i < KEY_WORDS; i++) if (((a.key[i] ^ b.key[i]) & a.mask[i] & b.mask[i]) !== 0) return false;
  return true;
}

function naiveFirst<A>(flows: Megaflow<A>[], key: Uint32Array, rank: (f: Megaflow<A>) => number): Megaflow<A> | null {
  let best: Megaflow<A> | null = null;
  for (const f of flows) {
    if (f.matches(key) && (best === null || rank(f) < rank(best))) best = f;
  }
  return best;
}

interface Scenario {
  seed: number;
  emcEntries: number;
  emcInsertInvProb: number;
  resortInterval: number;
}

function runNonOverlapping(s: Scenario): { emcHits: number; megaflowHits: number; misses: number; masks: number } {
  const r = prng(s.seed);
  const nMasks = 1 + Math.floor(r() * 20);
  const masks = Array.from({ length: nMasks }, () => randomMask(r));
  const fc = new FlowCache<string>({
    emcEntries: s.emcEntries,
    emcInsertInvProb: s.emcInsertInvProb,
    emcSeed: s.seed,
    resortInterval: s.resortInterval,
  });
  let live: Megaflow<string>[] = [];
  let version = 0;
  const tryInstall = (attempts: number): void => {
    for (let t = 0; t < attempts; t++) {
      const cand = new Megaflow<string>(randomPacket(r), masks[Math.floor(r() * nMasks)], `v${version++}`);
      if (live.some((f) => overlaps(f, cand))) continue;
      const got = fc.put(cand.key, cand.mask, cand.actions);
      expect(got).not.toBeNull();
      live.push(got);
    }
  };
  const pool = Array.from({ length: 2000 }, () => randomPacket(r));
  const check = (): void => {
    for (let i = 0; i < 10_000; i++) {
      // Reuse pool packets (EMC hits) and sometimes a fresh one.
      const k = r() < 0.9 ? pool[Math.floor(r() * pool.length)] : randomPacket(r);
      const exp = naiveFirst(live, k, () => 0);
      const got = fc.lookup(k, r() < 0.5 ? hashKey(k, 0) : undefined);
      if (got !== exp) {
        throw new Error(`seed ${s.seed} packet ${i}: got ${got?.actions ?? 'miss'}, want ${exp?.actions ?? 'miss'}`);
      }
      if (got !== null) expect(got.actions).toBe(exp!.actions);
    }
  };
  /** Same packets through lookupBatch, in batches of 1..32. */
  const checkBatched = (): void => {
    const out: (Megaflow<string> | null)[] = [];
    for (let done = 0; done < 10_000; ) {
      const n = Math.min(1 + Math.floor(r() * 32), 10_000 - done);
      const batch: Uint32Array[] = [];
      for (let i = 0; i < n; i++) batch.push(r() < 0.9 ? pool[Math.floor(r() * pool.length)] : randomPacket(r));
      const hashes = r() < 0.5 ? Int32Array.from(batch, (k) => hashKey(k, 0)) : null;
      const misses = fc.lookupBatch(batch, hashes, n, out);
      let expMisses = 0;
      for (let i = 0; i < n; i++) {
        const exp = naiveFirst(live, batch[i], () => 0);
        if (exp === null) expMisses++;
        if (out[i] !== exp) {
          throw new Error(`seed ${s.seed} batch packet ${done + i}: got ${out[i]?.actions ?? 'miss'}, want ${exp?.actions ?? 'miss'}`);
        }
      }
      expect(misses).toBe(expMisses);
      done += n;
    }
  };
  tryInstall(600);
  expect(fc.count).toBe(live.length);
  check();
  checkBatched();
  // Random deletes, modifies and re-inserts; then check again.
  for (let round = 0; round < 3; round++) {
    const deleted: Megaflow<string>[] = [];
    const kept: Megaflow<string>[] = [];
    for (const f of live) {
      const x = r();
      if (x < 0.3) {
        expect(fc.del(f)).toBe(true);
        deleted.push(f);
      } else {
        if (x < 0.5) expect(fc.modify(f.key, f.mask, `m${version++}`)).toBe(f);
        kept.push(f);
      }
    }
    live = kept;
    for (const f of deleted) {
      if (r() < 0.5 && !live.some((g) => overlaps(g, f))) {
        live.push(fc.put(f.key, f.mask, `re${version++}`));
      }
    }
    tryInstall(200);
    expect(fc.count).toBe(live.length);
    expect(new Set(fc.dump())).toEqual(new Set(live));
    check();
    checkBatched();
  }
  const total = fc.emcHits + fc.megaflowHits + fc.misses;
  expect(total).toBe(80_000);
  expect(fc.classifier.lookups).toBe(fc.megaflowHits + fc.misses);
  return { emcHits: fc.emcHits, megaflowHits: fc.megaflowHits, misses: fc.misses, masks: nMasks };
}

describe('FlowCache differential against a linear scan', () => {
  const scenarios: Scenario[] = [];
  for (let seed = 1; seed <= 6; seed++) {
    scenarios.push({ seed, emcEntries: 8192, emcInsertInvProb: 1, resortInterval: 1000 });
  }
  scenarios.push({ seed: 7, emcEntries: 64, emcInsertInvProb: 1, resortInterval: 97 }); // heavy EMC replacement
  scenarios.push({ seed: 8, emcEntries: 0, emcInsertInvProb: 1, resortInterval: 16384 }); // no EMC
  scenarios.push({ seed: 9, emcEntries: 1024, emcInsertInvProb: 5, resortInterval: 500 });

  for (const s of scenarios) {
    it(`non-overlapping flows agree (seed ${s.seed}, emc ${s.emcEntries}, 1/${s.emcInsertInvProb})`, () => {
      const res = runNonOverlapping(s);
      // Make sure the scenario exercised every path.
      expect(res.megaflowHits).toBeGreaterThan(0);
      expect(res.misses).toBeGreaterThan(0);
      if (s.emcEntries > 0) expect(res.emcHits).toBeGreaterThan(0);
    });
  }

  it('overlapping flows follow the rank-order tie rule (classifier with re-sorts)', () => {
    for (let seed = 100; seed < 104; seed++) {
      const r = prng(seed);
      const masks = Array.from({ length: 1 + Math.floor(r() * 20) }, () => randomMask(r));
      const c = new Classifier<string>({ resortInterval: 50 });
      const flows: Megaflow<string>[] = [];
      for (let i = 0; i < 400; i++) {
        flows.push(c.insert(new Megaflow(randomPacket(r), masks[Math.floor(r() * masks.length)], `f${i}`)));
      }
      const uniq = [...new Set(flows)];
      let ties = 0;
      for (let i = 0; i < 10_000; i++) {
        const k = randomPacket(r);
        const got = c.lookup(k);
        // Ranks are read after the lookup: a due re-sort runs at its start.
        const exp = naiveFirst(uniq, k, (f) => c.rankOf(f));
        expect(got).toBe(exp);
        if (uniq.filter((f) => f.matches(k)).length > 1) ties++;
      }
      expect(ties).toBeGreaterThan(100);
      expect(c.reorders).toBeGreaterThan(0);
    }
  });

  it('overlapping flows: lookupBatch answers and counts like single lookups', () => {
    const r = prng(300);
    const masks = Array.from({ length: 15 }, () => randomMask(r));
    const single = new Classifier<string>({ resortInterval: 0 });
    const batched = new Classifier<string>({ resortInterval: 0 });
    for (let i = 0; i < 400; i++) {
      const k = randomPacket(r);
      const m = masks[Math.floor(r() * masks.length)];
      single.insert(new Megaflow(k, m, `f${i}`));
      batched.insert(new Megaflow(k, m, `f${i}`));
    }
    const out: (Megaflow<string> | null)[] = [];
    for (let b = 0; b < 400; b++) {
      if (b % 7 === 0) {
        single.resort();
        batched.resort();
      }
      const n = 1 + Math.floor(r() * 32);
      const keys = Array.from({ length: n }, () => randomPacket(r));
      const hits = batched.lookupBatch(keys, n, out);
      let expHits = 0;
      for (let i = 0; i < n; i++) {
        const exp = single.lookup(keys[i]);
        if (exp !== null) expHits++;
        expect(out[i]?.actions ?? null).toBe(exp?.actions ?? null);
      }
      expect(hits).toBe(expHits);
    }
    expect([batched.lookups, batched.hits, batched.misses, batched.subtablesSearched]).toEqual([
      single.lookups,
      single.hits,
      single.misses,
      single.subtablesSearched,
    ]);
    expect(batched.reorders).toBe(single.reorders);
  });

  it('overlapping flows: EMC + classifier agree with the rank rule while ranks are static', () => {
    const r = prng(200);
    const masks = Array.from({ length: 12 }, () => randomMask(r));
    const fc = new FlowCache<string>({ resortInterval: 0, emcEntries: 256 });
    let flows: Megaflow<string>[] = [];
    for (let i = 0; i < 400; i++) flows.push(fc.put(randomPacket(r), masks[Math.floor(r() * masks.length)], `f${i}`));
    flows = [...new Set(flows)];
    const pool = Array.from({ length: 1000 }, () => randomPacket(r));
    const check = (): void => {
      for (let i = 0; i < 10_000; i++) {
        const k = pool[Math.floor(r() * pool.length)];
        expect(fc.lookup(k)).toBe(naiveFirst(flows, k, (f) => fc.classifier.rankOf(f)));
      }
    };
    check();
    // Deletes and modifies cannot change which remaining flow wins a key.
    flows = flows.filter((f) => {
      if (r() < 0.3) {
        fc.del(f);
        return false;
      }
      if (r() < 0.3) fc.modify(f.key, f.mask, `${f.actions}'`);
      return true;
    });
    check();
    expect(fc.emcHits).toBeGreaterThan(0);
  });
});
