// Exact-match cache in front of the classifier: a power-of-two array of
// (key hash, megaflow) slots, 2-way (each key may sit in one of two slots
// chosen by two segments of its hash). Like OVS's signature-match cache it
// stores no keys: a hit is verified by matching the packet key against the
// cached megaflow's own mask words (a handful), not by comparing 36 key words,
// which was the largest cost of a hit. A slot whose megaflow is dead is a miss
// and is cleared, so no entry outlives its megaflow; modified actions are seen
// at once (the flow object is shared).
//
// Answers: the flow returned always matches the key. With non-overlapping
// megaflows (all the datapath installs) that is the classifier's answer; with
// overlapping flows it is a matching flow the classifier returned for some key
// with the same hash, which need not be its first-ranked one.

import type { Megaflow } from './megaflow.js';

export const DEFAULT_EMC_ENTRIES = 8192;
/** Second slot index = hash >>> EMC_HASH_SHIFT (OVS EM_FLOW_HASH_SHIFT). */
const EMC_HASH_SHIFT = 13;

export interface EmcOptions {
  /** Slots (a power of two). */
  entries?: number;
  /**
   * Insert with probability 1/insertInvProb (OVS emc-insert-inv-prob):
   * 1 = always (default), 0 = never.
   */
  insertInvProb?: number;
  /** Seed of the insertion PRNG (deterministic tests). */
  seed?: number;
}

export class Emc<A = unknown> {
  readonly entries: number;
  insertInvProb: number;

  hits = 0;
  misses = 0;
  inserts = 0;
  /** Lookups that found their slot holding a dead megaflow. */
  deadEvictions = 0;

  private readonly slotMask: number;
  private readonly hashes: Int32Array;
  private readonly flows: (Megaflow<A> | null)[];
  private rng: number;

  constructor(opts: EmcOptions = {}) {
    const entries = opts.entries ?? DEFAULT_EMC_ENTRIES;
    if (entries < 2 || (entries & (entries - 1)) !== 0) {
      throw new RangeError(`EMC entries must be a power of two >= 2 (got ${entries})`);
    }
    this.entries = entries;
    this.slotMask = entries - 1;
    this.insertInvProb = opts.insertInvProb ?? 1;
    this.rng = (opts.seed ?? 0x9e3779b9) | 0 || 1;
    this.hashes = new Int32Array(entries);
    this.flows = [];
    for (let i = 0; i < entries; i++) this.flows.push(null);
  }

  /**
   * The megaflow cached for exactly `key` (whose hash is `hash`), or null.
   * `words`: the caller guarantees key words at and above this index are zero
   * (flow extraction knows the highest word it wrote), so only that prefix is
   * compared; an entry with a nonzero word beyond it cannot match.
   */
  lookup(key: Uint32Array, hash: number): Megaflow<A> | null {
    let s = hash & this.slotMask;
    for (let way = 0; way < 2; way++) {
      const f = this.flows[s];
      if (f !== null && this.hashes[s] === hash) {
        if (f.dead) {
          this.flows[s] = null;
          this.deadEvictions++;
        } else if (f.subtable !== null ? f.subtable.matches(f, key) : f.matches(key)) {
          this.hits++;
          return f;
        }
      }
      s = (hash >>> EMC_HASH_SHIFT) & this.slotMask;
    }
    this.misses++;
    return null;
  }

  /**
   * Cache `flow` for `key`. Reuses the key's slot if present; otherwise takes
   * an empty or dead slot of the two, else replaces the one with the lower
   * stored hash (OVS emc_insert: cheap, deterministic victim choice).
   */
  insert(key: Uint32Array, hash: number, flow: Megaflow<A>): void {
    const inv = this.insertInvProb;
    if (inv !== 1) {
      if (inv <= 0) return;
      // xorshift32
      let x = this.rng;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.rng = x;
      if ((x >>> 0) % inv !== 0) return;
    }
    const s0 = hash & this.slotMask;
    const s1 = (hash >>> EMC_HASH_SHIFT) & this.slotMask;
    let victim = -1;
    let s = s0;
    for (let way = 0; way < 2; way++) {
      const f = this.flows[s];
      if (f !== null && this.hashes[s] === hash && !f.dead && (f.subtable !== null ? f.subtable.matches(f, key) : f.matches(key))) {
        this.flows[s] = flow;
        return;
      }
      if (victim < 0) {
        victim = s;
      } else {
        const v = this.flows[victim];
        const vAlive = v !== null && !v.dead;
        const cAlive = f !== null && !f.dead;
        if ((vAlive && !cAlive) || (vAlive === cAlive && this.hashes[s] < this.hashes[victim])) victim = s;
      }
      s = s1;
    }
    this.flows[victim] = flow;
    this.hashes[victim] = hash;
    this.inserts++;
  }

  /** Drop every entry. */
  flush(): void {
    this.flows.fill(null);
  }

  /** Live entries (introspection; walks the table). */
  get count(): number {
    let n = 0;
    for (const f of this.flows) if (f !== null && !f.dead) n++;
    return n;
  }

  resetCounters(): void {
    this.hits = this.misses = this.inserts = this.deadEvictions = 0;
  }

}
