// Internet checksum (RFC 1071), IPv4 header and L4 pseudo-header checksums
// (RFC 768, RFC 9293 3.1, RFC 8200 8.1, RFC 4443 2.3), SCTP's CRC-32C, and
// RFC 1624 incremental updates for set-field actions.
//
// Conventions: a "sum" is the folded 16-bit one's complement sum (not
// complemented) and can be chained through `initial`; a "checksum" is the
// complemented value as written to the wire. Only the last range of a chain
// may have an odd length (its last byte is padded with zero, RFC 1071 4.1).

import { crc32cFinish, crc32cUpdate } from './crc32c.js';
import { outOfRange, PacketError } from './errors.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from '../flow/key.js';

function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

function checkRange(buf: Uint8Array, off: number, len: number, what: string): void {
  if (off < 0 || len < 0 || off + len > buf.length) throw outOfRange(`${what}: range ${off}+${len} outside ${buf.length} bytes`);
}

/** One's complement sum of buf[off, off+len) as big-endian 16-bit words, folded to 16 bits. */
export function sum16(buf: Uint8Array, off: number, len: number, initial = 0): number {
  checkRange(buf, off, len, 'sum16');
  let s = initial;
  const end = off + (len & ~1);
  for (let i = off; i < end; i += 2) s += (buf[i] << 8) | buf[i + 1];
  if (len & 1) s += buf[off + len - 1] << 8;
  return fold(s);
}

/** The Internet checksum of a range: ~sum16, i.e. 0 when the range holds a correct checksum. */
export function checksum(buf: Uint8Array, off: number, len: number, initial = 0): number {
  return ~sum16(buf, off, len, initial) & 0xffff;
}

/** Sum of a range with the 16-bit field at off+fieldOff taken as zero. */
function sumWithout(buf: Uint8Array, off: number, len: number, fieldOff: number, initial: number): number {
  if (len < fieldOff + 2) throw new PacketError('ERR_PACKET_BAD_FIELD', `${len} bytes do not reach the checksum field at ${fieldOff}`, 'checksum');
  const s = sum16(buf, off, fieldOff, initial);
  return sum16(buf, off + fieldOff + 2, len - fieldOff - 2, s);
}

function ipv4HeaderBytesOf(buf: Uint8Array, off: number): number {
  checkRange(buf, off, 1, 'ipv4 header');
  return (buf[off] & 0x0f) * 4;
}

/** The IPv4 header checksum to write (RFC 791 3.1), ignoring the stored one. Header length from IHL unless given. */
export function ipv4HeaderChecksum(buf: Uint8Array, off: number, headerBytes = ipv4HeaderBytesOf(buf, off)): number {
  return ~sumWithout(buf, off, headerBytes, 10, 0) & 0xffff;
}

export function ipv4HeaderChecksumValid(buf: Uint8Array, off: number, headerBytes = ipv4HeaderBytesOf(buf, off)): boolean {
  return headerBytes >= 20 && checksum(buf, off, headerBytes) === 0;
}

/**
 * Sum of the pseudo-header: IPv4 (RFC 9293 3.1: src, dst, zero, protocol,
 * length) or IPv6 (RFC 8200 8.1: src, dst, 32-bit length, zeros, next header),
 * chosen by the address length (4 or 16 bytes).
 */
export function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, protocol: number, l4Bytes: number): number {
  if ((src.length !== 4 && src.length !== 16) || dst.length !== src.length) {
    throw new PacketError('ERR_PACKET_BAD_FIELD', `pseudo-header addresses of ${src.length} and ${dst.length} bytes`, 'src');
  }
  let s = sum16(src, 0, src.length) + sum16(dst, 0, dst.length);
  s += Math.floor(l4Bytes / 0x10000) + (l4Bytes & 0xffff) + protocol;
  return fold(s);
}

/** Offset of the checksum field inside an L4 header, or -1 for protocols without one here. */
export function l4ChecksumOffset(protocol: number): number {
  switch (protocol) {
    case IPPROTO_TCP:
      return 16;
    case IPPROTO_UDP:
      return 6;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
      return 2;
    case IPPROTO_SCTP:
      return 8;
    default:
      return -1;
  }
}

/**
 * The checksum to write into the L4 header at buf[off, off+len) (header plus
 * payload, i.e. the whole upper-layer packet), ignoring the stored value.
 * TCP, UDP and ICMPv6 cover the pseudo-header of src/dst (4 or 16 bytes);
 * ICMPv4 does not (RFC 792). UDP's computed 0 is sent as 0xffff (RFC 768;
 * RFC 8200 8.1). SCTP returns the CRC-32C as read big-endian from the field
 * (see sctpChecksum).
 */
export function l4Checksum(buf: Uint8Array, off: number, len: number, protocol: number, src: Uint8Array, dst: Uint8Array): number {
  if (protocol === IPPROTO_SCTP) return sctpChecksum(buf, off, len);
  const fieldOff = l4ChecksumOffset(protocol);
  if (fieldOff < 0) throw new PacketError('ERR_PACKET_BAD_FIELD', `no checksum known for IP protocol ${protocol}`, 'protocol');
  const initial = protocol === IPPROTO_ICMP ? 0 : pseudoHeaderSum(src, dst, protocol, len);
  const c = ~sumWithout(buf, off, len, fieldOff, initial) & 0xffff;
  return protocol === IPPROTO_UDP && c === 0 ? 0xffff : c;
}

/**
 * Whether the stored L4 checksum is right. A zero UDP checksum over IPv4 means
 * "none" and is valid (RFC 768); over IPv6 it is not (RFC 8200 8.1).
 */
export function l4ChecksumValid(buf: Uint8Array, off: number, len: number, protocol: number, src: Uint8Array, dst: Uint8Array): boolean {
  const fieldOff = l4ChecksumOffset(protocol);
  if (fieldOff < 0 || len < fieldOff + 2) return false;
  checkRange(buf, off, len, 'l4ChecksumValid');
  if (protocol === IPPROTO_SCTP) {
    if (len < 12) return false;
    const stored = ((buf[off + 8] << 24) | (buf[off + 9] << 16) | (buf[off + 10] << 8) | buf[off + 11]) >>> 0;
    return stored === sctpChecksum(buf, off, len);
  }
  if (protocol === IPPROTO_UDP && src.length === 4 && buf[off + 6] === 0 && buf[off + 7] === 0) return true;
  const initial = protocol === IPPROTO_ICMP ? 0 : pseudoHeaderSum(src, dst, protocol, len);
  return checksum(buf, off, len, initial) === 0;
}

/**
 * SCTP CRC-32C over the common header and chunks with the checksum field as
 * zero (RFC 9260 6.8). The CRC goes on the wire least significant byte first
 * (RFC 9260 appendix A, as Linux's cpu_to_le32), so the value returned is the
 * field read big-endian, like every other field here: write it with
 * writeUInt32BE.
 */
export function sctpChecksum(buf: Uint8Array, off: number, len: number): number {
  if (len < 12) throw new PacketError('ERR_PACKET_BAD_FIELD', `SCTP packet of ${len} bytes is shorter than its 12-byte header`, 'checksum');
  checkRange(buf, off, len, 'sctpChecksum');
  let c = crc32cUpdate(0xffffffff, buf, off, 8);
  c = crc32cUpdate(c, ZERO4, 0, 4);
  c = crc32cFinish(crc32cUpdate(c, buf, off + 12, len - 12));
  // byte-swap: CRC bit 0..7 is the first byte on the wire.
  return (((c & 0xff) << 24) | ((c & 0xff00) << 8) | ((c >>> 8) & 0xff00) | (c >>> 24)) >>> 0;
}

const ZERO4 = new Uint8Array(4);

// --- RFC 1624 incremental update -------------------------------------------
// Eqn. 3: HC' = ~(~HC + ~m + m'). Unlike eqn. 2 it never yields 0xffff for a
// checksum a full recompute would give as 0x0000 (RFC 1624 section 3), so the
// result always equals a full recompute.
//
// Words are the aligned 16-bit words of the covered data. For set-field:
// TTL shares its word with the protocol (ttl << 8 | protocol, IPv4 offset 8),
// TOS with version/IHL (vihl << 8 | tos, offset 0); an IPv4 or IPv6 address
// changes the IPv4 header checksum and, through the pseudo-header, the TCP,
// UDP (udpCsumUpdate*) and ICMPv6 checksums; a port changes only L4's. ICMPv4
// has no pseudo-header, and SCTP's CRC-32C cannot be updated this way
// (recompute with sctpChecksum).

/** New checksum after one 16-bit word of the covered data changes from oldWord to newWord. */
export function csumUpdate16(oldCsum: number, oldWord: number, newWord: number): number {
  return ~fold((~oldCsum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff)) & 0xffff;
}

/** Same for an aligned 32-bit field (an IPv4 address, TCP sequence number, two ports). */
export function csumUpdate32(oldCsum: number, oldValue: number, newValue: number): number {
  const s =
    (~oldCsum & 0xffff) +
    (~(oldValue >>> 16) & 0xffff) +
    (~oldValue & 0xffff) +
    ((newValue >>> 16) & 0xffff) +
    (newValue & 0xffff);
  return ~fold(s) & 0xffff;
}

/** Same for an even-aligned field of any even length given as bytes (an IPv6 address, a MAC in a pseudo-sum). */
export function csumUpdateBytes(oldCsum: number, oldBytes: Uint8Array, newBytes: Uint8Array): number {
  if (oldBytes.length !== newBytes.length || oldBytes.length & 1) {
    throw new PacketError('ERR_PACKET_BAD_FIELD', `incremental update of ${oldBytes.length} -> ${newBytes.length} bytes (want equal, even lengths)`, 'bytes');
  }
  let s = ~oldCsum & 0xffff;
  for (let i = 0; i < oldBytes.length; i += 2) {
    s += (~((oldBytes[i] << 8) | oldBytes[i + 1]) & 0xffff) + ((newBytes[i] << 8) | newBytes[i + 1]);
  }
  return ~fold(s) & 0xffff;
}

/**
 * UDP flavour (RFC 768): a zero checksum over IPv4 means "none" and stays 0;
 * a result of 0 is sent as 0xffff.
 */
export function udpCsumUpdate16(oldCsum: number, oldWord: number, newWord: number): number {
  if (oldCsum === 0) return 0;
  const c = csumUpdate16(oldCsum, oldWord, newWord);
  return c === 0 ? 0xffff : c;
}

export function udpCsumUpdate32(oldCsum: number, oldValue: number, newValue: number): number {
  if (oldCsum === 0) return 0;
  const c = csumUpdate32(oldCsum, oldValue, newValue);
  return c === 0 ? 0xffff : c;
}

export function udpCsumUpdateBytes(oldCsum: number, oldBytes: Uint8Array, newBytes: Uint8Array): number {
  if (oldCsum === 0) return 0;
  const c = csumUpdateBytes(oldCsum, oldBytes, newBytes);
  return c === 0 ? 0xffff : c;
}
