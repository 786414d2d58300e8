// One subtable of the tuple-space classifier: every flow with the same mask
// (OVS struct dpcls_subtable). An open-addressing hash table (linear probing,
// backward-shift delete, load <= 1/2) keyed by the hash of the masked key. The
// slots live in one Int32Array, `stride = n + 1` words each: [tag, masked key
// words...] where tag = hash | TAG_BIT is never 0, so 0 marks an empty slot
// and one compare tests both occupancy and hash. A probe touches one cache
// line (for n <= 15) and allocates nothing; the flow object is loaded only on
// a full match.

import { KEY_WORDS } from '../flow/key.js';
import { hashMasked } from '../flow/hash.js';
import type { Megaflow } from './megaflow.js';

const MIN_CAPACITY = 8;
/** Set in every stored tag so that no tag is 0 (the empty mark). */
const TAG_BIT = 0x80000000 | 0;

export class Subtable<A = unknown> {
  /** The mask (key layout). */
  readonly mask: Uint32Array;
  /** Indices of the nonzero mask words, ascending. */
  readonly words: Uint8Array;
  /** Number of nonzero mask words. */
  readonly n: number;
  /** Nonzero mask words, compact (same order as `words`), as int32. */
  private readonly maskWords: Int32Array;

  /** Flows installed. */
  count = 0;
  /** Hits since the last re-sort (ranking). */
  hits = 0;
  /** Hits before the last re-sort; the total is hitsTotal + hits. */
  hitsTotal = 0;
  /** Position in the classifier's ranked list (classifier-maintained). */
  rank = 0;

  /** Words per slot: tag, n masked key words. */
  private readonly stride: number;
  private capMask: number;
  /** slot * stride + (0: tag, or 0 if empty; 1 + j: masked key word j). */
  private slots: Int32Array;
  private slotFlow: (Megaflow<A> | null)[];

  /**
   * True when packet key `key` matches `flow` (a flow of this subtable):
   * compares only the mask's nonzero words. The EMC verifies its hits this way.
   */
  matches(flow: Megaflow<A>, key: Uint32Array): boolean {
    const words = this.words;
    const mw = this.maskWords;
    const fk = flow.key;
    for (let j = 0; j < this.n; j++) {
      const w = words[j];
      if ((key[w] & mw[j]) !== (fk[w] | 0)) return false;
    }
    return true;
  }

  /** `mask` is kept, not copied (the classifier passes a flow's own copy); never mutate it. */
  constructor(mask: Uint32Array) {
    const m = mask;
    this.mask = m;
    let n = 0;
    for (let i = 0; i < KEY_WORDS; i++) if (m[i] !== 0) n++;
    this.n = n;
    this.words = new Uint8Array(n);
    this.maskWords = new Int32Array(n);
    for (let i = 0, j = 0; i < KEY_WORDS; i++) {
      if (m[i] !== 0) {
        this.words[j] = i;
        this.maskWords[j] = m[i] | 0;
        j++;
      }
    }
    this.stride = n + 1;
    this.capMask = MIN_CAPACITY - 1;
    this.slots = new Int32Array(MIN_CAPACITY * this.stride);
    this.slotFlow = nullArray<A>(MIN_CAPACITY);
  }

  get capacity(): number {
    return this.capMask + 1;
  }

  /** Hash of `key` under this subtable's mask. */
  hashOf(key: Uint32Array): number {
    return hashMasked(key, this.mask, this.words, this.n, 0);
  }

  /** True when `mask` equals this subtable's mask. */
  hasMask(mask: Uint32Array): boolean {
    const m = this.mask;
    for (let i = 0; i < KEY_WORDS; i++) if (m[i] !== mask[i]) return false;
    return true;
  }

  /** The flow whose masked key equals `key & mask`, or null. Allocation-free. */
  lookup(key: Uint32Array): Megaflow<A> | null {
    return this.probe(key, hashMasked(key, this.mask, this.words, this.n, 0) | TAG_BIT);
  }

  /** Slot tag of `key` here (its masked hash with TAG_BIT), for probe(). */
  tagOf(key: Uint32Array): number {
    return hashMasked(key, this.mask, this.words, this.n, 0) | TAG_BIT;
  }

  /** lookup() with the tag already computed by tagOf(). */
  probe(key: Uint32Array, t: number): Megaflow<A> | null {
    const n = this.n;
    const words = this.words;
    const maskWords = this.maskWords;
    const capMask = this.capMask;
    const slots = this.slots;
    const stride = this.stride;
    let i = t & capMask;
    for (;;) {
      const b = i * stride;
      const s = slots[b];
      if (s === 0) return null;
      if (s === t) {
        const base = b + 1;
        let j = 0;
        while (j < n && (key[words[j]] & maskWords[j]) === slots[base + j]) j++;
        if (j === n) return this.slotFlow[i];
      }
      i = (i + 1) & capMask;
    }
  }

  /**
   * Install `flow` (its mask must equal this subtable's). Returns `flow`, or
   * the already installed flow with the same masked key (nothing changes).
   */
  insert(flow: Megaflow<A>): Megaflow<A> {
    const h = this.hashOf(flow.key) | TAG_BIT;
    const found = this.findSlot(flow.key, h);
    if (found >= 0) return this.slotFlow[found] as Megaflow<A>;
    if ((this.count + 1) * 2 > this.capMask + 1) this.resize((this.capMask + 1) * 2);
    flow.hash = h;
    flow.subtable = this;
    this.place(flow, h);
    this.count++;
    return flow;
  }

  /** Remove `flow` if installed here; returns whether it was. */
  remove(flow: Megaflow<A>): boolean {
    const capMask = this.capMask;
    const slotFlow = this.slotFlow;
    let i = flow.hash & capMask;
    for (;;) {
      const f = slotFlow[i];
      if (f === null) return false;
      if (f === flow) break;
      i = (i + 1) & capMask;
    }
    this.deleteSlot(i);
    this.count--;
    flow.subtable = null;
    const cap = capMask + 1;
    if (cap > MIN_CAPACITY && this.count * 8 < cap) this.resize(cap / 2);
    return true;
  }

  /** The installed flow with masked key equal to `key & mask`, or null. */
  find(key: Uint32Array): Megaflow<A> | null {
    const i = this.findSlot(key, this.hashOf(key) | TAG_BIT);
    return i < 0 ? null : this.slotFlow[i];
  }

  /** Installed flows (snapshot order = slot order). */
  flows(): Megaflow<A>[] {
    const out: Megaflow<A>[] = [];
    for (const f of this.slotFlow) if (f !== null) out.push(f);
    return out;
  }

  /** Drop every flow (marks none dead; the classifier does). */
  clear(): void {
    this.capMask = MIN_CAPACITY - 1;
    this.slots = new Int32Array(MIN_CAPACITY * this.stride);
    this.slotFlow = nullArray<A>(MIN_CAPACITY);
    this.count = 0;
  }

  private findSlot(key: Uint32Array, h: number): number {
    const n = this.n;
    const words = this.words;
    const maskWords = this.maskWords;
    const capMask = this.capMask;
    const slots = this.slots;
    const stride = this.stride;
    let i = h & capMask;
    for (;;) {
      const b = i * stride;
      const s = slots[b];
      if (s === 0) return -1;
      if (s === h) {
        let j = 0;
        while (j < n && (key[words[j]] & maskWords[j]) === slots[b + 1 + j]) j++;
        if (j === n) return i;
      }
      i = (i + 1) & capMask;
    }
  }

  private place(flow: Megaflow<A>, h: number): void {
    const capMask = this.capMask;
    const slots = this.slots;
    const stride = this.stride;
    let i = h & capMask;
    while (slots[i * stride] !== 0) i = (i + 1) & capMask;
    const b = i * stride;
    slots[b] = h;
    const key = flow.key;
    for (let j = 0; j < this.n; j++) slots[b + 1 + j] = key[this.words[j]] & this.maskWords[j];
    this.slotFlow[i] = flow;
  }

  /** Linear-probing delete without tombstones (Knuth 6.4 algorithm R). */
  private deleteSlot(i: number): void {
    const capMask = this.capMask;
    const stride = this.stride;
    const slots = this.slots;
    const slotFlow = this.slotFlow;
    let j = i;
    for (;;) {
      j = (j + 1) & capMask;
      if (slots[j * stride] === 0) break;
      const home = slots[j * stride] & capMask;
      // Leave the entry at j if its home lies cyclically in (i, j].
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      slots.copyWithin(i * stride, j * stride, j * stride + stride);
      slotFlow[i] = slotFlow[j];
      i = j;
    }
    slots[i * stride] = 0;
    slotFlow[i] = null;
  }

  private resize(cap: number): void {
    const old = this.slotFlow;
    this.capMask = cap - 1;
    this.slots = new Int32Array(cap * this.stride);
    this.slotFlow = nullArray<A>(cap);
    for (const f of old) if (f !== null) this.place(f, f.hash);
  }
}

/** A packed (not holey) array of nulls. */
function nullArray<A>(n: number): (Megaflow<A> | null)[] {
  const a: (Megaflow<A> | null)[] = [];
  for (let i = 0; i < n; i++) a.push(null);
  return a;
}
