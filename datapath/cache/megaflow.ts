// One megaflow: a masked key, its mask, the datapath actions and the
// statistics that flow back to ofproto (OVS struct dp_netdev_flow).

import { KEY_WORDS } from '../flow/key.js';
import { FlowCacheError } from './flow-cache-error.js';
import type { Subtable } from './subtable.js';

let nextId = 1;

export class Megaflow<A = unknown> {
  /** Masked key (key & mask), owned by the flow; never mutate. */
  readonly key: Uint32Array;
  /** Mask in key layout: a set bit means the field bit matters. */
  readonly mask: Uint32Array;
  /** Datapath actions, opaque here (the datapath stores its compiled list). */
  actions: A;
  /** Process-unique id, assigned at creation. */
  readonly id: number;
  /** Unique flow id chosen by the installer (OVS ufid as text), '' if none. */
  readonly ufid: string;

  packets = 0;
  bytes = 0;
  /** Time of the last hit (ms, caller's clock); 0 = never. */
  usedMs = 0;
  /** OR of the TCP flags seen. */
  tcpFlags = 0;

  /** Set when the flow leaves the classifier; caches holding it must drop it. */
  dead = false;
  /** Subtable holding the flow while installed (classifier-private). */
  subtable: Subtable<A> | null = null;
  /** Tag (masked-key hash with the top bit set) in its subtable (classifier-private). */
  hash = 0;

  /**
   * `key` is masked and copied. `mask` is copied unless `shareMask`: then the
   * array itself is kept (the classifier shares one mask array among the
   * flows of a subtable; nobody may mutate it).
   */
  constructor(key: Uint32Array, mask: Uint32Array, actions: A, ufid = '', shareMask = false) {
    if (key.length !== KEY_WORDS || mask.length !== KEY_WORDS) {
      throw new FlowCacheError(
        'ERR_FLOW_KEY_LENGTH',
        `megaflow key/mask must have ${KEY_WORDS} words (got ${key.length}/${mask.length})`,
      );
    }
    const k = new Uint32Array(KEY_WORDS);
    const m = shareMask ? mask : new Uint32Array(KEY_WORDS);
    for (let i = 0; i < KEY_WORDS; i++) {
      if (!shareMask) m[i] = mask[i];
      k[i] = key[i] & mask[i];
    }
    this.key = k;
    this.mask = m;
    this.actions = actions;
    this.id = nextId++;
    this.ufid = ufid;
  }

  /** True when `key` (a full packet key) matches this flow. */
  matches(key: Uint32Array): boolean {
    const k = this.key;
    const m = this.mask;
    for (let i = 0; i < KEY_WORDS; i++) if (((key[i] & m[i]) >>> 0) !== k[i]) return false;
    return true;
  }
}
