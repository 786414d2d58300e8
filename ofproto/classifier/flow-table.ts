// One OpenFlow table: a tuple-space classifier (one hash table per distinct
// mask, like OVS's lib/classifier.c) that returns the highest-priority
// matching rule and ORs into a wildcard accumulator the mask of every
// subtable it probed. Subtables are visited by descending max priority and
// the search stops once no remaining subtable can beat the best match: those
// subtables' fields cannot change the result, so leaving them out of the
// accumulator keeps the megaflow correct.

import { OF_WORDS, ofMatchEquals, type OfMatch } from './of-match.js';
import type { OfRule } from './rule.js';

class Subtable {
  /** Words with a non-zero mask. */
  readonly words: number[];
  /** Masked value hash → rules with that value, sorted by descending priority. */
  readonly buckets = new Map<number, OfRule[]>();
  maxPriority = -1;
  count = 0;
  constructor(
    readonly mask: Uint32Array,
    readonly maskHash: number,
  ) {
    this.words = [];
    for (let i = 0; i < OF_WORDS; i++) if (mask[i] !== 0) this.words.push(i);
  }

  hashOf(flow: Uint32Array, masked: boolean): number {
    let h = 0x811c9dc5;
    const m = this.mask;
    for (const w of this.words) {
      const v = masked ? flow[w]! : flow[w]! & m[w]!;
      h = Math.imul(h ^ v, 0x01000193) >>> 0;
      h = (h ^ (h >>> 15)) >>> 0;
    }
    return h;
  }

  /** Highest-priority rule in this subtable matching flow, or null. */
  find(flow: Uint32Array): OfRule | null {
    const list = this.buckets.get(this.hashOf(flow, false));
    if (list === undefined) return null;
    const m = this.mask;
    for (const r of list) {
      const v = r.match.value;
      let ok = true;
      for (const w of this.words) {
        if (((flow[w]! & m[w]!) >>> 0) !== v[w]) {
          ok = false;
          break;
        }
      }
      if (ok) return r;
    }
    return null;
  }

  recomputeMax(): void {
    let max = -1;
    for (const list of this.buckets.values()) if (list.length > 0 && list[0]!.priority > max) max = list[0]!.priority;
    this.maxPriority = max;
  }
}

/** Hash of a mask's non-zero words (subtables are found by it, then compared word by word). */
function maskHashOf(mask: Uint32Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < OF_WORDS; i++) {
    const v = mask[i]!;
    if (v === 0) continue;
    h = Math.imul(h ^ i, 0x01000193);
    h = Math.imul(h ^ v, 0x01000193);
  }
  return h >>> 0;
}

function sameMask(a: Uint32Array, b: Uint32Array): boolean {
  if (a === b) return true;
  for (let i = 0; i < OF_WORDS; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class FlowTable {
  /** Subtables by mask hash (a list: distinct masks may share a hash). */
  private readonly subtables = new Map<number, Subtable[]>();
  private nSubtables = 0;
  /** Subtables sorted by descending maxPriority (rebuilt lazily). */
  private order: Subtable[] = [];
  private orderDirty = false;
  private nRules = 0;
  /** OFPST_TABLE counters. */
  lookupCount = 0;
  matchedCount = 0;
  /** TABLE_MOD config bits (1.3: only the deprecated ones; kept and echoed). */
  config = 0;
  name: string;

  constructor(
    readonly tableId: number,
    public maxEntries: number,
  ) {
    this.name = `table${tableId}`;
  }

  get count(): number {
    return this.nRules;
  }

  get subtableCount(): number {
    return this.nSubtables;
  }

  private subtableOf(mask: Uint32Array, h = maskHashOf(mask)): Subtable | undefined {
    const list = this.subtables.get(h);
    if (list === undefined) return undefined;
    for (const st of list) if (sameMask(st.mask, mask)) return st;
    return undefined;
  }

  insert(rule: OfRule): void {
    const mh = maskHashOf(rule.match.mask);
    let st = this.subtableOf(rule.match.mask, mh);
    if (st === undefined) {
      st = new Subtable(rule.match.mask, mh);
      const list = this.subtables.get(mh);
      if (list === undefined) this.subtables.set(mh, [st]);
      else list.push(st);
      this.nSubtables++;
    }
    // Rules of a subtable share its mask array (never mutated): one copy per mask, not per rule.
    rule.match.mask = st.mask;
    const h = st.hashOf(rule.match.value, true);
    let list = st.buckets.get(h);
    if (list === undefined) {
      list = [];
      st.buckets.set(h, list);
    }
    let i = 0;
    while (i < list.length && list[i]!.priority >= rule.priority) i++;
    list.splice(i, 0, rule);
    st.count++;
    if (rule.priority > st.maxPriority) st.maxPriority = rule.priority;
    this.nRules++;
    this.orderDirty = true;
  }

  remove(rule: OfRule): boolean {
    const st = this.subtableOf(rule.match.mask);
    if (st === undefined) return false;
    const h = st.hashOf(rule.match.value, true);
    const list = st.buckets.get(h);
    const i = list ? list.indexOf(rule) : -1;
    if (list === undefined || i < 0) return false;
    list.splice(i, 1);
    if (list.length === 0) st.buckets.delete(h);
    st.count--;
    this.nRules--;
    if (st.count === 0) this.dropSubtable(st);
    else if (rule.priority >= st.maxPriority) st.recomputeMax();
    this.orderDirty = true;
    return true;
  }

  /** The rule with exactly this match and priority (strict), or null. */
  findStrict(match: OfMatch, priority: number): OfRule | null {
    const st = this.subtableOf(match.mask);
    if (st === undefined) return null;
    const list = st.buckets.get(st.hashOf(match.value, true));
    if (list === undefined) return null;
    for (const r of list) if (r.priority === priority && ofMatchEquals(r.match, match)) return r;
    return null;
  }

  /**
   * Highest-priority rule matching `flow`; ORs into `wc` the masks of the
   * subtables consulted. Ties between equal priorities pick the subtable
   * visited first (OpenFlow leaves overlapping equal-priority rules undefined).
   */
  lookup(flow: Uint32Array, wc: Uint32Array | null, count = true): OfRule | null {
    if (this.orderDirty) this.resort();
    if (count) this.lookupCount++;
    let best: OfRule | null = null;
    const order = this.order;
    for (let i = 0; i < order.length; i++) {
      const st = order[i]!;
      if (best !== null && st.maxPriority <= best.priority) break;
      if (wc !== null) {
        const m = st.mask;
        for (const w of st.words) wc[w] = (wc[w]! | m[w]!) >>> 0;
      }
      const r = st.find(flow);
      if (r !== null && (best === null || r.priority > best.priority)) best = r;
    }
    if (best !== null && count) this.matchedCount++;
    return best;
  }

  *rules(): IterableIterator<OfRule> {
    for (const sts of this.subtables.values()) for (const st of sts) for (const list of st.buckets.values()) yield* list;
  }

  private dropSubtable(st: Subtable): void {
    const list = this.subtables.get(st.maskHash)!;
    if (list.length === 1) this.subtables.delete(st.maskHash);
    else list.splice(list.indexOf(st), 1);
    this.nSubtables--;
  }

  private resort(): void {
    const all: Subtable[] = [];
    for (const sts of this.subtables.values()) for (const st of sts) all.push(st);
    this.order = all.sort((a, b) => b.maxPriority - a.maxPriority);
    this.orderDirty = false;
  }
}
