// Micro-benchmark of the flow caches: lookups/s for EMC hits and megaflow
// hits (EMC off or always missing) over 1/10/100 masks and 1/1k/100k flows,
// plus a Map-based subtable for comparison with the typed-array table.
// Run: npx tsc -p . && node dist/bench/cache.js [--quick]

import { pathToFileURL } from 'node:url';
import { FlowCache } from '../datapath/cache/flow-cache.js';
import { Megaflow } from '../datapath/cache/megaflow.js';
import { hashKey, hashMasked } from '../datapath/flow/hash.js';
import {
  KEY_WORDS,
  W_ETH_DST_LO,
  W_ETH_SRC_HI,
  W_ETH_SRC_LO,
  W_ETH_TYPE,
  W_IN_PORT,
  W_NW_DST,
  W_NW_SRC,
  W_RECIRC_ID,
  W_TP_PORTS,
  W_VLAN0,
  newKey,
} from '../datapath/flow/key.js';

export interface CacheBenchRow {
  case: string;
  masks: number;
  flows: number;
  /** Best timed chunk (least disturbed); median beside it. */
  nsPerLookup: number;
  nsPerLookupMedian: number;
  mLookupsPerSec: number;
  subtablesPerLookup: number;
}

/** Distinct realistic masks: NORMAL-style L2 exact + varying L3/L4 un-wildcarding. */
function makeMask(i: number): Uint32Array {
  const m = newKey();
  m[W_RECIRC_ID] = 0xffffffff;
  m[W_IN_PORT] = 0xffffffff;
  m[W_ETH_SRC_HI] = 0xffff;
  m[W_ETH_SRC_LO] = 0xffffffff;
  m[W_ETH_TYPE] = 0xffff;
  const prefix = 8 + (i % 25); // /8../32
  m[W_NW_DST] = (0xffffffff << (32 - prefix)) >>> 0;
  const v = Math.floor(i / 25); // 0..3 for 100 masks
  if (v & 1) m[W_TP_PORTS] = 0xffff;
  if (v & 2) m[W_VLAN0] = 0x1fff;
  return m;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
}

/** Flow i: eth_src_lo = i (unique, so flows never overlap), in mask i % masks. */
function flowKey(i: number, rnd: () => number): Uint32Array {
  const k = newKey();
  k[W_IN_PORT] = 1 + (i & 3);
  k[W_ETH_SRC_HI] = 0x0200;
  k[W_ETH_SRC_LO] = i;
  k[W_ETH_DST_LO] = rnd();
  k[W_ETH_TYPE] = 0x0800;
  k[W_NW_SRC] = rnd();
  k[W_NW_DST] = rnd();
  k[W_TP_PORTS] = rnd();
  k[W_VLAN0] = 0x1000 | (rnd() & 0xfff);
  k[22] = (6 << 24) | (64 << 8);
  return k;
}

/** A packet of flow i: the flow's key with fresh random bits outside its mask. */
function packetOf(flowKeyI: Uint32Array, mask: Uint32Array, rnd: () => number): Uint32Array {
  const k = newKey();
  for (let w = 0; w < KEY_WORDS; w++) k[w] = (flowKeyI[w] & mask[w]) | (rnd() & ~mask[w] & (w === W_NW_SRC || w === W_TP_PORTS ? 0xffffffff : 0));
  k[W_ETH_TYPE] = 0x0800;
  return k;
}

interface Workload {
  keys: Uint32Array[];
  hashes: Int32Array;
  /** Next packet index (persists across timed chunks). */
  pos: number;
}

function buildCache(masks: number, flows: number, emcEntries: number, seed: number): { fc: FlowCache<number>; packets: Workload } {
  const rnd = lcg(seed);
  const fc = new FlowCache<number>({ emcEntries, flowLimit: Math.max(flows, 200_000) });
  const maskList = Array.from({ length: masks }, (_, i) => makeMask(i));
  const fkeys: Uint32Array[] = [];
  for (let i = 0; i < flows; i++) {
    const k = flowKey(i, rnd);
    fkeys.push(k);
    fc.put(k, maskList[i % masks], i);
  }
  // Packets spread over all flows (up to 64k distinct packet keys).
  const nPkts = Math.min(65536, Math.max(1024, flows));
  const keys: Uint32Array[] = [];
  const hashes = new Int32Array(nPkts);
  for (let p = 0; p < nPkts; p++) {
    const i = p % flows;
    const k = packetOf(fkeys[i], maskList[i % masks], rnd);
    keys.push(k);
    hashes[p] = hashKey(k, 0);
  }
  return { fc, packets: { keys, hashes, pos: 0 } };
}

/**
 * ns per iteration of `body(n)` (n iterations per call): chunks are timed
 * until `budgetMs` passes; the best chunk is reported (the VM this runs on
 * shares its CPUs, so the minimum is the least disturbed estimate) and the
 * median beside it.
 */
function timeLoop(budgetMs: number, body: (n: number) => number): { best: number; median: number } {
  const chunk = 20_000;
  let sink = body(chunk * 5); // warm up (tiers up to optimized code)
  const samples: number[] = [];
  const end = Date.now() + budgetMs;
  do {
    const t0 = process.hrtime.bigint();
    sink += body(chunk);
    samples.push(Number(process.hrtime.bigint() - t0) / chunk);
  } while (Date.now() < end || samples.length < 5);
  if (sink === -1) console.log('');
  samples.sort((a, b) => a - b);
  return { best: samples[0], median: samples[samples.length >> 1] };
}

/** ns of one trivial loop iteration: divide results by this to compare machines. */
function calibrate(budgetMs: number): { best: number; median: number } {
  return timeLoop(budgetMs, (n) => {
    let s = 0;
    for (let i = 0; i < n * 100; i++) s = (s + i) | 0;
    return s;
  });
}

function lookupLoop(fc: FlowCache<number>, w: Workload, n: number, passHash: boolean, limit: number): number {
  const keys = w.keys;
  const hashes = w.hashes;
  const m = Math.min(keys.length, limit);
  let sink = 0;
  let j = w.pos % m;
  for (let i = 0; i < n; i++) {
    const f = passHash ? fc.lookup(keys[j], hashes[j]) : fc.lookup(keys[j]);
    if (f !== null) sink += f.id;
    if (++j === m) j = 0;
  }
  w.pos = j;
  return sink;
}

/** Batches of 32 consecutive workload packets through lookupBatch; ns per packet. */
function batchLoop(fc: FlowCache<number>, w: Workload, batches: Uint32Array[][], hashes: Int32Array[], n: number, out: (Megaflow<number> | null)[]): number {
  let sink = 0;
  let b = w.pos;
  for (let i = 0; i < n; i += 32) {
    sink = (sink + fc.lookupBatch(batches[b], hashes[b], 32, out)) | 0;
    if (++b === batches.length) b = 0;
  }
  w.pos = b;
  return sink;
}

function batchesOf(w: Workload, limit: number): { batches: Uint32Array[][]; hashes: Int32Array[] } {
  const n = Math.min(w.keys.length, limit);
  const batches: Uint32Array[][] = [];
  const hashes: Int32Array[] = [];
  for (let i = 0; i + 32 <= n; i += 32) {
    batches.push(w.keys.slice(i, i + 32));
    hashes.push(w.hashes.slice(i, i + 32));
  }
  return { batches, hashes };
}

// --- Map-based subtable, for the table-layout comparison only --------------------
class MapSubtable {
  readonly words: Uint8Array;
  readonly n: number;
  readonly map = new Map<number, Megaflow<number> | Megaflow<number>[]>();
  constructor(readonly mask: Uint32Array) {
    const w: number[] = [];
    for (let i = 0; i < KEY_WORDS; i++) if (mask[i] !== 0) w.push(i);
    this.words = Uint8Array.from(w);
    this.n = w.length;
  }
  insert(f: Megaflow<number>): void {
    const h = hashMasked(f.key, this.mask, this.words, this.n, 0);
    const e = this.map.get(h);
    if (e === undefined) this.map.set(h, f);
    else if (Array.isArray(e)) e.push(f);
    else this.map.set(h, [e, f]);
  }
  lookup(key: Uint32Array): Megaflow<number> | null {
    const h = hashMasked(key, this.mask, this.words, this.n, 0);
    const e = this.map.get(h);
    if (e === undefined) return null;
    if (!Array.isArray(e)) return this.eq(e, key) ? e : null;
    for (let i = 0; i < e.length; i++) if (this.eq(e[i], key)) return e[i];
    return null;
  }
  private eq(f: Megaflow<number>, key: Uint32Array): boolean {
    const words = this.words;
    const mask = this.mask;
    const fk = f.key;
    for (let j = 0; j < this.n; j++) {
      const w = words[j];
      if (((key[w] & mask[w]) >>> 0) !== fk[w]) return false;
    }
    return true;
  }
}

function mapClassifierNs(masks: number, flows: number, budgetMs: number, seed: number): { best: number; median: number } {
  const { fc, packets } = buildCache(masks, flows, 0, seed);
  const subs: MapSubtable[] = [];
  for (const st of fc.classifier.subtables()) {
    const ms = new MapSubtable(st.mask);
    for (const f of st.flows()) ms.insert(f);
    subs.push(ms);
  }
  const keys = packets.keys;
  return timeLoop(budgetMs, (n) => {
    let sink = 0;
    let j = packets.pos;
    for (let i = 0; i < n; i++) {
      const k = keys[j];
      for (let s = 0; s < subs.length; s++) {
        const f = subs[s].lookup(k);
        if (f !== null) {
          sink += f.id;
          break;
        }
      }
      if (++j === keys.length) j = 0;
    }
    packets.pos = j;
    return sink;
  });
}

function row(c: string, masks: number, flows: number, t: { best: number; median: number }, searched: number): CacheBenchRow {
  return {
    case: c,
    masks,
    flows,
    nsPerLookup: Math.round(t.best * 10) / 10,
    nsPerLookupMedian: Math.round(t.median * 10) / 10,
    mLookupsPerSec: Math.round((1000 / t.best) * 100) / 100,
    subtablesPerLookup: Math.round(searched * 100) / 100,
  };
}

export async function runCacheBench(opts: { quick: boolean }): Promise<object[]> {
  const budgetMs = opts.quick ? 150 : 1000;
  const rows: CacheBenchRow[] = [];
  rows.push(row('calibration: trivial loop x100', 0, 0, calibrate(budgetMs), NaN));

  // EMC hits: 1024 distinct packet keys, all resident in the 8192-entry EMC.
  for (const passHash of [true, false]) {
    const { fc, packets } = buildCache(10, 1000, 8192, 1);
    lookupLoop(fc, packets, 4096, true, 1024); // fill the EMC
    fc.resetCounters();
    const t = timeLoop(budgetMs, (n) => lookupLoop(fc, packets, n, passHash, 1024));
    if (fc.megaflowHits * 100 > fc.emcHits) throw new Error('EMC bench: working set not resident');
    rows.push(row(passHash ? 'emc-hit (hash given)' : 'emc-hit (hash computed)', 10, 1000, t, 0));
  }

  // Megaflow hits, EMC disabled; traffic spread evenly over flows and masks.
  for (const masks of [1, 10, 100]) {
    for (const flows of [1, 1000, 100_000]) {
      if (flows < masks) continue;
      const { fc, packets } = buildCache(masks, flows, 0, 2);
      const t = timeLoop(budgetMs, (n) => lookupLoop(fc, packets, n, true, 1 << 30));
      const c = fc.classifier;
      if (c.misses !== 0) throw new Error('megaflow bench: unexpected misses');
      rows.push(row('megaflow-hit (emc off)', masks, flows, t, c.subtablesSearched / c.lookups));
    }
  }

  // Megaflow hits with the EMC present but mostly missing (64k keys > 8k
  // slots: it pays lookup + insert), and full misses (every subtable searched).
  for (const masks of [10, 100]) {
    const { fc, packets } = buildCache(masks, 100_000, 8192, 3);
    const t = timeLoop(budgetMs, (n) => lookupLoop(fc, packets, n, true, 1 << 30));
    const c = fc.classifier;
    const emcPct = ((fc.emcHits / (c.lookups + fc.emcHits)) * 100).toFixed(0);
    rows.push(row(`megaflow-hit (emc missing, ${emcPct}% emc hits)`, masks, 100_000, t, c.subtablesSearched / c.lookups));
  }
  for (const masks of [10, 100]) {
    const { fc, packets } = buildCache(masks, 1000, 0, 4);
    fc.flush();
    for (let i = 0; i < 1000; i++) fc.put(flowKey(1_000_000 + i, lcg(i)), makeMask(i % masks), i);
    const t = timeLoop(budgetMs, (n) => lookupLoop(fc, packets, n, true, 1 << 30));
    const c = fc.classifier;
    rows.push(row('miss (emc off)', masks, 1000, t, c.subtablesSearched / c.lookups));
  }

  // The same through lookupBatch (32 packets per call), as the datapath will call it.
  {
    const { fc, packets } = buildCache(10, 1000, 8192, 1);
    const { batches, hashes } = batchesOf(packets, 1024);
    const out: (Megaflow<number> | null)[] = [];
    batchLoop(fc, packets, batches, hashes, 4096, out);
    packets.pos = 0;
    fc.resetCounters();
    const t = timeLoop(budgetMs, (n) => batchLoop(fc, packets, batches, hashes, n, out));
    if (fc.megaflowHits * 100 > fc.emcHits) throw new Error('EMC batch bench: working set not resident');
    rows.push(row('batch32 emc-hit (hash given)', 10, 1000, t, 0));
  }
  for (const [masks, flows] of [
    [1, 100_000],
    [10, 1000],
    [10, 100_000],
    [100, 1000],
  ]) {
    const { fc, packets } = buildCache(masks, flows, 0, 2);
    const { batches, hashes } = batchesOf(packets, 1 << 30);
    const out: (Megaflow<number> | null)[] = [];
    const t = timeLoop(budgetMs, (n) => batchLoop(fc, packets, batches, hashes, n, out));
    const c = fc.classifier;
    if (c.misses !== 0) throw new Error('megaflow batch bench: unexpected misses');
    rows.push(row('batch32 megaflow-hit (emc off)', masks, flows, t, c.subtablesSearched / c.lookups));
  }

  // Table layout comparison: Map<hash, flow|flow[]> subtables, same workload.
  for (const flows of [1000, 100_000]) {
    rows.push(row('map-subtable classifier (comparison)', 10, flows, mapClassifierNs(10, flows, budgetMs, 2), NaN));
  }

  for (const r of rows) {
    console.log(
      `${r.case.padEnd(40)} masks=${String(r.masks).padStart(3)} flows=${String(r.flows).padStart(6)}  ` +
        `best ${r.nsPerLookup.toFixed(1).padStart(7)} ns (median ${r.nsPerLookupMedian.toFixed(1).padStart(7)})  ` +
        `${r.mLookupsPerSec.toFixed(2).padStart(6)} M/s` +
        (Number.isNaN(r.subtablesPerLookup) ? '' : `  subtables/lookup=${r.subtablesPerLookup}`),
    );
  }
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runCacheBench({ quick: process.argv.includes('--quick') });
}
