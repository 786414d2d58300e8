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
    readonly sig: string,
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

const SIGS = new WeakMap<Uint32Array, string>();
/** Subtable key of a mask (cached per mask array: rule masks are never mutated). */
function maskSig(mask: Uint32Array): string {
  let s = SIGS.get(mask);
  if (s === undefined) {
    s = '';
    for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) s += `${i}:${mask[i]},`;
    SIGS.set(mask, s);
  }
  return s;
}

export class FlowTable {
  private readonly subtables = new Map<string, Subtable>();
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
    return this.subtables.size;
  }

  insert(rule: OfRule): void {
    const sig = maskSig(rule.match.mask);
    let st = this.subtables.get(sig);
    if (st === undefined) {
      st = new Subtable(rule.match.mask, sig);
      this.subtables.set(sig, st);
    }
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
    const st = this.subtables.get(maskSig(rule.match.mask));
    if (st === undefined) return false;
    const h = st.hashOf(rule.match.value, true);
    const list = st.buckets.get(h);
    const i = list ? list.indexOf(rule) : -1;
    if (list === undefined || i < 0) return false;
    list.splice(i, 1);
    if (list.length === 0) st.buckets.delete(h);
    st.count--;
    this.nRules--;
    if (st.count === 0) this.subtables.delete(st.sig);
    else if (rule.priority >= st.maxPriority) st.recomputeMax();
    this.orderDirty = true;
    return true;
  }

  /** The rule with exactly this match and priority (strict), or null. */
  findStrict(match: OfMatch, priority: number): OfRule | null {
    const st = this.subtables.get(maskSig(match.mask));
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
    for (const st of this.subtables.values()) for (const list of st.buckets.values()) yield* list;
  }

  private resort(): void {
    this.order = [...this.subtables.values()].sort((a, b) => b.maxPriority - a.maxPriority);
    this.orderDirty = false;
  }
}
