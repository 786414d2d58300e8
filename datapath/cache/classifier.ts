// The megaflow classifier: tuple-space search over one Subtable per distinct
// mask (OVS dpcls). Subtables are searched in rank order, most hit first; the
// ranking is refreshed every `resortInterval` lookups, never per packet.
//
// Tie rule (only reachable if overlapping megaflows are installed, which the
// datapath never does): lookup returns the match from the first subtable in
// the current rank order. A subtable holds at most one flow per masked key,
// so the rank order decides every tie. Ranks change only (a) in a re-sort, at
// the start of the lookup that makes it due (stable: equal hit counts keep
// their order), (b) when a new subtable is appended last, (c) when an emptied
// subtable is removed. `rankOf(flow)` exposes the order for reference checks.

import { KEY_WORDS } from '../flow/key.js';
import { FlowCacheError } from './flow-cache-error.js';
import type { Megaflow } from './megaflow.js';
import { Subtable } from './subtable.js';
import { hashKey } from '../flow/hash.js';

export const DEFAULT_FLOW_LIMIT = 200_000;
export const DEFAULT_RESORT_INTERVAL = 16_384;

export interface ClassifierOptions {
  /** Most flows installed at once (OVS other_config:flow-limit). */
  flowLimit?: number;
  /** Lookups between re-sorts of the subtable ranking; 0 = only on resort(). */
  resortInterval?: number;
}

function byHitsDesc(a: Subtable<unknown>, b: Subtable<unknown>): number {
  return b.hits - a.hits;
}

export class Classifier<A = unknown> {
  flowLimit: number;
  resortInterval: number;

  /** Counters (plain numbers; read them, reset by resetCounters()). */
  lookups = 0;
  hits = 0;
  misses = 0;
  /** Sum over lookups of subtables probed: lookups / this = masks hit per packet. */
  subtablesSearched = 0;
  /** Re-sorts that changed the order. */
  reorders = 0;

  private subs: Subtable<A>[] = [];
  private byMaskHash = new Map<number, Subtable<A>[]>();
  private nFlows = 0;
  private sinceResort = 0;
  /** lookupBatch scratch: indices of unmatched keys, their tags in one subtable. */
  private pending = new Int32Array(32);
  private tags = new Int32Array(32);

  constructor(opts: ClassifierOptions = {}) {
    this.flowLimit = opts.flowLimit ?? DEFAULT_FLOW_LIMIT;
    this.resortInterval = opts.resortInterval ?? DEFAULT_RESORT_INTERVAL;
  }

  /** Flows installed. */
  get count(): number {
    return this.nFlows;
  }

  get full(): boolean {
    return this.nFlows >= this.flowLimit;
  }

  get subtableCount(): number {
    return this.subs.length;
  }

  /** The flow matching `key` (see the tie rule above), or null. Allocation-free. */
  lookup(key: Uint32Array): Megaflow<A> | null {
    if (this.resortInterval > 0 && ++this.sinceResort >= this.resortInterval) this.resort();
    this.lookups++;
    const subs = this.subs;
    const n = subs.length;
    for (let i = 0; i < n; i++) {
      const st = subs[i];
      const f = st.lookup(key);
      if (f !== null) {
        st.hits++;
        this.hits++;
        this.subtablesSearched += i + 1;
        return f;
      }
    }
    this.misses++;
    this.subtablesSearched += n;
    return null;
  }

  /**
   * Look up `count` keys at once (OVS dpcls_lookup over a batch): each
   * subtable, in rank order, hashes all keys still unmatched, then probes
   * them, so the probes' cache misses overlap instead of queueing behind
   * each other. Writes out[i] (the flow or null) for i < count; returns the
   * number of hits. Same answers and counters as `count` lookup() calls
   * (a due re-sort runs at the start of the batch). Allocation-free once the
   * scratch arrays have grown to the batch size.
   */
  lookupBatch(keys: readonly Uint32Array[], count: number, out: (Megaflow<A> | null)[]): number {
    if (this.resortInterval > 0 && (this.sinceResort += count) >= this.resortInterval) this.resort();
    this.lookups += count;
    if (this.pending.length < count) {
      this.pending = new Int32Array(count);
      this.tags = new Int32Array(count);
    }
    const pending = this.pending;
    const tags = this.tags;
    let np = 0;
    for (let i = 0; i < count; i++) {
      out[i] = null;
      pending[np++] = i;
    }
    const subs = this.subs;
    const ns = subs.length;
    let hits = 0;
    let searched = 0;
    for (let s = 0; s < ns && np > 0; s++) {
      const st = subs[s];
      for (let p = 0; p < np; p++) tags[p] = st.tagOf(keys[pending[p]]);
      let kept = 0;
      for (let p = 0; p < np; p++) {
        const i = pending[p];
        const f = st.probe(keys[i], tags[p]);
        if (f !== null) {
          out[i] = f;
          st.hits++;
          hits++;
          searched += s + 1;
        } else {
          pending[kept++] = i;
        }
      }
      np = kept;
    }
    this.hits += hits;
    this.misses += np;
    this.subtablesSearched += searched + np * ns;
    return hits;
  }

  /**
   * Install `flow`. Returns `flow`, or the flow already installed with the
   * same mask and masked key (OVS EEXIST: compare identity; nothing changes).
   * Throws FlowCacheError ERR_FLOW_LIMIT when `count >= flowLimit`.
   */
  insert(flow: Megaflow<A>): Megaflow<A> {
    let st = this.subtableFor(flow.mask);
    if (st !== null) {
      const existing = st.find(flow.key);
      if (existing !== null) return existing;
    }
    if (this.nFlows >= this.flowLimit) {
      throw new FlowCacheError(
        'ERR_FLOW_LIMIT',
        `megaflow table full: ${this.nFlows} flows installed, flow-limit is ${this.flowLimit}`,
      );
    }
    if (st === null) st = this.addSubtable(flow.mask);
    st.insert(flow);
    flow.dead = false;
    this.nFlows++;
    return flow;
  }

  /** Remove `flow`; marks it dead. Returns false if it was not installed here. */
  remove(flow: Megaflow<A>): boolean {
    const st = flow.subtable;
    if (st === null || this.subs[st.rank] !== st) return false;
    if (!st.remove(flow)) return false;
    flow.dead = true;
    this.nFlows--;
    if (st.count === 0) this.removeSubtable(st);
    return true;
  }

  /** The installed flow with exactly this mask and masked key, or null. */
  find(key: Uint32Array, mask: Uint32Array): Megaflow<A> | null {
    const st = this.subtableFor(mask);
    return st === null ? null : st.find(key);
  }

  /**
   * The mask array shared by the installed flows with this mask, or null;
   * FlowCache.put passes it to new flows so a subtable's flows share one mask.
   */
  sharedMask(mask: Uint32Array): Uint32Array | null {
    const st = this.subtableFor(mask);
    return st === null ? null : st.mask;
  }

  /** Replace the actions of the flow with this mask and masked key; returns it or null. */
  modify(key: Uint32Array, mask: Uint32Array, actions: A): Megaflow<A> | null {
    const f = this.find(key, mask);
    if (f !== null) f.actions = actions;
    return f;
  }

  /** Installed flows, in rank order; tolerates removal while iterating. */
  *dump(): IterableIterator<Megaflow<A>> {
    for (const st of this.subs.slice()) {
      for (const f of st.flows()) if (!f.dead) yield f;
    }
  }

  /** Remove every flow (all marked dead) and subtable. */
  flush(): void {
    for (const st of this.subs) {
      for (const f of st.flows()) {
        f.dead = true;
        f.subtable = null;
      }
      st.clear();
    }
    this.subs = [];
    this.byMaskHash.clear();
    this.nFlows = 0;
  }

  /** Re-rank subtables by hits since the last re-sort (stable), then reset those hits. */
  resort(): void {
    this.sinceResort = 0;
    const subs = this.subs;
    let sorted = true;
    for (let i = 1; i < subs.length; i++) {
      if (subs[i].hits > subs[i - 1].hits) {
        sorted = false;
        break;
      }
    }
    if (!sorted) {
      subs.sort(byHitsDesc);
      for (let i = 0; i < subs.length; i++) subs[i].rank = i;
      this.reorders++;
    }
    for (const st of subs) {
      st.hitsTotal += st.hits;
      st.hits = 0;
    }
  }

  /** Rank (search position) of an installed flow's subtable, or -1. */
  rankOf(flow: Megaflow<A>): number {
    const st = flow.subtable;
    return st !== null && this.subs[st.rank] === st ? st.rank : -1;
  }

  /** Subtables in rank order (introspection: dpctl/show-like output). */
  subtables(): readonly Subtable<A>[] {
    return this.subs;
  }

  resetCounters(): void {
    this.lookups = this.hits = this.misses = this.subtablesSearched = this.reorders = 0;
  }

  private subtableFor(mask: Uint32Array): Subtable<A> | null {
    if (mask.length !== KEY_WORDS) {
      throw new FlowCacheError('ERR_FLOW_KEY_LENGTH', `mask must have ${KEY_WORDS} words (got ${mask.length})`);
    }
    const list = this.byMaskHash.get(hashKey(mask, 0));
    if (list === undefined) return null;
    for (const st of list) if (st.hasMask(mask)) return st;
    return null;
  }

  private addSubtable(mask: Uint32Array): Subtable<A> {
    const st = new Subtable<A>(mask);
    st.rank = this.subs.length;
    this.subs.push(st);
    const h = hashKey(mask, 0);
    const list = this.byMaskHash.get(h);
    if (list === undefined) this.byMaskHash.set(h, [st]);
    else list.push(st);
    return st;
  }

  private removeSubtable(st: Subtable<A>): void {
    this.subs.splice(st.rank, 1);
    for (let i = st.rank; i < this.subs.length; i++) this.subs[i].rank = i;
    const h = hashKey(st.mask, 0);
    const list = this.byMaskHash.get(h);
    if (list !== undefined) {
      const i = list.indexOf(st);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.byMaskHash.delete(h);
    }
  }
}
