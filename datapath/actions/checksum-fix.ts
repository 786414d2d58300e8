// In-place checksum maintenance for header rewrites: RFC 1624 incremental
// updates of the Internet checksum (IPv4 header, TCP/UDP/ICMP/ICMPv6) and a
// table-driven CRC32c for SCTP (RFC 4960 appendix B). No allocation.

import { csumUpdate16, csumUpdate32 } from '../packet/checksum.js';
import { crc32cFinish, crc32cUpdate } from '../packet/crc32c.js';

// RFC 1624 eqn. 3 (HC' = ~(~HC + ~m + m')) lives in ../packet/checksum.ts.
export { csumUpdate16, csumUpdate32 };

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

// --- SCTP's CRC32c (table in ../packet/crc32c.ts) ----------------------------

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
  const csumAt = start + 8;
  let c = crc32cUpdate(0xffffffff, buf, start, csumAt - start);
  c = crc32cUpdate(c, ZERO4, 0, 4);
  c = crc32cUpdate(c, buf, csumAt + 4, end - csumAt - 4);
  return crc32cFinish(c);
}

const ZERO4 = new Uint8Array(4);
