// decodeFrame: a plain object tree of every layer of an Ethernet frame, with
// the offset of each header; never throws, never reads past the buffer.
// encodeFrame: its inverse, byte for byte (stored lengths and checksums are
// written back as they were, so even wrong ones round-trip).
//
// Rule: a layer that is cut short or malformed is not decoded; its bytes stay
// in `payload` and a note says why. Bytes after the innermost declared length
// (Ethernet padding, a captured FCS) are the `trailer`.

import {
  ETH_TYPE_ARP,
  ETH_TYPE_CFM,
  ETH_TYPE_IPV4,
  ETH_TYPE_IPV6,
  ETH_TYPE_MPLS,
  ETH_TYPE_MPLS_MCAST,
  ETH_TYPE_SLOW,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
} from '../flow/key.js';
import { type ArpPacket, ARP_BYTES, buildArp, decodeArp } from './arp.js';
import { buildCfm, type CfmHeader, decodeCfm } from './cfm.js';
import { type DecodeIssue } from './decode-issue.js';
import { buildEthernet, decodeEthernet, ETH_TYPE_MIN, type EthernetHeader, ethernetPayloadType } from './ethernet.js';
import { buildIcmp, decodeIcmp, ICMP_HEADER_BYTES, type IcmpHeader } from './icmp.js';
import { buildIcmpv6, decodeIcmpv6, ICMPV6_HEADER_BYTES, type Icmpv6Header } from './icmpv6.js';
import { buildIpv4, decodeIpv4, type Ipv4Header } from './ipv4.js';
import { buildIpv6, decodeIpv6, IPPROTO_HOPOPTS, IPV6_HEADER_BYTES, type Ipv6ExtSpec, type Ipv6Header, ipv6Fragment } from './ipv6.js';
import { buildMpls, decodeMpls, type MplsHeader } from './mpls.js';
import { buildSctp, decodeSctp, SCTP_HEADER_BYTES, type SctpHeader } from './sctp.js';
import { buildSlow, decodeSlow, type SlowHeader } from './slow.js';
import { buildTcp, decodeTcp, type TcpHeader } from './tcp.js';
import { buildUdp, decodeUdp, UDP_HEADER_BYTES, type UdpHeader } from './udp.js';

/** What sits where OVS puts L3: IP, ARP, or the L2 control protocols recognised by ethertype. */
export type L3Header = Ipv4Header | Ipv6Header | ArpPacket | SlowHeader | CfmHeader;
export type L4Header = TcpHeader | UdpHeader | SctpHeader | IcmpHeader | Icmpv6Header;

export interface FrameNote {
  /** eth, vlan, llc, mpls, ipv4, ipv6, arp, slow, cfm, tcp, udp, sctp, icmp, icmpv6. */
  layer: string;
  /** Offset of the layer's header. */
  offset: number;
  message: string;
}

export interface Frame {
  /** Bytes decoded (the input's length). */
  length: number;
  eth: EthernetHeader | null;
  mpls: MplsHeader | null;
  l3: L3Header | null;
  l4: L4Header | null;
  /** Offset of `payload` in the frame. */
  payloadOffset: number;
  /** Bytes after the last decoded header up to the end of the innermost datagram (a view, not a copy). */
  payload: Buffer;
  /** Bytes after the innermost declared length: padding, FCS. */
  trailer: Buffer;
  /** The first layer cut short by the end of the capture. */
  truncated: FrameNote | null;
  /** The first layer whose fields are inconsistent (it and what follows stay undecoded). */
  error: FrameNote | null;
}

/** A Buffer view of any byte array, without copying. */
export function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function note(f: Frame, layer: string, offset: number, issue: DecodeIssue): void {
  const n = { layer, offset, message: issue.message };
  if (issue.truncated) f.truncated ??= n;
  else f.error ??= n;
}

/**
 * Decode an Ethernet frame. The tree's Buffers are views of `input`.
 * Never throws for any input; reads only input[0, input.length).
 */
export function decodeFrame(input: Uint8Array): Frame {
  const buf = asBuffer(input);
  let end = buf.length;
  const f: Frame = {
    length: buf.length,
    eth: null,
    mpls: null,
    l3: null,
    l4: null,
    payloadOffset: 0,
    payload: buf,
    trailer: buf.subarray(end),
    truncated: null,
    error: null,
  };
  // Shrinks `end` to a declared length; notes a capture shorter than it.
  const bound = (layer: string, offset: number, declaredEnd: number): void => {
    if (declaredEnd < end) end = declaredEnd;
    else if (declaredEnd > end) note(f, layer, offset, { kind: 'issue', truncated: true, message: `${layer} declares ${declaredEnd - offset} bytes, ${end - offset} captured` });
  };
  const finish = (off: number): Frame => {
    f.payloadOffset = Math.min(off, end);
    f.payload = buf.subarray(f.payloadOffset, end);
    f.trailer = buf.subarray(end);
    return f;
  };

  const eth = decodeEthernet(buf, 0, end);
  if (eth.kind === 'issue') {
    note(f, 'eth', 0, eth);
    return finish(0);
  }
  f.eth = eth;
  let off = eth.headerBytes;
  if (eth.type < ETH_TYPE_MIN) {
    const typeEnd = 12 + 4 * eth.vlans.length + 2;
    bound('eth', 0, typeEnd + eth.type); // decodeEthernet read the LLC header only inside this length
  }
  let type = ethernetPayloadType(eth);

  if (type === ETH_TYPE_MPLS || type === ETH_TYPE_MPLS_MCAST) {
    const m = decodeMpls(buf, off, end);
    if (m.kind === 'issue') {
      note(f, 'mpls', off, m);
      return finish(off);
    }
    f.mpls = m;
    off += 4 * m.labels.length;
    // RFC 3032 says nothing about the payload type; guess IP by its version nibble, as tools do.
    if (end - off < 1) return finish(off);
    const v = buf.readUInt8(off) >> 4;
    if (v === 4) type = ETH_TYPE_IPV4;
    else if (v === 6) type = ETH_TYPE_IPV6;
    else return finish(off);
  }

  let proto = -1;
  switch (type) {
    case ETH_TYPE_IPV4: {
      const h = decodeIpv4(buf, off, end);
      if (h.kind === 'issue') {
        note(f, 'ipv4', off, h);
        return finish(off);
      }
      f.l3 = h;
      bound('ipv4', off, off + h.totalLength);
      off += h.headerBytes;
      if (h.fragOffset !== 0) return finish(off); // later fragment: no L4 header here
      proto = h.protocol;
      break;
    }
    case ETH_TYPE_IPV6: {
      if (end - off >= IPV6_HEADER_BYTES) {
        const pl = buf.readUInt16BE(off + 4);
        // RFC 2675: payload length 0 with hop-by-hop is a jumbogram; its length is in an option.
        if (pl !== 0 || buf.readUInt8(off + 6) !== IPPROTO_HOPOPTS) bound('ipv6', off, off + IPV6_HEADER_BYTES + pl);
      }
      const h = decodeIpv6(buf, off, end);
      if (h.kind === 'issue') {
        note(f, 'ipv6', off, h);
        return finish(off);
      }
      f.l3 = h;
      off = h.payloadOffset;
      const frag = ipv6Fragment(h);
      if (frag && frag.fragOffset !== 0) return finish(off); // later fragment (RFC 8200 4.5)
      proto = h.protocol;
      break;
    }
    case ETH_TYPE_ARP: {
      const h = decodeArp(buf, off, end);
      if (h.kind === 'issue') {
        note(f, 'arp', off, h);
        return finish(off);
      }
      f.l3 = h;
      off += ARP_BYTES;
      end = off; // RFC 826 has no length field: anything after the packet is padding
      return finish(off);
    }
    case ETH_TYPE_SLOW:
    case ETH_TYPE_CFM: {
      const h = type === ETH_TYPE_SLOW ? decodeSlow(buf, off, end) : decodeCfm(buf, off, end);
      if (h.kind === 'issue') {
        note(f, type === ETH_TYPE_SLOW ? 'slow' : 'cfm', off, h);
        return finish(off);
      }
      f.l3 = h;
      return finish(off + (type === ETH_TYPE_SLOW ? 1 : 4));
    }
    default:
      return finish(off);
  }

  let l4: L4Header | DecodeIssue | null = null;
  let l4Len = 0;
  let layer = '';
  switch (proto) {
    case IPPROTO_TCP:
      layer = 'tcp';
      l4 = decodeTcp(buf, off, end);
      if (l4.kind === 'tcp') l4Len = l4.dataOffset * 4;
      break;
    case IPPROTO_UDP:
      layer = 'udp';
      l4 = decodeUdp(buf, off, end);
      l4Len = UDP_HEADER_BYTES;
      break;
    case IPPROTO_SCTP:
      layer = 'sctp';
      l4 = decodeSctp(buf, off, end);
      l4Len = SCTP_HEADER_BYTES;
      break;
    case IPPROTO_ICMP:
      layer = 'icmp';
      l4 = f.l3?.kind === 'ipv4' ? decodeIcmp(buf, off, end) : null;
      l4Len = ICMP_HEADER_BYTES;
      break;
    case IPPROTO_ICMPV6:
      layer = 'icmpv6';
      l4 = f.l3?.kind === 'ipv6' ? decodeIcmpv6(buf, off, end) : null;
      if (l4?.kind === 'icmpv6') {
        l4Len = ICMPV6_HEADER_BYTES;
        if (l4.note) note(f, 'icmpv6', off, l4.note);
        else if (l4.body) l4Len = l4.body.kind === 'echo' ? 8 : end - off; // ND options run to the end
      }
      break;
  }
  if (l4 === null) return finish(off);
  if (l4.kind === 'issue') {
    note(f, layer, off, l4);
    return finish(off);
  }
  f.l4 = l4;
  return finish(off + l4Len);
}

/**
 * Bytes of a decoded Frame: each header from its fields (stored lengths and
 * checksums as they are), then payload and trailer, in one allocation.
 */
export function encodeFrame(f: Frame): Buffer {
  const parts: Uint8Array[] = [];
  if (f.eth) parts.push(buildEthernet(f.eth));
  if (f.mpls) parts.push(buildMpls({ labels: f.mpls.labels }));
  const l3 = f.l3;
  if (l3) {
    switch (l3.kind) {
      case 'ipv4':
        parts.push(buildIpv4(l3));
        break;
      case 'ipv6':
        parts.push(buildIpv6({ ...l3, extHeaders: l3.extHeaders as Ipv6ExtSpec[] }));
        break;
      case 'arp':
        parts.push(buildArp(l3));
        break;
      case 'slow':
        parts.push(buildSlow(l3));
        break;
      case 'cfm':
        parts.push(buildCfm(l3));
        break;
    }
  }
  const l4 = f.l4;
  if (l4) {
    switch (l4.kind) {
      case 'tcp':
        parts.push(buildTcp(l4));
        break;
      case 'udp':
        parts.push(buildUdp(l4));
        break;
      case 'sctp':
        parts.push(buildSctp(l4));
        break;
      case 'icmp':
        parts.push(buildIcmp(l4));
        break;
      case 'icmpv6':
        parts.push(buildIcmpv6(l4));
        break;
    }
  }
  parts.push(f.payload, f.trailer);
  return Buffer.concat(parts);
}
