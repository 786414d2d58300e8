// 32-bit hashing of flow keys for the caches, Math.imul only, no allocation:
// murmur3 rounds for masked keys (OVS lib/hash.h hash_add/hash_finish, few
// words) and a four-lane XXH32-style hash for whole keys (36 words).
// Results are signed 32-bit integers so they fit Int32Array slots; use
// `>>> 0` to print them.

import {
  KEY_WORDS,
  W_ETH_DST_LO,
  W_ETH_SRC_LO,
  W_ETH_TYPE,
  W_IN_PORT,
  W_NW_DST,
  W_NW_PROTO_TOS_TTL_FRAG,
  W_NW_SRC,
  W_TP_PORTS,
  W_VLAN0,
} from './key.js';

/** One murmur3 round: fold word `w` into running hash `h`. */
export function hashAdd(h: number, w: number): number {
  w = Math.imul(w, 0xcc9e2d51);
  w = (w << 15) | (w >>> 17);
  w = Math.imul(w, 0x1b873593);
  h ^= w;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** murmur3 finalizer; `lengthWords` is folded in like OVS's hash_finish. */
export function hashFinish(h: number, lengthWords: number): number {
  h ^= lengthWords << 2;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

const P1 = 0x9e3779b1 | 0;
const P2 = 0x85ebca77 | 0;
const P3 = 0xc2b2ae3d | 0;
const P5 = 0x165667b1 | 0;

/**
 * Hash of all KEY_WORDS words of `key` (the EMC hash): XXH32's structure,
 * four independent lanes so the multiply chains overlap (a single murmur
 * chain over 36 words is latency-bound, about 3x slower).
 */
export function hashKey(key: Uint32Array, basis: number): number {
  let a = (basis + P1 + P2) | 0;
  let b = (basis + P2) | 0;
  let c = basis | 0;
  let d = (basis - P1) | 0;
  let i = 0;
  for (; i + 4 <= KEY_WORDS; i += 4) {
    a = (a + Math.imul(key[i], P2)) | 0;
    b = (b + Math.imul(key[i + 1], P2)) | 0;
    c = (c + Math.imul(key[i + 2], P2)) | 0;
    d = (d + Math.imul(key[i + 3], P2)) | 0;
    a = Math.imul((a << 13) | (a >>> 19), P1);
    b = Math.imul((b << 13) | (b >>> 19), P1);
    c = Math.imul((c << 13) | (c >>> 19), P1);
    d = Math.imul((d << 13) | (d >>> 19), P1);
  }
  let h = (((a << 1) | (a >>> 31)) + ((b << 7) | (b >>> 25)) + ((c << 12) | (c >>> 20)) + ((d << 18) | (d >>> 14)) + KEY_WORDS * 4) | 0;
  for (; i < KEY_WORDS; i++) {
    h = (h + Math.imul(key[i], P3)) | 0;
    h = Math.imul((h << 17) | (h >>> 15), P5);
  }
  h ^= h >>> 15;
  h = Math.imul(h, P2);
  h ^= h >>> 13;
  h = Math.imul(h, P3);
  return h ^ (h >>> 16);
}

/**
 * Hash of `key & mask` over the `n` word indices in `words` (the nonzero
 * words of `mask`). Equal masked keys hash equal whatever the unmasked bits.
 * Two murmur lanes (even and odd positions) halve the dependency chain; the
 * classifier computes this once per subtable searched.
 */
export function hashMasked(
  key: Uint32Array,
  mask: Uint32Array,
  words: Int8Array | Uint8Array,
  n: number,
  basis: number,
): number {
  let a = basis | 0;
  let b = (basis ^ 0x5bd1e995) | 0;
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const w0 = words[i];
    const w1 = words[i + 1];
    a = hashAdd(a, key[w0] & mask[w0]);
    b = hashAdd(b, key[w1] & mask[w1]);
  }
  if (i < n) {
    const w = words[i];
    a = hashAdd(a, key[w] & mask[w]);
  }
  return hashFinish(hashAdd(a, b), n);
}

/**
 * The exact-match cache's hash: only the words that tell flows apart in
 * practice (like the RSS 5-tuple hash OVS's EMC uses), about a third of the
 * key. Equal keys hash equal; keys that differ only elsewhere collide and are
 * told apart by the EMC's full-key compare.
 */
export function hashKeySignature(key: Uint32Array): number {
  let a = Math.imul(key[W_IN_PORT] ^ key[W_ETH_TYPE], P2);
  let b = Math.imul(key[W_ETH_DST_LO] ^ key[W_VLAN0], P2);
  let c = Math.imul(key[W_ETH_SRC_LO] ^ key[W_NW_PROTO_TOS_TTL_FRAG], P2);
  let d = Math.imul(key[W_TP_PORTS], P2);
  a = Math.imul((a << 13) | (a >>> 19), P1);
  b = Math.imul((b << 13) | (b >>> 19), P1);
  c = Math.imul((c << 13) | (c >>> 19), P1);
  d = Math.imul((d << 13) | (d >>> 19), P1);
  a = (a + Math.imul(key[W_NW_SRC], P2)) | 0;
  b = (b + Math.imul(key[W_NW_DST], P2)) | 0;
  c = (c + Math.imul(key[W_NW_SRC + 3], P2)) | 0;
  d = (d + Math.imul(key[W_NW_DST + 3], P2)) | 0;
  a = Math.imul((a << 13) | (a >>> 19), P1);
  b = Math.imul((b << 13) | (b >>> 19), P1);
  c = Math.imul((c << 13) | (c >>> 19), P1);
  d = Math.imul((d << 13) | (d >>> 19), P1);
  let h = (((a << 1) | (a >>> 31)) + ((b << 7) | (b >>> 25)) + ((c << 12) | (c >>> 20)) + ((d << 18) | (d >>> 14))) | 0;
  h ^= h >>> 15;
  h = Math.imul(h, P2);
  h ^= h >>> 13;
  h = Math.imul(h, P3);
  return h ^ (h >>> 16);
}
