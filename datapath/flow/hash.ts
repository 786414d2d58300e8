// 32-bit hashing of flow keys for the caches: murmur3 rounds over key words
// (OVS lib/hash.h hash_add/hash_finish), Math.imul only, no allocation.
// Results are signed 32-bit integers so they fit Int32Array slots; use
// `>>> 0` to print them.

import { KEY_WORDS } from './key.js';

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

/** Hash of all KEY_WORDS words of `key` (the EMC hash). */
export function hashKey(key: Uint32Array, basis: number): number {
  let h = basis | 0;
  for (let i = 0; i < KEY_WORDS; i++) h = hashAdd(h, key[i]);
  return hashFinish(h, KEY_WORDS);
}

/**
 * Hash of `key & mask` over the `n` word indices in `words` (the nonzero
 * words of `mask`). Equal masked keys hash equal whatever the unmasked bits.
 */
export function hashMasked(
  key: Uint32Array,
  mask: Uint32Array,
  words: Int8Array | Uint8Array,
  n: number,
  basis: number,
): number {
  let h = basis | 0;
  for (let i = 0; i < n; i++) {
    const w = words[i];
    h = hashAdd(h, key[w] & mask[w]);
  }
  return hashFinish(h, n);
}
