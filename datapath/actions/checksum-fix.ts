// In-place checksum maintenance for header rewrites: RFC 1624 incremental
// updates of the Internet checksum (IPv4 header, TCP/UDP/ICMP/ICMPv6) and a
// table-driven CRC32c for SCTP (RFC 4960 appendix B). No allocation.

/**
 * RFC 1624 eqn. 3: the checksum `sum` after one 16-bit word of the covered
 * data changes from `oldWord` to `newWord`: HC' = ~(~HC + ~m + m').
 */
export function csumUpdate16(sum: number, oldWord: number, newWord: number): number {
  let s = (~sum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** As csumUpdate16 for a 32-bit value (two aligned 16-bit words). */
export function csumUpdate32(sum: number, oldValue: number, newValue: number): number {
  let s = (~sum & 0xffff) + (~(oldValue >>> 16) & 0xffff) + ((newValue >>> 16) & 0xffff);
  s += (~oldValue & 0xffff) + (newValue & 0xffff);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** Apply csumUpdate16 to the big-endian checksum field at buf[at]. */
export function fixCsum16(buf: Uint8Array, at: number, oldWord: number, newWord: number): void {
  const s = csumUpdate16((buf[at] << 8) | buf[at + 1], oldWord, newWord);
  buf[at] = s >>> 8;
  buf[at + 1] = s & 0xff;
}

/** Apply csumUpdate32 to the big-endian checksum field at buf[at]. */
export function fixCsum32(buf: Uint8Array, at: number, oldValue: number, newValue: number): void {
  const s = csumUpdate32((buf[at] << 8) | buf[at + 1], oldValue, newValue);
  buf[at] = s >>> 8;
  buf[at + 1] = s & 0xff;
}

/**
 * UDP flavour of fixCsum32: a zero checksum means "none" over IPv4 and stays
 * zero; a computed zero is sent as 0xffff (RFC 768).
 */
export function fixUdpCsum32(buf: Uint8Array, at: number, oldValue: number, newValue: number): void {
  const cur = (buf[at] << 8) | buf[at + 1];
  if (cur === 0) return;
  let s = csumUpdate32(cur, oldValue, newValue);
  if (s === 0) s = 0xffff;
  buf[at] = s >>> 8;
  buf[at + 1] = s & 0xff;
}

/** UDP flavour of fixCsum16. */
export function fixUdpCsum16(buf: Uint8Array, at: number, oldWord: number, newWord: number): void {
  const cur = (buf[at] << 8) | buf[at + 1];
  if (cur === 0) return;
  let s = csumUpdate16(cur, oldWord, newWord);
  if (s === 0) s = 0xffff;
  buf[at] = s >>> 8;
  buf[at + 1] = s & 0xff;
}

// --- CRC32c (Castagnoli, reflected polynomial 0x82f63b78) ------------------------

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC32c of buf[start, end) (final value, already complemented). */
export function crc32c(buf: Uint8Array, start: number, end: number): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC32C_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** SCTP stores the CRC32c least significant byte first (RFC 4960 appendix B). */
export function readSctpCrc(buf: Uint8Array, at: number): number {
  return (buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24)) >>> 0;
}

export function writeSctpCrc(buf: Uint8Array, at: number, crc: number): void {
  buf[at] = crc & 0xff;
  buf[at + 1] = (crc >>> 8) & 0xff;
  buf[at + 2] = (crc >>> 16) & 0xff;
  buf[at + 3] = crc >>> 24;
}

/** CRC32c of an SCTP packet buf[start, end) with its checksum field (start+8) taken as zero. */
export function sctpCrc(buf: Uint8Array, start: number, end: number): number {
  let c = 0xffffffff;
  const csumAt = start + 8;
  for (let i = start; i < csumAt; i++) c = CRC32C_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  for (let i = 0; i < 4; i++) c = CRC32C_TABLE[c & 0xff] ^ (c >>> 8);
  for (let i = csumAt + 4; i < end; i++) c = CRC32C_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
