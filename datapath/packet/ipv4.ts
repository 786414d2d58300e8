// IPv4 header (RFC 791 3.1): options kept as raw bytes (helpers below list and
// build them), fragmentation fields, header checksum.

import { type Addr, formatIpv4, ipv4Bytes } from './addr.js';
import { ipv4HeaderChecksum } from './checksum.js';
import { type DecodeIssue, malformed, truncated } from './decode-issue.js';
import { checkLength, checkUint, PacketError } from './errors.js';

export const IPV4_MIN_HEADER_BYTES = 20;
export const IPV4_MAX_HEADER_BYTES = 60;
/** Bits of the 3-bit flags field (RFC 791 3.1). */
export const IPV4_FLAG_RESERVED = 4;
export const IPV4_FLAG_DF = 2;
export const IPV4_FLAG_MF = 1;

/** Option types (RFC 791 3.1; IANA "IP Option Numbers"). */
export const IPV4_OPT_EOL = 0;
export const IPV4_OPT_NOP = 1;
export const IPV4_OPT_RR = 7;
export const IPV4_OPT_TS = 68;
export const IPV4_OPT_LSRR = 131;
export const IPV4_OPT_SSRR = 137;
export const IPV4_OPT_ROUTER_ALERT = 148;

export interface Ipv4Header {
  kind: 'ipv4';
  offset: number;
  /** IHL * 4. */
  headerBytes: number;
  /** Whole TOS byte: DSCP << 2 | ECN (RFC 2474, RFC 3168). */
  tos: number;
  totalLength: number;
  id: number;
  /** IPV4_FLAG_* bits. */
  flags: number;
  /** Fragment offset in 8-byte units. */
  fragOffset: number;
  ttl: number;
  protocol: number;
  checksum: number;
  src: string;
  dst: string;
  /** Raw option bytes (headerBytes - 20), padding included. */
  options: Buffer;
}

export function decodeIpv4(buf: Buffer, off: number, end: number): Ipv4Header | DecodeIssue {
  if (end - off < IPV4_MIN_HEADER_BYTES) return truncated(`IPv4 header needs 20 bytes, ${end - off} captured`);
  const vihl = buf.readUInt8(off);
  if (vihl >> 4 !== 4) return malformed(`IPv4 version field is ${vihl >> 4}`);
  const headerBytes = (vihl & 15) * 4;
  if (headerBytes < IPV4_MIN_HEADER_BYTES) return malformed(`IPv4 IHL ${vihl & 15} is below 5`);
  if (end - off < headerBytes) return truncated(`IPv4 header with options needs ${headerBytes} bytes, ${end - off} captured`);
  const totalLength = buf.readUInt16BE(off + 2);
  if (totalLength < headerBytes) return malformed(`IPv4 total length ${totalLength} is shorter than the ${headerBytes}-byte header`);
  const ff = buf.readUInt16BE(off + 6);
  return {
    kind: 'ipv4',
    offset: off,
    headerBytes,
    tos: buf.readUInt8(off + 1),
    totalLength,
    id: buf.readUInt16BE(off + 4),
    flags: ff >> 13,
    fragOffset: ff & 0x1fff,
    ttl: buf.readUInt8(off + 8),
    protocol: buf.readUInt8(off + 9),
    checksum: buf.readUInt16BE(off + 10),
    src: formatIpv4(buf, off + 12),
    dst: formatIpv4(buf, off + 16),
    options: buf.subarray(off + IPV4_MIN_HEADER_BYTES, off + headerBytes),
  };
}

/** Any fragment (MF set or offset non-zero), as OVS's nw_frag "any". */
export function ipv4IsFragment(h: Pick<Ipv4Header, 'flags' | 'fragOffset'>): boolean {
  return (h.flags & IPV4_FLAG_MF) !== 0 || h.fragOffset !== 0;
}

/** Not the first fragment: no L4 header inside (OVS's nw_frag "later"). */
export function ipv4IsLaterFragment(h: Pick<Ipv4Header, 'fragOffset'>): boolean {
  return h.fragOffset !== 0;
}

export interface Ipv4Option {
  type: number;
  /** Bytes after type and length; absent for EOL and NOP, which are one byte. */
  data?: Uint8Array;
}

/** List the options of a header's option bytes (RFC 791 3.1: EOL and NOP are single bytes, others type-length-value). */
export function decodeIpv4Options(bytes: Uint8Array): Ipv4Option[] | DecodeIssue {
  const out: Ipv4Option[] = [];
  let p = 0;
  while (p < bytes.length) {
    const type = bytes[p];
    if (type === IPV4_OPT_EOL) {
      out.push({ type });
      break; // the rest is padding
    }
    if (type === IPV4_OPT_NOP) {
      out.push({ type });
      p++;
      continue;
    }
    if (bytes.length - p < 2) return truncated(`IPv4 option ${type} has no length byte`);
    const len = bytes[p + 1];
    if (len < 2) return malformed(`IPv4 option ${type} length ${len} is below 2`);
    if (bytes.length - p < len) return truncated(`IPv4 option ${type} length ${len} runs past the header`);
    out.push({ type, data: bytes.subarray(p + 2, p + len) });
    p += len;
  }
  return out;
}

/** Option bytes for a list, padded with EOL (zeros) to a multiple of 4. */
export function encodeIpv4Options(options: Ipv4Option[]): Buffer {
  let n = 0;
  for (const o of options) n += o.type <= 1 ? 1 : 2 + (o.data?.length ?? 0);
  const out = Buffer.alloc((n + 3) & ~3);
  let p = 0;
  for (const o of options) {
    out.writeUInt8(checkUint('ipv4.option.type', o.type, 0xff), p++);
    if (o.type <= 1) continue;
    const data = o.data ?? new Uint8Array(0);
    out.writeUInt8(checkLength('ipv4.option.length', 2 + data.length, 0xff), p++);
    out.set(data, p);
    p += data.length;
  }
  checkLength('ipv4.options', out.length, IPV4_MAX_HEADER_BYTES - IPV4_MIN_HEADER_BYTES);
  return out;
}

export interface Ipv4Fields {
  src: Addr;
  dst: Addr;
  protocol: number;
  tos?: number;
  id?: number;
  flags?: number;
  fragOffset?: number;
  /** Default 64. */
  ttl?: number;
  /** Raw bytes (a multiple of 4) or a list to encode. */
  options?: Uint8Array | Ipv4Option[];
  /** Default: header plus payload. */
  totalLength?: number;
  /** Default: computed. */
  checksum?: number;
  payload?: Uint8Array;
}

export function buildIpv4(f: Ipv4Fields): Buffer {
  const payload = f.payload ?? new Uint8Array(0);
  const options = f.options === undefined ? new Uint8Array(0) : Array.isArray(f.options) ? encodeIpv4Options(f.options) : (f.options as Uint8Array);
  if (options.length % 4 !== 0) throw new PacketError('ERR_PACKET_BAD_FIELD', `IPv4 options of ${options.length} bytes are not a multiple of 4`, 'options');
  checkLength('ipv4.options', options.length, IPV4_MAX_HEADER_BYTES - IPV4_MIN_HEADER_BYTES);
  const hl = IPV4_MIN_HEADER_BYTES + options.length;
  const out = Buffer.alloc(hl + payload.length);
  out.writeUInt8(0x40 | (hl >> 2), 0);
  out.writeUInt8(checkUint('ipv4.tos', f.tos ?? 0, 0xff), 1);
  out.writeUInt16BE(checkUint('ipv4.totalLength', f.totalLength ?? checkLength('ipv4 datagram', hl + payload.length, 0xffff), 0xffff), 2);
  out.writeUInt16BE(checkUint('ipv4.id', f.id ?? 0, 0xffff), 4);
  out.writeUInt16BE((checkUint('ipv4.flags', f.flags ?? 0, 7) << 13) | checkUint('ipv4.fragOffset', f.fragOffset ?? 0, 0x1fff), 6);
  out.writeUInt8(checkUint('ipv4.ttl', f.ttl ?? 64, 0xff), 8);
  out.writeUInt8(checkUint('ipv4.protocol', f.protocol, 0xff), 9);
  out.set(ipv4Bytes(f.src), 12);
  out.set(ipv4Bytes(f.dst), 16);
  out.set(options, 20);
  out.writeUInt16BE(f.checksum === undefined ? ipv4HeaderChecksum(out, 0, hl) : checkUint('ipv4.checksum', f.checksum, 0xffff), 10);
  out.set(payload, hl);
  return out;
}
