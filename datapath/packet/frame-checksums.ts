// Verify or refill the IPv4 header and L4 checksums of a decoded frame in
// place. Only whole datagrams are covered: a truncated capture or a fragment
// (whose L4 checksum spans the reassembled datagram) gives null.

import { IPPROTO_SCTP, IPPROTO_UDP } from '../flow/key.js';
import { ipv4Bytes, ipv6Bytes } from './addr.js';
import { ipv4HeaderChecksum, ipv4HeaderChecksumValid, l4Checksum, l4ChecksumOffset, l4ChecksumValid } from './checksum.js';
import { asBuffer, decodeFrame, type Frame } from './frame.js';
import { ipv4IsFragment } from './ipv4.js';
import { type Ipv6Header, IPPROTO_ROUTING, IPV6_HEADER_BYTES, ipv6Fragment, type Ipv6RoutingExt } from './ipv6.js';

export interface FrameChecksums {
  /** IPv4 header checksum valid; null without an IPv4 header. */
  ipv4: boolean | null;
  /** L4 checksum valid; null without an L4 header or when the datagram is not whole. */
  l4: boolean | null;
}

/**
 * The destination the upper layer's pseudo-header uses: the last address of a
 * routing header that still has segments left (RFC 8200 8.1), else dst.
 * Handles routing types 0 and 2 (addresses after 4 reserved bytes) and 4
 * (segment routing, RFC 8754 2: segment list[0] is the final segment).
 */
export function ipv6FinalDestination(h: Ipv6Header): Uint8Array {
  for (const e of h.extHeaders) {
    if (e.type !== IPPROTO_ROUTING) continue;
    const r = e as Ipv6RoutingExt;
    if (r.segmentsLeft === 0) continue;
    if ((r.routingType === 0 || r.routingType === 2) && r.data.length >= 20) return r.data.subarray(r.data.length - 16);
    if (r.routingType === 4 && r.data.length >= 20) return r.data.subarray(4, 20);
  }
  return ipv6Bytes(h.dst);
}

interface L4Span {
  off: number;
  len: number;
  proto: number;
  src: Uint8Array;
  dst: Uint8Array;
}

function l4Span(buf: Buffer, f: Frame): L4Span | null {
  const l3 = f.l3;
  const l4 = f.l4;
  if (!l3 || !l4 || f.truncated) return null;
  if (l3.kind === 'ipv4') {
    if (ipv4IsFragment(l3)) return null;
    return { off: l4.offset, len: l3.offset + l3.totalLength - l4.offset, proto: l3.protocol, src: ipv4Bytes(l3.src), dst: ipv4Bytes(l3.dst) };
  }
  if (l3.kind === 'ipv6') {
    if (ipv6Fragment(l3)) return null;
    const end = l3.offset + IPV6_HEADER_BYTES + l3.payloadLength;
    if (end > buf.length) return null;
    return { off: l4.offset, len: end - l4.offset, proto: l3.protocol, src: ipv6Bytes(l3.src), dst: ipv6FinalDestination(l3) };
  }
  return null;
}

export function verifyFrameChecksums(input: Uint8Array, f: Frame = decodeFrame(input)): FrameChecksums {
  const buf = asBuffer(input);
  const ipv4 = f.l3?.kind === 'ipv4' ? ipv4HeaderChecksumValid(buf, f.l3.offset, f.l3.headerBytes) : null;
  const s = l4Span(buf, f);
  const l4 = s && l4ChecksumOffset(s.proto) >= 0 ? l4ChecksumValid(buf, s.off, s.len, s.proto, s.src, s.dst) : null;
  return { ipv4, l4 };
}

/**
 * Recompute the IPv4 header checksum and the L4 checksum in place (after
 * editing a frame). A zero UDP checksum over IPv4 stays zero (none).
 */
export function fillFrameChecksums(input: Uint8Array, f: Frame = decodeFrame(input)): void {
  const buf = asBuffer(input);
  const s = l4Span(buf, f);
  if (s && l4ChecksumOffset(s.proto) >= 0) {
    const at = s.off + l4ChecksumOffset(s.proto);
    const udpNone = s.proto === IPPROTO_UDP && s.src.length === 4 && buf.readUInt16BE(at) === 0;
    if (!udpNone) {
      const c = l4Checksum(buf, s.off, s.len, s.proto, s.src, s.dst);
      if (s.proto === IPPROTO_SCTP) buf.writeUInt32BE(c, at);
      else buf.writeUInt16BE(c, at);
    }
  }
  if (f.l3?.kind === 'ipv4') buf.writeUInt16BE(ipv4HeaderChecksum(buf, f.l3.offset, f.l3.headerBytes), f.l3.offset + 10);
}

