// IPv6 fixed header (RFC 8200 3) and the extension-header chain (RFC 8200 4):
// hop-by-hop (0), routing (43), fragment (44), destination options (60) and AH
// (51, RFC 4302 2.2, length in 4-octet units). Walking the chain gives the
// upper-layer protocol and its offset.

import { type Addr, formatIpv6, ipv6Bytes } from './addr.js';
import { type DecodeIssue, malformed, truncated } from './decode-issue.js';
import { checkLength, checkUint, PacketError } from './errors.js';

export const IPV6_HEADER_BYTES = 40;
export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;

/** Hop-by-hop, destination options, AH, or any other "next header + length" extension kept raw. */
export interface Ipv6GenericExt {
  type: number;
  offset: number;
  nextHeader: number;
  hdrExtLen: number;
  /** Bytes after nextHeader and hdrExtLen (options TLVs for 0 and 60). */
  data: Buffer;
}

export interface Ipv6RoutingExt {
  type: typeof IPPROTO_ROUTING;
  offset: number;
  nextHeader: number;
  hdrExtLen: number;
  routingType: number;
  segmentsLeft: number;
  /** Type-specific data after the first 4 bytes. */
  data: Buffer;
}

export interface Ipv6FragmentExt {
  type: typeof IPPROTO_FRAGMENT;
  offset: number;
  nextHeader: number;
  /** The 8-bit reserved field (RFC 8200 4.5). */
  reserved: number;
  /** Offset in 8-byte units. */
  fragOffset: number;
  /** The 2-bit reserved field. */
  res: number;
  more: boolean;
  id: number;
}

export type Ipv6ExtHeader = Ipv6GenericExt | Ipv6RoutingExt | Ipv6FragmentExt;

export interface Ipv6Header {
  kind: 'ipv6';
  offset: number;
  trafficClass: number;
  flowLabel: number;
  payloadLength: number;
  nextHeader: number;
  hopLimit: number;
  src: string;
  dst: string;
  extHeaders: Ipv6ExtHeader[];
  /** Upper-layer protocol after the extension headers (IPPROTO_NONE for 59). */
  protocol: number;
  /** Offset of the upper-layer header (after the extension headers). */
  payloadOffset: number;
}

/** Whether a next-header value is an extension header this codec walks. */
export function isIpv6ExtHeader(nh: number): boolean {
  return nh === IPPROTO_HOPOPTS || nh === IPPROTO_ROUTING || nh === IPPROTO_FRAGMENT || nh === IPPROTO_DSTOPTS || nh === IPPROTO_AH;
}

/** The fragment header, if any. */
export function ipv6Fragment(h: Ipv6Header): Ipv6FragmentExt | null {
  for (const e of h.extHeaders) if (e.type === IPPROTO_FRAGMENT) return e as Ipv6FragmentExt;
  return null;
}

/**
 * Decode the fixed header and walk the extension headers inside buf[off, end)
 * (end should already be bounded by the payload length). The walk stops at
 * the first non-extension header, at ESP, and after a fragment header of a
 * non-first fragment (its upper-layer header is in fragment 0, RFC 8200 4.5).
 */
export function decodeIpv6(buf: Buffer, off: number, end: number): Ipv6Header | DecodeIssue {
  if (end - off < IPV6_HEADER_BYTES) return truncated(`IPv6 header needs 40 bytes, ${end - off} captured`);
  const w0 = buf.readUInt32BE(off);
  if (w0 >>> 28 !== 6) return malformed(`IPv6 version field is ${w0 >>> 28}`);
  const nextHeader = buf.readUInt8(off + 6);
  const extHeaders: Ipv6ExtHeader[] = [];
  let nh = nextHeader;
  let p = off + IPV6_HEADER_BYTES;
  while (isIpv6ExtHeader(nh)) {
    if (end - p < 8) return truncated(`IPv6 extension header ${nh} needs 8 bytes, ${end - p} left`);
    const next = buf.readUInt8(p);
    if (nh === IPPROTO_FRAGMENT) {
      const fo = buf.readUInt16BE(p + 2);
      const frag: Ipv6FragmentExt = {
        type: IPPROTO_FRAGMENT,
        offset: p,
        nextHeader: next,
        reserved: buf.readUInt8(p + 1),
        fragOffset: fo >> 3,
        res: (fo >> 1) & 3,
        more: (fo & 1) === 1,
        id: buf.readUInt32BE(p + 4),
      };
      extHeaders.push(frag);
      p += 8;
      nh = next;
      if (frag.fragOffset !== 0) break;
      continue;
    }
    const hdrExtLen = buf.readUInt8(p + 1);
    const len = nh === IPPROTO_AH ? (hdrExtLen + 2) * 4 : (hdrExtLen + 1) * 8;
    if (end - p < len) return truncated(`IPv6 extension header ${nh} of ${len} bytes, ${end - p} left`);
    if (nh === IPPROTO_ROUTING) {
      extHeaders.push({
        type: IPPROTO_ROUTING,
        offset: p,
        nextHeader: next,
        hdrExtLen,
        routingType: buf.readUInt8(p + 2),
        segmentsLeft: buf.readUInt8(p + 3),
        data: buf.subarray(p + 4, p + len),
      });
    } else {
      extHeaders.push({ type: nh, offset: p, nextHeader: next, hdrExtLen, data: buf.subarray(p + 2, p + len) });
    }
    p += len;
    nh = next;
  }
  return {
    kind: 'ipv6',
    offset: off,
    trafficClass: (w0 >>> 20) & 0xff,
    flowLabel: w0 & 0xfffff,
    payloadLength: buf.readUInt16BE(off + 4),
    nextHeader,
    hopLimit: buf.readUInt8(off + 7),
    src: formatIpv6(buf, off + 8),
    dst: formatIpv6(buf, off + 24),
    extHeaders,
    protocol: nh,
    payloadOffset: p,
  };
}

export interface Ipv6Option {
  /** 0 is Pad1 (one byte, no length); 1 is PadN. */
  type: number;
  data?: Uint8Array;
}

/** TLV options of a hop-by-hop or destination options header (RFC 8200 4.2). */
export function decodeIpv6Options(data: Uint8Array): Ipv6Option[] | DecodeIssue {
  const out: Ipv6Option[] = [];
  let p = 0;
  while (p < data.length) {
    const type = data[p];
    if (type === 0) {
      out.push({ type });
      p++;
      continue;
    }
    if (data.length - p < 2) return truncated(`IPv6 option ${type} has no length byte`);
    const len = data[p + 1];
    if (data.length - p - 2 < len) return truncated(`IPv6 option ${type} of ${len} bytes runs past its header`);
    out.push({ type, data: data.subarray(p + 2, p + 2 + len) });
    p += 2 + len;
  }
  return out;
}

/**
 * Option bytes (the header's data after its first 2 bytes) for a list, padded
 * with Pad1/PadN so that the header is a multiple of 8 bytes (RFC 8200 4.2).
 */
export function encodeIpv6Options(options: Ipv6Option[]): Buffer {
  let n = 2;
  for (const o of options) n += o.type === 0 ? 1 : 2 + (o.data?.length ?? 0);
  const total = (n + 7) & ~7;
  const out = Buffer.alloc(total - 2);
  let p = 0;
  for (const o of options) {
    out.writeUInt8(checkUint('ipv6.option.type', o.type, 0xff), p++);
    if (o.type === 0) continue;
    const d = o.data ?? new Uint8Array(0);
    out.writeUInt8(checkLength('ipv6.option.length', d.length, 0xff), p++);
    out.set(d, p);
    p += d.length;
  }
  const pad = out.length - p;
  if (pad === 1) out.writeUInt8(0, p);
  else if (pad > 1) {
    out.writeUInt8(1, p);
    out.writeUInt8(pad - 2, p + 1);
  }
  return out;
}

/** One extension header to build; nextHeader defaults to the following header's type. */
export type Ipv6ExtSpec =
  | { type: typeof IPPROTO_HOPOPTS | typeof IPPROTO_DSTOPTS; options: Ipv6Option[]; nextHeader?: number }
  | { type: typeof IPPROTO_ROUTING; routingType: number; segmentsLeft: number; data?: Uint8Array; hdrExtLen?: number; nextHeader?: number }
  | { type: typeof IPPROTO_FRAGMENT; fragOffset: number; more: boolean; id: number; reserved?: number; res?: number; nextHeader?: number }
  | { type: number; data: Uint8Array; hdrExtLen?: number; nextHeader?: number };

function extBytes(e: Ipv6ExtSpec, next: number): Buffer {
  const nh = checkUint('ipv6.ext.nextHeader', e.nextHeader ?? next, 0xff);
  if (e.type === IPPROTO_FRAGMENT && 'fragOffset' in e) {
    const out = Buffer.alloc(8);
    out.writeUInt8(nh, 0);
    out.writeUInt8(checkUint('ipv6.frag.reserved', e.reserved ?? 0, 0xff), 1);
    out.writeUInt16BE((checkUint('ipv6.frag.fragOffset', e.fragOffset, 0x1fff) << 3) | (checkUint('ipv6.frag.res', e.res ?? 0, 3) << 1) | (e.more ? 1 : 0), 2);
    out.writeUInt32BE(checkUint('ipv6.frag.id', e.id, 0xffffffff), 4);
    return out;
  }
  let head: Buffer;
  let data: Uint8Array;
  if ('options' in e) {
    head = Buffer.alloc(2);
    data = encodeIpv6Options(e.options);
  } else if (e.type === IPPROTO_ROUTING && 'routingType' in e) {
    head = Buffer.alloc(4);
    head.writeUInt8(checkUint('ipv6.routing.routingType', e.routingType, 0xff), 2);
    head.writeUInt8(checkUint('ipv6.routing.segmentsLeft', e.segmentsLeft, 0xff), 3);
    data = e.data ?? new Uint8Array(4);
  } else {
    head = Buffer.alloc(2);
    data = (e as { data: Uint8Array }).data;
  }
  const len = head.length + data.length;
  const unit = e.type === IPPROTO_AH ? 4 : 8;
  if (len % unit !== 0 || len < 8) {
    throw new PacketError('ERR_PACKET_BAD_FIELD', `IPv6 extension header ${e.type} of ${len} bytes is not a multiple of ${unit} (at least 8)`, 'data');
  }
  const hdrExtLen = (e as { hdrExtLen?: number }).hdrExtLen ?? (e.type === IPPROTO_AH ? len / 4 - 2 : len / 8 - 1);
  head.writeUInt8(nh, 0);
  head.writeUInt8(checkUint('ipv6.ext.hdrExtLen', hdrExtLen, 0xff), 1);
  return Buffer.concat([head, data]);
}

export interface Ipv6Fields {
  src: Addr;
  dst: Addr;
  /** Upper-layer protocol (the last next-header value). Needed unless nextHeader says it all. */
  protocol?: number;
  trafficClass?: number;
  flowLabel?: number;
  /** Default 64. */
  hopLimit?: number;
  /** Default: the first extension header's type, else protocol. */
  nextHeader?: number;
  extHeaders?: Ipv6ExtSpec[];
  /** Default: extension headers plus payload. */
  payloadLength?: number;
  payload?: Uint8Array;
}

export function buildIpv6(f: Ipv6Fields): Buffer {
  const payload = f.payload ?? new Uint8Array(0);
  const exts = f.extHeaders ?? [];
  const proto = f.protocol ?? (exts.length ? exts[exts.length - 1].nextHeader : f.nextHeader);
  if (proto === undefined) throw new PacketError('ERR_PACKET_BAD_FIELD', 'buildIpv6: protocol is required', 'protocol');
  const parts: Buffer[] = [];
  exts.forEach((e, i) => parts.push(extBytes(e, i + 1 < exts.length ? exts[i + 1].type : proto)));
  const extLen = parts.reduce((n, b) => n + b.length, 0);
  const out = Buffer.alloc(IPV6_HEADER_BYTES + extLen + payload.length);
  const w0 = (6 << 28) | (checkUint('ipv6.trafficClass', f.trafficClass ?? 0, 0xff) << 20) | checkUint('ipv6.flowLabel', f.flowLabel ?? 0, 0xfffff);
  out.writeUInt32BE(w0 >>> 0, 0);
  out.writeUInt16BE(checkUint('ipv6.payloadLength', f.payloadLength ?? checkLength('ipv6 payload', extLen + payload.length, 0xffff), 0xffff), 4);
  out.writeUInt8(checkUint('ipv6.nextHeader', f.nextHeader ?? (exts.length ? exts[0].type : proto), 0xff), 6);
  out.writeUInt8(checkUint('ipv6.hopLimit', f.hopLimit ?? 64, 0xff), 7);
  out.set(ipv6Bytes(f.src), 8);
  out.set(ipv6Bytes(f.dst), 24);
  let p = IPV6_HEADER_BYTES;
  for (const b of parts) {
    out.set(b, p);
    p += b.length;
  }
  out.set(payload, p);
  return out;
}
