// The datapath's flow cache: EMC in front of the megaflow classifier (OVS
// dp_netdev_input: emc_lookup, then dpcls_lookup, then upcall). Owns the
// flows' lifecycle (put/del/modify/flush) and their statistics.
//
// Answers: a classifier hit is cached in the EMC for the exact key, and a
// cached entry is valid while its megaflow is installed. With non-overlapping
// megaflows (all the datapath installs) the answer for a key is therefore the
// unique matching flow. If overlapping flows are installed anyway, the
// classifier's tie rule applies (see classifier.ts), and an EMC entry keeps
// the answer the classifier gave when it was cached, until the entry is
// replaced, its flow removed, or the EMC flushed.

import { hashKey } from '../flow/hash.js';
import { Classifier, type ClassifierOptions } from './classifier.js';
import { DEFAULT_EMC_ENTRIES, Emc } from './emc.js';
import { Megaflow } from './megaflow.js';

export interface FlowCacheOptions extends ClassifierOptions {
  /** EMC slots (power of two); 0 disables the EMC. Default 8192. */
  emcEntries?: number;
  /** OVS emc-insert-inv-prob: 1 = always (default), 0 = never, N = 1 in N. */
  emcInsertInvProb?: number;
  /** Seed of the EMC insertion PRNG. */
  emcSeed?: number;
}

export interface FlowCacheStats {
  flows: number;
  flowLimit: number;
  /** Subtables (distinct masks). */
  masks: number;
  emcHits: number;
  megaflowHits: number;
  misses: number;
  lookups: number;
  /** Subtables searched per classifier lookup, on average (OVS "avg. subtable lookups per megaflow hit", over hits and misses). */
  masksHitPerPacket: number;
  emcEntries: number;
  /** Live EMC entries (walks the EMC). */
  emcUsed: number;
  emcInserts: number;
  subtableReorders: number;
}

export class FlowCache<A = unknown> {
  readonly classifier: Classifier<A>;
  /** Null when disabled. */
  readonly emc: Emc<A> | null;

  emcHits = 0;
  megaflowHits = 0;
  misses = 0;

  private readonly byUfid = new Map<string, Megaflow<A>>();
  /** lookupBatch scratch (EMC misses): batch index, hash, key, classifier answer. */
  private missIdx = new Int32Array(0);
  private missHash = new Int32Array(0);
  private readonly missKeys: Uint32Array[] = [];
  private readonly missOut: (Megaflow<A> | null)[] = [];

  constructor(opts: FlowCacheOptions = {}) {
    this.classifier = new Classifier<A>(opts);
    const entries = opts.emcEntries ?? DEFAULT_EMC_ENTRIES;
    this.emc =
      entries > 0
        ? new Emc<A>({ entries, insertInvProb: opts.emcInsertInvProb, seed: opts.emcSeed })
        : null;
  }

  /**
   * The flow for packet key `key`, or null (upcall). `hash` is the full-key
   * hash (hashKey(key, 0)); pass it when already computed. Allocation-free.
   */
  lookup(key: Uint32Array, hash?: number): Megaflow<A> | null {
    const emc = this.emc;
    if (emc === null) {
      const f = this.classifier.lookup(key);
      if (f === null) this.misses++;
      else this.megaflowHits++;
      return f;
    }
    const h = hash === undefined ? hashKey(key, 0) : hash;
    let f = emc.lookup(key, h);
    if (f !== null) {
      this.emcHits++;
      return f;
    }
    f = this.classifier.lookup(key);
    if (f === null) {
      this.misses++;
      return null;
    }
    this.megaflowHits++;
    emc.insert(key, h, f);
    return f;
  }

  /**
   * Look up a batch: out[i] = the flow for keys[i] or null, for i < count.
   * `hashes` holds the full-key hashes (or null: computed when the EMC is
   * on). EMC first; its misses go to the classifier together (lookupBatch)
   * and hits are cached in the EMC. Same answers and counters as `count`
   * lookup() calls. Returns the number of misses (upcalls). Allocation-free
   * once the scratch arrays have grown to the batch size.
   */
  lookupBatch(
    keys: readonly Uint32Array[],
    hashes: Int32Array | null,
    count: number,
    out: (Megaflow<A> | null)[],
  ): number {
    const emc = this.emc;
    if (emc === null) {
      const hits = this.classifier.lookupBatch(keys, count, out);
      this.megaflowHits += hits;
      this.misses += count - hits;
      return count - hits;
    }
    if (this.missIdx.length < count) {
      this.missIdx = new Int32Array(count);
      this.missHash = new Int32Array(count);
      while (this.missKeys.length < count) {
        this.missKeys.push(keys[0]);
        this.missOut.push(null);
      }
    }
    const missIdx = this.missIdx;
    const missHash = this.missHash;
    const missKeys = this.missKeys;
    const missOut = this.missOut;
    let m = 0;
    for (let i = 0; i < count; i++) {
      const key = keys[i];
      const h = hashes === null ? hashKey(key, 0) : hashes[i];
      const f = emc.lookup(key, h);
      out[i] = f;
      if (f === null) {
        missIdx[m] = i;
        missHash[m] = h;
        missKeys[m] = key;
        m++;
      }
    }
    this.emcHits += count - m;
    if (m === 0) return 0;
    const hits = this.classifier.lookupBatch(missKeys, m, missOut);
    for (let j = 0; j < m; j++) {
      const f = missOut[j];
      if (f !== null) {
        const i = missIdx[j];
        out[i] = f;
        emc.insert(keys[i], missHash[j], f);
      }
    }
    this.megaflowHits += hits;
    this.misses += m - hits;
    return m - hits;
  }

  /**
   * Install a megaflow for `key`/`mask` (the key is masked and copied).
   * Returns the new flow, or the flow already installed with the same mask
   * and masked key (then unchanged: compare identity, like OVS's EEXIST).
   * Throws FlowCacheError ERR_FLOW_LIMIT when full.
   */
  put(key: Uint32Array, mask: Uint32Array, actions: A, ufid = ''): Megaflow<A> {
    if (ufid !== '') {
      // A ufid names one flow (OVS rejects a second put with EEXIST).
      const named = this.byUfid.get(ufid);
      if (named !== undefined && !named.dead) return named;
    }
    const shared = this.classifier.sharedMask(mask);
    const flow =
      shared === null ? new Megaflow<A>(key, mask, actions, ufid) : new Megaflow<A>(key, shared, actions, ufid, true);
    const got = this.classifier.insert(flow);
    if (got === flow && ufid !== '') this.byUfid.set(ufid, flow);
    return got;
  }

  /** Remove a flow; its EMC entries die with it. Returns whether it was installed. */
  del(flow: Megaflow<A>): boolean {
    if (!this.classifier.remove(flow)) return false;
    if (flow.ufid !== '' && this.byUfid.get(flow.ufid) === flow) this.byUfid.delete(flow.ufid);
    return true;
  }

  /** Remove the flow with exactly this mask and masked key; returns it or null. */
  delMatch(key: Uint32Array, mask: Uint32Array): Megaflow<A> | null {
    const f = this.classifier.find(key, mask);
    if (f !== null) this.del(f);
    return f;
  }

  /** Replace a flow's actions in place (EMC entries see them at once); returns it or null. */
  modify(key: Uint32Array, mask: Uint32Array, actions: A): Megaflow<A> | null {
    return this.classifier.modify(key, mask, actions);
  }

  /** The flow with exactly this mask and masked key, or null. */
  get(key: Uint32Array, mask: Uint32Array): Megaflow<A> | null {
    return this.classifier.find(key, mask);
  }

  getByUfid(ufid: string): Megaflow<A> | null {
    return this.byUfid.get(ufid) ?? null;
  }

  dump(): IterableIterator<Megaflow<A>> {
    return this.classifier.dump();
  }

  /** Remove every flow and empty the EMC. */
  flush(): void {
    this.classifier.flush();
    this.byUfid.clear();
    if (this.emc !== null) this.emc.flush();
  }

  get count(): number {
    return this.classifier.count;
  }

  /** Counters and sizes for dpctl/show-style output and metrics (JSON-able). */
  stats(): FlowCacheStats {
    const c = this.classifier;
    const emc = this.emc;
    return {
      flows: c.count,
      flowLimit: c.flowLimit,
      masks: c.subtableCount,
      emcHits: this.emcHits,
      megaflowHits: this.megaflowHits,
      misses: this.misses,
      lookups: this.emcHits + this.megaflowHits + this.misses,
      masksHitPerPacket: c.lookups === 0 ? 0 : c.subtablesSearched / c.lookups,
      emcEntries: emc === null ? 0 : emc.entries,
      emcUsed: emc === null ? 0 : emc.count,
      emcInserts: emc === null ? 0 : emc.inserts,
      subtableReorders: c.reorders,
    };
  }

  /** Account one packet of `bytes` bytes to `flow` (OVS dp_netdev_flow_used). */
  hit(flow: Megaflow<A>, bytes: number, tcpFlags: number, nowMs: number): void {
    flow.packets++;
    flow.bytes += bytes;
    flow.tcpFlags |= tcpFlags;
    flow.usedMs = nowMs;
  }

  resetCounters(): void {
    this.emcHits = this.megaflowHits = this.misses = 0;
    this.classifier.resetCounters();
    if (this.emc !== null) this.emc.resetCounters();
  }
}
