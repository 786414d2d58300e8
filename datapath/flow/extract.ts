// Flow key extraction: the first step of every frame's trip through the
// datapath. Reads the frame's bytes once, directly (no header objects), and
// fills a reused key and layout. Follows Open vSwitch's miniflow_extract()
// semantics: a header that is truncated or fails its sanity check leaves its
// fields (and everything after it) zero; nothing here throws or reads past
// off+len.

import {
  ETH_TYPE_ARP,
  ETH_TYPE_IPV4,
  ETH_TYPE_IPV6,
  ETH_TYPE_MPLS,
  ETH_TYPE_MPLS_MCAST,
  ETH_TYPE_PBB,
  ETH_TYPE_NONE,
  ETH_TYPE_QINQ,
  ETH_TYPE_VLAN,
  FRAG_ANY,
  FRAG_LATER,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  L_ETH_TYPE,
  L_L2,
  L_L2_5,
  L_L3,
  L_L4,
  L_L7,
  L_LEN,
  L_VLANS,
  L_WORDS_HI,
  L_WORDS_LO,
  VLAN_CFI,
  W_ARP_SHA_HI,
  W_ARP_SHA_LO,
  W_ARP_THA_HI,
  W_ARP_THA_LO,
  W_ETH_DST_HI,
  W_ETH_DST_LO,
  W_ETH_SRC_HI,
  W_ETH_SRC_LO,
  W_ETH_TYPE,
  W_IN_PORT,
  W_IPV6_LABEL,
  W_MPLS0,
  W_PBB_ITAG,
  W_ND_TARGET,
  W_NW_DST,
  W_NW_PROTO_TOS_TTL_FRAG,
  W_NW_SRC,
  W_TCP_FLAGS,
  W_TP_PORTS,
  W_VLAN0,
  SHIFT_IPV6_EXTHDR,
} from './key.js';

// IPv6 extension headers walked to find the upper-layer protocol (RFC 8200 4.1).
const IPV6_HOPOPTS = 0;
const IPV6_ROUTING = 43;
const IPV6_FRAGMENT = 44;
const IPV6_AH = 51;
const IPV6_DSTOPTS = 60;
const IPV6_ESP = 50;
const IPV6_NONEXT = 59;
// OFPIEH_* (OpenFlow 1.3 7.2.3.8)
const EXTHDR_NOEXT = 1 << 0;
const EXTHDR_ESP = 1 << 1;
const EXTHDR_AUTH = 1 << 2;
const EXTHDR_DEST = 1 << 3;
const EXTHDR_FRAG = 1 << 4;
const EXTHDR_ROUTER = 1 << 5;
const EXTHDR_HOP = 1 << 6;
const EXTHDR_UNREP = 1 << 7;
const EXTHDR_UNSEQ = 1 << 8;
/** More trailing bytes than this after an IP packet make OVS reject the header. */
const MAX_L2_PADDING = 255;

const ND_NEIGHBOR_SOLICIT = 135;
const ND_NEIGHBOR_ADVERT = 136;
const ND_OPT_SOURCE_LINKADDR = 1;
const ND_OPT_TARGET_LINKADDR = 2;

/**
 * Extract the flow key of the frame buf[off, off+len) received on inPort.
 * Writes every word of key (metadata words other than in_port are zeroed;
 * callers set recirc_id etc. afterwards) and fills layout with header offsets
 * relative to off (-1 where absent). Returns the L3 payload end, i.e. the
 * length of the frame without Ethernet padding after an IP packet.
 */
export function extractFlow(
  buf: Uint8Array,
  off: number,
  len: number,
  inPort: number,
  key: Uint32Array,
  layout: Int32Array,
): number {
  wLo = META_BITS;
  wHi = 0;
  const r = extract(buf, off, len, inPort, key, layout);
  // Zero the words the previous frame set and this one did not write.
  let stale = layout[L_WORDS_LO] & ~wLo;
  while (stale !== 0) {
    key[31 - Math.clz32(stale & -stale)] = 0;
    stale &= stale - 1;
  }
  stale = layout[L_WORDS_HI] & ~wHi;
  while (stale !== 0) {
    key[63 - Math.clz32(stale & -stale)] = 0;
    stale &= stale - 1;
  }
  layout[L_WORDS_LO] = wLo;
  layout[L_WORDS_HI] = wHi;
  return r;
}

// Words written by the extraction in progress (bit i of wLo = key word i,
// bit i of wHi = word 32+i). Module state: extraction is synchronous.
let wLo = 0;
let wHi = 0;
const bit = (w: number) => (w < 32 ? 1 << w : 0);
const bits = (...ws: number[]) => ws.reduce((m, w) => m | bit(w), 0);
const META_BITS = bits(0, 1, 2, 3);
const L2_BITS = bits(W_ETH_DST_HI, W_ETH_DST_LO, W_ETH_SRC_HI, W_ETH_SRC_LO, W_ETH_TYPE, W_VLAN0, W_VLAN0 + 1);
const MPLS_BITS = bits(W_MPLS0, W_MPLS0 + 1, W_MPLS0 + 2);
const IPV4_BITS = bits(W_NW_SRC, W_NW_DST, W_NW_PROTO_TOS_TTL_FRAG);
const IPV6_BITS =
  bits(W_NW_SRC, W_NW_SRC + 1, W_NW_SRC + 2, W_NW_SRC + 3, W_NW_DST, W_NW_DST + 1, W_NW_DST + 2, W_NW_DST + 3) |
  bits(W_NW_PROTO_TOS_TTL_FRAG, W_IPV6_LABEL);
const ARP_BITS = bits(W_NW_SRC, W_NW_DST, W_NW_PROTO_TOS_TTL_FRAG, W_ARP_SHA_HI, W_ARP_SHA_LO, W_ARP_THA_HI, W_ARP_THA_LO);
const TP_BITS = bits(W_TP_PORTS);
const TCP_BITS = bits(W_TP_PORTS, W_TCP_FLAGS);
const ND_BITS_LO = bits(W_ARP_SHA_HI, W_ARP_SHA_LO, W_ARP_THA_HI, W_ARP_THA_LO, W_ND_TARGET, W_ND_TARGET + 1);
const ND_BITS_HI = (1 << (W_ND_TARGET + 2 - 32)) | (1 << (W_ND_TARGET + 3 - 32));

function extract(
  buf: Uint8Array,
  off: number,
  len: number,
  inPort: number,
  key: Uint32Array,
  layout: Int32Array,
): number {
  key[W_IN_PORT] = inPort;
  key[1] = 0;
  key[2] = 0;
  key[3] = 0;
  layout[L_L2] = 0;
  layout[L_L2_5] = -1;
  layout[L_L3] = -1;
  layout[L_L4] = -1;
  layout[L_L7] = -1;
  layout[L_ETH_TYPE] = -1;
  layout[L_VLANS] = 0;
  layout[L_LEN] = len;
  if (len < 14 || off < 0 || off + len > buf.length) return len;

  const b = buf;
  const end = off + len;
  wLo |= L2_BITS;
  key[W_VLAN0] = 0;
  key[W_VLAN0 + 1] = 0;
  key[W_ETH_DST_HI] = (b[off] << 8) | b[off + 1];
  key[W_ETH_DST_LO] = (b[off + 2] << 24) | (b[off + 3] << 16) | (b[off + 4] << 8) | b[off + 5];
  key[W_ETH_SRC_HI] = (b[off + 6] << 8) | b[off + 7];
  key[W_ETH_SRC_LO] = (b[off + 8] << 24) | (b[off + 9] << 16) | (b[off + 10] << 8) | b[off + 11];

  // VLAN tags: up to two (802.1ad outer + 802.1Q inner); a third tag is left
  // as the ethertype, like OVS with its default vlan-limit.
  let p = off + 12;
  let type = (b[p] << 8) | b[p + 1];
  let vlans = 0;
  while ((type === ETH_TYPE_VLAN || type === ETH_TYPE_QINQ) && vlans < 2) {
    if (p + 6 > end) break; // tag cut short: stop at the TPID, as OVS does
    const tci = (b[p + 2] << 8) | b[p + 3];
    key[W_VLAN0 + vlans] = (type << 16) | tci | VLAN_CFI;
    vlans++;
    p += 4;
    type = (b[p] << 8) | b[p + 1];
  }
  layout[L_VLANS] = vlans;
  layout[L_ETH_TYPE] = p - off;
  p += 2;

  if (type < 0x600) {
    // 802.3 length field: look for LLC/SNAP with OUI 0 carrying an ethertype.
    if (
      p + 8 <= end &&
      b[p] === 0xaa &&
      b[p + 1] === 0xaa &&
      b[p + 2] === 0x03 &&
      b[p + 3] === 0 &&
      b[p + 4] === 0 &&
      b[p + 5] === 0
    ) {
      type = (b[p + 6] << 8) | b[p + 7];
      p += 8;
    } else {
      key[W_ETH_TYPE] = ETH_TYPE_NONE;
      return len;
    }
  }
  key[W_ETH_TYPE] = type;

  if (type === ETH_TYPE_IPV4) return extractIpv4(b, off, p, end, key, layout);
  if (type === ETH_TYPE_IPV6) return extractIpv6(b, off, p, end, key, layout);
  if (type === ETH_TYPE_ARP) {
    extractArp(b, off, p, end, key, layout);
    return len;
  }
  if (type === ETH_TYPE_PBB) {
    // 802.1ah I-TAG (PCP/DEI/UCA/reserved/I-SID); the customer frame behind it is not parsed.
    wLo |= MPLS_BITS;
    key[W_PBB_ITAG] = p + 4 <= end ? (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3] : 0;
    key[W_MPLS0 + 1] = 0;
    key[W_MPLS0 + 2] = 0;
    return len;
  }
  if (type === ETH_TYPE_MPLS || type === ETH_TYPE_MPLS_MCAST) {
    // Up to three label stack entries, stopping at bottom of stack (RFC 3032).
    layout[L_L2_5] = p - off;
    wLo |= MPLS_BITS;
    key[W_MPLS0] = 0;
    key[W_MPLS0 + 1] = 0;
    key[W_MPLS0 + 2] = 0;
    for (let i = 0; i < 3 && p + 4 <= end; i++) {
      const lse = (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
      key[W_MPLS0 + i] = lse;
      p += 4;
      if (lse & 0x100) break;
    }
  }
  return len;
}

function extractIpv4(b: Uint8Array, off: number, p: number, end: number, key: Uint32Array, layout: Int32Array): number {
  // Sanity checks as OVS's ipv4_sanity_check (RFC 791 3.1). Like OVS, the
  // version nibble is not checked: the ethertype already said IPv4.
  if (p + 20 > end) return end - off;
  const ihl = (b[p] & 0x0f) * 4;
  if (ihl < 20 || p + ihl > end) return end - off;
  const totLen = (b[p + 2] << 8) | b[p + 3];
  if (totLen < ihl || p + totLen > end || end - (p + totLen) > MAX_L2_PADDING) return end - off;

  layout[L_L3] = p - off;
  wLo |= IPV4_BITS;
  key[W_NW_SRC] = (b[p + 12] << 24) | (b[p + 13] << 16) | (b[p + 14] << 8) | b[p + 15];
  key[W_NW_DST] = (b[p + 16] << 24) | (b[p + 17] << 16) | (b[p + 18] << 8) | b[p + 19];
  const proto = b[p + 9];
  const fragField = (b[p + 6] << 8) | b[p + 7];
  let frag = 0;
  if (fragField & 0x3fff) {
    frag = FRAG_ANY;
    if (fragField & 0x1fff) frag |= FRAG_LATER;
  }
  key[W_NW_PROTO_TOS_TTL_FRAG] = (proto << 24) | (b[p + 1] << 16) | (b[p + 8] << 8) | frag;
  const l3End = p + totLen;
  if (!(frag & FRAG_LATER)) extractL4(b, off, p + ihl, l3End, proto, key, layout);
  return l3End - off;
}

function extractIpv6(b: Uint8Array, off: number, p: number, end: number, key: Uint32Array, layout: Int32Array): number {
  if (p + 40 > end) return end - off;
  const w0 = (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
  const payloadLen = (b[p + 4] << 8) | b[p + 5];
  const l3End = p + 40 + payloadLen;
  if (l3End > end || end - l3End > MAX_L2_PADDING) return end - off;

  layout[L_L3] = p - off;
  wLo |= IPV6_BITS;
  key[W_NW_PROTO_TOS_TTL_FRAG] = 0; // written again unless an extension header is malformed
  for (let i = 0; i < 4; i++) {
    const s = p + 8 + i * 4;
    key[W_NW_SRC + i] = (b[s] << 24) | (b[s + 1] << 16) | (b[s + 2] << 8) | b[s + 3];
    const d = s + 16;
    key[W_NW_DST + i] = (b[d] << 24) | (b[d + 1] << 16) | (b[d + 2] << 8) | b[d + 3];
  }
  key[W_IPV6_LABEL] = w0 & 0xfffff;
  const tclass = (w0 >>> 20) & 0xff;
  const hlimit = b[p + 7];
  let next = b[p + 6];
  let q = p + 40;
  let frag = 0;
  // OpenFlow's IPV6_EXTHDR flags (1.3 7.2.3.8) and the RFC 8200 4.1 order
  // rank of the last header seen, for UNSEQ/UNREP.
  let ext = 0;
  let rank = 0;
  // Walk extension headers (RFC 8200 4.3-4.6; AH is RFC 4302, length in
  // 4-byte units). Each one advances at least 8 bytes, so the walk is bounded
  // by the payload. A malformed one leaves proto/tos/ttl/frag zero, as in OVS.
  for (;;) {
    if (next === IPV6_HOPOPTS || next === IPV6_ROUTING || next === IPV6_DSTOPTS || next === IPV6_AH) {
      if (q + 8 > l3End) return l3End - off;
      const hlen = next === IPV6_AH ? (b[q + 1] + 2) * 4 : (b[q + 1] + 1) * 8;
      if (q + hlen > l3End) return l3End - off;
      if (next === IPV6_HOPOPTS) {
        ext |= (ext & EXTHDR_HOP) !== 0 ? EXTHDR_UNREP : 0;
        ext |= rank > 0 ? EXTHDR_UNSEQ : 0; // only directly after the IPv6 header
        ext |= EXTHDR_HOP;
        rank = 1;
      } else if (next === IPV6_DSTOPTS) {
        // Allowed twice: before routing, and before the upper layer (last).
        const r = rank < 2 ? 2 : 6;
        if (rank === 6) ext |= EXTHDR_UNREP;
        ext |= EXTHDR_DEST;
        rank = r;
      } else {
        const flag = next === IPV6_ROUTING ? EXTHDR_ROUTER : EXTHDR_AUTH;
        const r = next === IPV6_ROUTING ? 3 : 5;
        if ((ext & flag) !== 0) ext |= EXTHDR_UNREP;
        else if (rank > r) ext |= EXTHDR_UNSEQ;
        ext |= flag;
        rank = r;
      }
      next = b[q];
      q += hlen;
    } else if (next === IPV6_FRAGMENT) {
      if (q + 8 > l3End) return l3End - off;
      if ((ext & EXTHDR_FRAG) !== 0) ext |= EXTHDR_UNREP;
      else if (rank > 4) ext |= EXTHDR_UNSEQ;
      ext |= EXTHDR_FRAG;
      rank = 4;
      const fragField = (b[q + 2] << 8) | b[q + 3];
      frag = FRAG_ANY;
      if (fragField & 0xfff8) {
        // A later fragment has no upper-layer header; OVS reports the
        // fragment header itself as nw_proto.
        frag |= FRAG_LATER;
        break;
      }
      next = b[q];
      q += 8;
    } else {
      if (next === IPV6_ESP) ext |= EXTHDR_ESP;
      else if (next === IPV6_NONEXT) ext |= EXTHDR_NOEXT;
      break;
    }
  }
  key[W_IPV6_LABEL] = (w0 & 0xfffff) | (ext << SHIFT_IPV6_EXTHDR);
  key[W_NW_PROTO_TOS_TTL_FRAG] = ((next & 0xff) << 24) | (tclass << 16) | (hlimit << 8) | frag;
  if (!(frag & FRAG_LATER)) extractL4(b, off, q, l3End, next, key, layout);
  return l3End - off;
}

function extractArp(b: Uint8Array, off: number, p: number, end: number, key: Uint32Array, layout: Int32Array): void {
  // Ethernet/IPv4 ARP only (RFC 826): htype 1, ptype 0x0800, hlen 6, plen 4.
  if (p + 28 > end) return;
  if (b[p] !== 0 || b[p + 1] !== 1 || b[p + 2] !== 0x08 || b[p + 3] !== 0 || b[p + 4] !== 6 || b[p + 5] !== 4) return;
  layout[L_L3] = p - off;
  wLo |= ARP_BITS;
  const op = (b[p + 6] << 8) | b[p + 7];
  // OVS keeps the opcode in nw_proto only when it fits in 8 bits.
  key[W_NW_PROTO_TOS_TTL_FRAG] = (op <= 0xff ? op : 0) << 24;
  key[W_ARP_SHA_HI] = (b[p + 8] << 8) | b[p + 9];
  key[W_ARP_SHA_LO] = (b[p + 10] << 24) | (b[p + 11] << 16) | (b[p + 12] << 8) | b[p + 13];
  key[W_NW_SRC] = (b[p + 14] << 24) | (b[p + 15] << 16) | (b[p + 16] << 8) | b[p + 17];
  key[W_ARP_THA_HI] = (b[p + 18] << 8) | b[p + 19];
  key[W_ARP_THA_LO] = (b[p + 20] << 24) | (b[p + 21] << 16) | (b[p + 22] << 8) | b[p + 23];
  key[W_NW_DST] = (b[p + 24] << 24) | (b[p + 25] << 16) | (b[p + 26] << 8) | b[p + 27];
}

function extractL4(
  b: Uint8Array,
  off: number,
  q: number,
  l3End: number,
  proto: number,
  key: Uint32Array,
  layout: Int32Array,
): void {
  const avail = l3End - q;
  if (proto === IPPROTO_TCP) {
    if (avail < 20) return;
    const doff = (b[q + 12] >> 4) * 4;
    if (doff < 20 || doff > avail) return;
    layout[L_L4] = q - off;
    layout[L_L7] = q + doff - off;
    wLo |= TCP_BITS;
    key[W_TP_PORTS] = (b[q] << 24) | (b[q + 1] << 16) | (b[q + 2] << 8) | b[q + 3];
    key[W_TCP_FLAGS] = ((b[q + 12] << 8) | b[q + 13]) & 0x0fff;
  } else if (proto === IPPROTO_UDP || proto === IPPROTO_SCTP) {
    // Both start with 16-bit source and destination ports; the headers are 8 and 12 bytes.
    const hlen = proto === IPPROTO_UDP ? 8 : 12;
    if (avail < hlen) return;
    layout[L_L4] = q - off;
    layout[L_L7] = q + hlen - off;
    wLo |= TP_BITS;
    key[W_TP_PORTS] = (b[q] << 24) | (b[q + 1] << 16) | (b[q + 2] << 8) | b[q + 3];
  } else if (proto === IPPROTO_ICMP) {
    if (avail < 8) return;
    layout[L_L4] = q - off;
    layout[L_L7] = q + 8 - off;
    wLo |= TP_BITS;
    key[W_TP_PORTS] = (b[q] << 16) | b[q + 1];
  } else if (proto === IPPROTO_ICMPV6) {
    if (avail < 4) return;
    layout[L_L4] = q - off;
    layout[L_L7] = q + 4 - off;
    const type = b[q];
    const code = b[q + 1];
    wLo |= TP_BITS;
    key[W_TP_PORTS] = (type << 16) | code;
    if ((type === ND_NEIGHBOR_SOLICIT || type === ND_NEIGHBOR_ADVERT) && code === 0) {
      extractNd(b, q, l3End, type, key);
    }
  }
}

/** Neighbour discovery target and link-layer options (RFC 4861 4.3, 4.4, 4.6.1). */
function extractNd(b: Uint8Array, q: number, l3End: number, type: number, key: Uint32Array): void {
  if (q + 24 > l3End) return;
  wLo |= ND_BITS_LO;
  wHi |= ND_BITS_HI;
  key[W_ARP_SHA_HI] = 0;
  key[W_ARP_SHA_LO] = 0;
  key[W_ARP_THA_HI] = 0;
  key[W_ARP_THA_LO] = 0;
  for (let i = 0; i < 4; i++) {
    const t = q + 8 + i * 4;
    key[W_ND_TARGET + i] = (b[t] << 24) | (b[t + 1] << 16) | (b[t + 2] << 8) | b[t + 3];
  }
  let o = q + 24;
  let sawSll = false;
  let sawTll = false;
  while (o + 8 <= l3End) {
    const optType = b[o];
    const optLen = b[o + 1] * 8;
    if (optLen === 0 || o + optLen > l3End) {
      clearNd(key);
      return;
    }
    if (optType === ND_OPT_SOURCE_LINKADDR && optLen === 8 && type === ND_NEIGHBOR_SOLICIT) {
      if (sawSll) {
        clearNd(key);
        return;
      }
      sawSll = true;
      key[W_ARP_SHA_HI] = (b[o + 2] << 8) | b[o + 3];
      key[W_ARP_SHA_LO] = (b[o + 4] << 24) | (b[o + 5] << 16) | (b[o + 6] << 8) | b[o + 7];
    } else if (optType === ND_OPT_TARGET_LINKADDR && optLen === 8 && type === ND_NEIGHBOR_ADVERT) {
      if (sawTll) {
        clearNd(key);
        return;
      }
      sawTll = true;
      key[W_ARP_THA_HI] = (b[o + 2] << 8) | b[o + 3];
      key[W_ARP_THA_LO] = (b[o + 4] << 24) | (b[o + 5] << 16) | (b[o + 6] << 8) | b[o + 7];
    }
    o += optLen;
  }
}

/** A malformed ND option invalidates all ND fields, as in OVS's parse_icmpv6(). */
function clearNd(key: Uint32Array): void {
  key[W_ND_TARGET] = 0;
  key[W_ND_TARGET + 1] = 0;
  key[W_ND_TARGET + 2] = 0;
  key[W_ND_TARGET + 3] = 0;
  key[W_ARP_SHA_HI] = 0;
  key[W_ARP_SHA_LO] = 0;
  key[W_ARP_THA_HI] = 0;
  key[W_ARP_THA_LO] = 0;
}
