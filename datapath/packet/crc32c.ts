// CRC-32C (Castagnoli, reflected polynomial 0x82f63b78): SCTP's checksum
// (RFC 9260 6.8 and appendix A, formerly RFC 3309). Table-driven, one byte a step.

import { outOfRange } from './errors.js';

const TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c >>> 0;
}

/**
 * Continue a CRC-32C over buf[off, off+len). Start with crc = 0xffffffff and
 * finish with crc32cFinish(); crc32c() does both for one range.
 */
export function crc32cUpdate(crc: number, buf: Uint8Array, off: number, len: number): number {
  if (off < 0 || len < 0 || off + len > buf.length) throw outOfRange(`crc32c: range ${off}+${len} outside ${buf.length} bytes`);
  let c = crc >>> 0;
  for (let i = off, end = off + len; i < end; i++) c = TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return c >>> 0;
}

export function crc32cFinish(crc: number): number {
  return ~crc >>> 0;
}

/** CRC-32C of one range ("123456789" gives 0xe3069283). */
export function crc32c(buf: Uint8Array, off = 0, len = buf.length - off): number {
  return crc32cFinish(crc32cUpdate(0xffffffff, buf, off, len));
}
