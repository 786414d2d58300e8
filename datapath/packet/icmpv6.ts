// ICMPv6 (RFC 4443 2.1): type, code, checksum over the IPv6 pseudo-header, and
// the bodies the switch and its guests act on: echo (RFC 4443 4) and neighbour
// solicitation/advertisement with their options (RFC 4861 4.3, 4.4, 4.6).

import { IPPROTO_ICMPV6 } from '../flow/key.js';
import { type Addr, formatIpv6, formatMac, ipv6Bytes, macBytes } from './addr.js';
import { l4Checksum } from './checksum.js';
import { type DecodeIssue, malformed, truncated } from './decode-issue.js';
import { checkLength, checkUint, PacketError } from './errors.js';
import { type PseudoHeader, pseudoBytes } from './pseudo-header.js';

export const ICMPV6_HEADER_BYTES = 4;
export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;
export const ICMPV6_ND_NS = 135;
export const ICMPV6_ND_NA = 136;
/** ND option types (RFC 4861 4.6). */
export const ND_OPT_SLL = 1;
export const ND_OPT_TLL = 2;
/** NA flag bits in the 32-bit word after the checksum (RFC 4861 4.4). */
export const ND_NA_ROUTER = 0x80000000;
export const ND_NA_SOLICITED = 0x40000000;
export const ND_NA_OVERRIDE = 0x20000000;

export interface Icmpv6Echo {
  kind: 'echo';
  id: number;
  seq: number;
}

export interface NdOption {
  type: number;
  /** In units of 8 bytes, type and length included. */
  length: number;
  /** For SLL/TLL options of length 1 (Ethernet). */
  mac?: string;
  /** Bytes after type and length, for every other option. */
  data?: Buffer;
}

export interface NdNeighbor {
  kind: 'nd';
  /** The 32-bit word after the checksum: reserved for NS, R/S/O flags for NA. */
  flags: number;
  target: string;
  options: NdOption[];
}

export interface Icmpv6Header {
  kind: 'icmpv6';
  offset: number;
  type: number;
  code: number;
  checksum: number;
  /** Decoded body for echo and NS/NA; null otherwise or when it did not decode (see note). */
  body: Icmpv6Echo | NdNeighbor | null;
  /** Why an echo or NS/NA body was not decoded; its bytes are then left as payload. */
  note: DecodeIssue | null;
}

function decodeNd(buf: Buffer, off: number, end: number): NdNeighbor | DecodeIssue {
  if (end - off < 24) return truncated(`neighbour discovery message needs 24 bytes, ${end - off} captured`);
  const options: NdOption[] = [];
  for (let p = off + 24; p < end; ) {
    if (end - p < 2) return truncated(`ND option header cut at ${p}`);
    const type = buf.readUInt8(p);
    const length = buf.readUInt8(p + 1);
    // RFC 4861 4.6: an option with length 0 makes the message invalid.
    if (length === 0) return malformed(`ND option ${type} has length 0`);
    if (end - p < length * 8) return truncated(`ND option ${type} of ${length * 8} bytes, ${end - p} left`);
    if ((type === ND_OPT_SLL || type === ND_OPT_TLL) && length === 1) options.push({ type, length, mac: formatMac(buf, p + 2) });
    else options.push({ type, length, data: buf.subarray(p + 2, p + length * 8) });
    p += length * 8;
  }
  return { kind: 'nd', flags: buf.readUInt32BE(off + 4), target: formatIpv6(buf, off + 8), options };
}

/** Decode the ICMPv6 message at buf[off, end) (end = end of the IPv6 payload). */
export function decodeIcmpv6(buf: Buffer, off: number, end: number): Icmpv6Header | DecodeIssue {
  if (end - off < ICMPV6_HEADER_BYTES) return truncated(`ICMPv6 header needs 4 bytes, ${end - off} captured`);
  const type = buf.readUInt8(off);
  let body: Icmpv6Header['body'] = null;
  let note: DecodeIssue | null = null;
  if (type === ICMPV6_ECHO_REQUEST || type === ICMPV6_ECHO_REPLY) {
    if (end - off < 8) note = truncated(`ICMPv6 echo needs 8 bytes, ${end - off} captured`);
    else body = { kind: 'echo', id: buf.readUInt16BE(off + 4), seq: buf.readUInt16BE(off + 6) };
  } else if (type === ICMPV6_ND_NS || type === ICMPV6_ND_NA) {
    const nd = decodeNd(buf, off, end);
    if (nd.kind === 'issue') note = nd;
    else body = nd;
  }
  return { kind: 'icmpv6', offset: off, type, code: buf.readUInt8(off + 1), checksum: buf.readUInt16BE(off + 2), body, note };
}

/** Bytes of the decoded body (what follows the 4-byte header). */
function bodyBytes(body: Icmpv6Echo | NdNeighborSpec): Buffer {
  if (body.kind === 'echo') {
    const b = Buffer.alloc(4);
    b.writeUInt16BE(checkUint('icmpv6.echo.id', body.id, 0xffff), 0);
    b.writeUInt16BE(checkUint('icmpv6.echo.seq', body.seq, 0xffff), 2);
    return b;
  }
  const opts = body.options ?? [];
  let n = 20;
  for (const o of opts) n += optionLength(o) * 8;
  const b = Buffer.alloc(n);
  b.writeUInt32BE(checkUint('nd.flags', body.flags ?? 0, 0xffffffff), 0);
  b.set(ipv6Bytes(body.target), 4);
  let p = 20;
  for (const o of opts) {
    const len = optionLength(o);
    b.writeUInt8(checkUint('nd.option.type', o.type, 0xff), p);
    b.writeUInt8(len, p + 1);
    if (o.mac !== undefined) b.set(macBytes(o.mac), p + 2);
    else if (o.data) b.set(o.data, p + 2);
    p += len * 8;
  }
  return b;
}

function optionLength(o: NdOptionSpec): number {
  const inner = o.mac !== undefined ? 6 : (o.data?.length ?? 0);
  const min = Math.ceil((2 + inner) / 8);
  if (o.length === undefined) return checkLength('nd.option.length', min, 0xff);
  if (o.length < min) throw new PacketError('ERR_PACKET_BAD_FIELD', `ND option length ${o.length} (x8 bytes) cannot hold its ${inner} bytes`, 'length');
  return checkUint('nd.option.length', o.length, 0xff);
}

export interface NdOptionSpec {
  type: number;
  /** Default: the smallest length (in 8-byte units) holding the content; padded with zeros. */
  length?: number;
  mac?: Addr;
  data?: Uint8Array;
}

export interface NdNeighborSpec {
  kind: 'nd';
  flags?: number;
  target: Addr;
  options?: NdOptionSpec[];
}

export interface Icmpv6Fields {
  type: number;
  code?: number;
  body?: Icmpv6Echo | NdNeighborSpec | null;
  /** Default: computed when a pseudo-header is given, else 0. */
  checksum?: number;
  payload?: Uint8Array;
}

export function buildIcmpv6(f: Icmpv6Fields, pseudo?: PseudoHeader): Buffer {
  const body = f.body ? bodyBytes(f.body) : Buffer.alloc(0);
  const payload = f.payload ?? new Uint8Array(0);
  const out = Buffer.alloc(ICMPV6_HEADER_BYTES + body.length + payload.length);
  out.writeUInt8(checkUint('icmpv6.type', f.type, 0xff), 0);
  out.writeUInt8(checkUint('icmpv6.code', f.code ?? 0, 0xff), 1);
  out.set(body, ICMPV6_HEADER_BYTES);
  out.set(payload, ICMPV6_HEADER_BYTES + body.length);
  let csum = f.checksum;
  if (csum === undefined && pseudo) {
    const { src, dst } = pseudoBytes(pseudo);
    csum = l4Checksum(out, 0, out.length, IPPROTO_ICMPV6, src, dst);
  }
  out.writeUInt16BE(checkUint('icmpv6.checksum', csum ?? 0, 0xffff), 2);
  return out;
}

export function buildIcmpv6Echo(f: { reply?: boolean; id: number; seq: number; payload?: Uint8Array }, pseudo: PseudoHeader): Buffer {
  return buildIcmpv6({ type: f.reply ? ICMPV6_ECHO_REPLY : ICMPV6_ECHO_REQUEST, body: { kind: 'echo', id: f.id, seq: f.seq }, payload: f.payload }, pseudo);
}

/** Neighbour solicitation for target, with the sender's link-layer address unless from :: (RFC 4861 4.3). */
export function buildIcmpv6Ns(f: { target: Addr; sll?: Addr }, pseudo: PseudoHeader): Buffer {
  const options = f.sll !== undefined ? [{ type: ND_OPT_SLL, mac: f.sll }] : [];
  return buildIcmpv6({ type: ICMPV6_ND_NS, body: { kind: 'nd', target: f.target, options } }, pseudo);
}

/** Neighbour advertisement (RFC 4861 4.4). */
export function buildIcmpv6Na(
  f: { target: Addr; tll?: Addr; router?: boolean; solicited?: boolean; override?: boolean },
  pseudo: PseudoHeader,
): Buffer {
  const flags = ((f.router ? ND_NA_ROUTER : 0) | (f.solicited ? ND_NA_SOLICITED : 0) | (f.override ? ND_NA_OVERRIDE : 0)) >>> 0;
  const options = f.tll !== undefined ? [{ type: ND_OPT_TLL, mac: f.tll }] : [];
  return buildIcmpv6({ type: ICMPV6_ND_NA, body: { kind: 'nd', flags, target: f.target, options } }, pseudo);
}

/** The MAC in the first SLL (or TLL) option of an NS/NA, or null. */
export function ndLinkAddress(h: Icmpv6Header, optionType: typeof ND_OPT_SLL | typeof ND_OPT_TLL): string | null {
  if (h.body?.kind !== 'nd') return null;
  for (const o of h.body.options) if (o.type === optionType && o.mac !== undefined) return o.mac;
  return null;
}

/** Solicited-node multicast address of addr: ff02::1:ff00:0/104 plus its low 24 bits (RFC 4291 2.7.1). */
export function solicitedNodeAddress(addr: Addr): string {
  const a = ipv6Bytes(addr);
  const out = new Uint8Array(16);
  out.set([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, a[13], a[14], a[15]]);
  return formatIpv6(out);
}
