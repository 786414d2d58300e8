// ofproto/trace's flow lines in OVS syntax: "Flow:" / "Final flow:" as
// flow_format() prints a packet's fields, "Megaflow:" as match_format()
// prints a flow plus wildcards. Both work on the OF flow layout
// (classifier/of-match.ts), field order as lib/match.c's match_format().

import * as K from '../../datapath/flow/key.js';
import { formatIp4, formatIp6, formatMac } from '../../datapath/flow/odp.js';
import { OF_WORDS, W_OF_IN_PORT, W_OF_METADATA_HI, W_OF_METADATA_LO } from '../classifier/of-match.js';
import { formatPort } from '../openflow/text/index.js';

const ONES = 0xffffffff;
const TCP_FLAG_NAMES = ['fin', 'syn', 'rst', 'psh', 'ack', 'urg', 'ece', 'cwr', 'ns'];

/** The mask flow_format() shows for a packet (flow_wildcards_init_for_packet, zero metadata left out). */
export function packetMask(flow: Uint32Array): Uint32Array {
  const m = new Uint32Array(OF_WORDS);
  m[W_OF_IN_PORT] = ONES;
  if (flow[W_OF_METADATA_HI] !== 0 || flow[W_OF_METADATA_LO] !== 0) m[W_OF_METADATA_HI] = m[W_OF_METADATA_LO] = ONES;
  m[K.W_ETH_DST_HI] = m[K.W_ETH_SRC_HI] = 0xffff;
  m[K.W_ETH_DST_LO] = m[K.W_ETH_SRC_LO] = ONES;
  m[K.W_ETH_TYPE] = 0xffff;
  m[K.W_VLAN0] = 0xffff;
  if ((flow[K.W_VLAN0]! & K.VLAN_CFI) !== 0) m[K.W_VLAN1] = 0xffff;
  const type = flow[K.W_ETH_TYPE]! & 0xffff;
  const proto = flow[K.W_NW_PROTO_TOS_TTL_FRAG]! >>> 24;
  if (type === K.ETH_TYPE_IPV4 || type === K.ETH_TYPE_IPV6) {
    const n = type === K.ETH_TYPE_IPV6 ? 4 : 1;
    for (let i = 0; i < n; i++) m[K.W_NW_SRC + i] = m[K.W_NW_DST + i] = ONES;
    if (n === 4) m[K.W_IPV6_LABEL] = 0xfffff;
    m[K.W_NW_PROTO_TOS_TTL_FRAG] = ONES;
    const frag = flow[K.W_NW_PROTO_TOS_TTL_FRAG]! & K.FRAG_LATER;
    if (frag === 0 && (proto === K.IPPROTO_TCP || proto === K.IPPROTO_UDP || proto === K.IPPROTO_SCTP || proto === K.IPPROTO_ICMP || proto === K.IPPROTO_ICMPV6)) {
      m[K.W_TP_PORTS] = ONES;
      if (proto === K.IPPROTO_TCP) m[K.W_TCP_FLAGS] = 0xfff;
      if (proto === K.IPPROTO_ICMPV6) {
        const icmpType = (flow[K.W_TP_PORTS]! >>> 16) & 0xff;
        if (icmpType === 135 || icmpType === 136) {
          for (let i = 0; i < 4; i++) m[K.W_ND_TARGET + i] = ONES;
          m[K.W_ARP_SHA_HI] = m[K.W_ARP_THA_HI] = 0xffff;
          m[K.W_ARP_SHA_LO] = m[K.W_ARP_THA_LO] = ONES;
        }
      }
    }
  } else if (type === K.ETH_TYPE_ARP || type === 0x8035) {
    m[K.W_NW_SRC] = m[K.W_NW_DST] = ONES;
    m[K.W_NW_PROTO_TOS_TTL_FRAG] = K.MASK_NW_PROTO;
    m[K.W_ARP_SHA_HI] = m[K.W_ARP_THA_HI] = 0xffff;
    m[K.W_ARP_SHA_LO] = m[K.W_ARP_THA_LO] = ONES;
  } else if (type === K.ETH_TYPE_MPLS || type === K.ETH_TYPE_MPLS_MCAST) {
    m[K.W_MPLS0] = ONES;
  }
  return m;
}

/** flow_format(): every field a packet of this kind has, as ofproto/trace's "Flow:" line shows it. */
export function formatTraceFlow(flow: Uint32Array): string {
  return formatTraceMatch(flow, packetMask(flow), false);
}

/**
 * match_format() of `flow` under `mask` (both in the OF flow layout). A
 * megaflow (datapath flows always match recirc_id and the Ethernet packet
 * type) starts "recirc_id=0,eth,".
 */
export function formatTraceMatch(flow: Uint32Array, mask: Uint32Array, megaflow: boolean): string {
  const out: string[] = [];
  const w = (i: number): number => (flow[i]! & mask[i]!) >>> 0;
  if (megaflow) out.push('recirc_id=0', 'eth');
  const typeMask = mask[K.W_ETH_TYPE]! & 0xffff;
  const type = w(K.W_ETH_TYPE) & 0xffff;
  const protoMasked = ((mask[K.W_NW_PROTO_TOS_TTL_FRAG]! & K.MASK_NW_PROTO) >>> 0) === K.MASK_NW_PROTO;
  const proto = w(K.W_NW_PROTO_TOS_TTL_FRAG) >>> 24;
  let skipType = false;
  let skipProto = false;
  if (typeMask === 0xffff) {
    skipType = true;
    if (type === K.ETH_TYPE_IPV4 || type === K.ETH_TYPE_IPV6) {
      const v6 = type === K.ETH_TYPE_IPV6;
      const names: Record<number, string> = v6 ? { 58: 'icmp6', 6: 'tcp6', 17: 'udp6', 132: 'sctp6' } : { 1: 'icmp', 6: 'tcp', 17: 'udp', 132: 'sctp' };
      if (protoMasked && names[proto] !== undefined) {
        skipProto = true;
        out.push(names[proto]!);
      } else out.push(v6 ? 'ipv6' : 'ip');
    } else if (type === K.ETH_TYPE_ARP) out.push('arp');
    else if (type === 0x8035) out.push('rarp');
    else if (type === K.ETH_TYPE_MPLS) out.push('mpls');
    else if (type === K.ETH_TYPE_MPLS_MCAST) out.push('mplsm');
    else skipType = false;
  }
  if (mask[W_OF_METADATA_HI] !== 0 || mask[W_OF_METADATA_LO] !== 0) {
    const v = (BigInt(w(W_OF_METADATA_HI)) << 32n) | BigInt(w(W_OF_METADATA_LO));
    const m = (BigInt(mask[W_OF_METADATA_HI]!) << 32n) | BigInt(mask[W_OF_METADATA_LO]!);
    const hx = (x: bigint): string => (x === 0n ? '0' : `0x${x.toString(16)}`);
    out.push(m === 0xffffffffffffffffn ? `metadata=${hx(v)}` : `metadata=${hx(v)}/${hx(m)}`);
  }
  if (mask[W_OF_IN_PORT] !== 0) out.push(`in_port=${formatPort(w(W_OF_IN_PORT))}`);
  for (const [i, word] of [K.W_VLAN0, K.W_VLAN1].entries()) {
    const tm = mask[word]! & 0xffff;
    if (tm === 0) continue;
    const tci = w(word) & 0xffff;
    const sfx = i === 0 ? '' : String(i);
    const vid = tm & 0x0fff;
    const pcp = tm & 0xe000;
    if (tm & K.VLAN_CFI && tci & K.VLAN_CFI && (vid === 0 || vid === 0x0fff) && (pcp === 0 || pcp === 0xe000) && (vid | pcp) !== 0) {
      if (vid) out.push(`dl_vlan${sfx}=${tci & 0xfff}`);
      if (pcp) out.push(`dl_vlan_pcp${sfx}=${tci >>> 13}`);
    } else if (tm === 0xffff) out.push(`vlan_tci${sfx}=0x${hex4(tci)}`);
    else out.push(`vlan_tci${sfx}=0x${hex4(tci)}/0x${hex4(tm)}`);
  }
  macField(out, 'dl_src', flow, mask, K.W_ETH_SRC_HI);
  macField(out, 'dl_dst', flow, mask, K.W_ETH_DST_HI);
  if (!skipType && typeMask !== 0) out.push(typeMask === 0xffff ? `dl_type=0x${hex4(type)}` : `dl_type=0x${hex4(type)}/0x${hex4(typeMask)}`);
  const arp = type === K.ETH_TYPE_ARP || type === 0x8035;
  const v6 = type === K.ETH_TYPE_IPV6;
  if (v6) {
    ip6Field(out, 'ipv6_src', flow, mask, K.W_NW_SRC);
    ip6Field(out, 'ipv6_dst', flow, mask, K.W_NW_DST);
    const lm = mask[K.W_IPV6_LABEL]! & 0xfffff;
    if (lm !== 0) out.push(lm === 0xfffff ? `ipv6_label=0x${hex(w(K.W_IPV6_LABEL), 5)}` : `ipv6_label=0x${hex(w(K.W_IPV6_LABEL), 5)}/0x${hex(lm, 5)}`);
  } else {
    ip4Field(out, arp ? 'arp_spa' : 'nw_src', flow, mask, K.W_NW_SRC);
    ip4Field(out, arp ? 'arp_tpa' : 'nw_dst', flow, mask, K.W_NW_DST);
  }
  if (!skipProto && protoMasked) out.push(arp ? `arp_op=${proto}` : `nw_proto=${proto}`);
  if (arp) {
    macField(out, 'arp_sha', flow, mask, K.W_ARP_SHA_HI);
    macField(out, 'arp_tha', flow, mask, K.W_ARP_THA_HI);
  }
  const ptf = w(K.W_NW_PROTO_TOS_TTL_FRAG);
  const ptfMask = mask[K.W_NW_PROTO_TOS_TTL_FRAG]!;
  if (!arp) {
    if (ptfMask & 0x00fc0000) out.push(`nw_tos=${(ptf >>> 16) & 0xfc}`);
    if (ptfMask & 0x00030000) out.push(`nw_ecn=${(ptf >>> 16) & 0x03}`);
    if (ptfMask & K.MASK_NW_TTL) out.push(`nw_ttl=${(ptf >>> 8) & 0xff}`);
  }
  const lm = mask[K.W_MPLS0]!;
  const lse = w(K.W_MPLS0);
  if (lm & 0xfffff000) out.push(`mpls_label=${lse >>> 12}`);
  if (lm & 0xe00) out.push(`mpls_tc=${(lse >>> 9) & 7}`);
  if (lm & 0xff) out.push(`mpls_ttl=${lse & 0xff}`);
  if (lm & 0x100) out.push(`mpls_bos=${(lse >>> 8) & 1}`);
  const fm = ptfMask & 3;
  if (fm !== 0 && !arp) {
    const f = ptf & 3;
    if (fm === 3) out.push(`nw_frag=${f === 0 ? 'no' : f === 1 ? 'first' : 'later'}`);
    else if (fm === 1) out.push(`nw_frag=${f === 0 ? 'no' : 'yes'}`);
    else out.push(`nw_frag=${f === 0 ? 'not_later' : 'later'}`);
  }
  const tpMask = mask[K.W_TP_PORTS]!;
  const tp = w(K.W_TP_PORTS);
  const icmp = (type === K.ETH_TYPE_IPV4 && proto === K.IPPROTO_ICMP) || (v6 && proto === K.IPPROTO_ICMPV6);
  if (icmp) {
    if (tpMask & 0x00ff0000) out.push(`icmp_type=${(tp >>> 16) & 0xff}`);
    if (tpMask & 0xff) out.push(`icmp_code=${tp & 0xff}`);
    if (v6) {
      ip6Field(out, 'nd_target', flow, mask, K.W_ND_TARGET);
      macField(out, 'nd_sll', flow, mask, K.W_ARP_SHA_HI);
      macField(out, 'nd_tll', flow, mask, K.W_ARP_THA_HI);
    }
  } else {
    port16(out, 'tp_src', tp >>> 16, tpMask >>> 16);
    port16(out, 'tp_dst', tp & 0xffff, tpMask & 0xffff);
  }
  const tfm = mask[K.W_TCP_FLAGS]! & 0xfff;
  if (tfm !== 0) {
    const tf = w(K.W_TCP_FLAGS) & 0xfff;
    if (tfm === 0xfff) out.push(`tcp_flags=${tf === 0 ? '0' : TCP_FLAG_NAMES.filter((_, b) => tf & (1 << b)).join('|')}`);
    else out.push(`tcp_flags=${TCP_FLAG_NAMES.filter((_, b) => tfm & (1 << b)).map((n) => `${tf & (1 << TCP_FLAG_NAMES.indexOf(n)) ? '+' : '-'}${n}`).join('')}`);
  }
  return out.join(',');
}

function hex(n: number, width: number): string {
  return (n >>> 0).toString(16).padStart(width, '0');
}

function hex4(n: number): string {
  return hex(n, 4);
}

function macField(out: string[], name: string, flow: Uint32Array, mask: Uint32Array, hi: number): void {
  const mh = mask[hi]! & 0xffff;
  const ml = mask[hi + 1]!;
  if (mh === 0 && ml === 0) return;
  const v = formatMac(flow[hi]! & mh, (flow[hi + 1]! & ml) >>> 0);
  out.push(mh === 0xffff && ml === ONES ? `${name}=${v}` : `${name}=${v}/${formatMac(mh, ml)}`);
}

function ip4Field(out: string[], name: string, flow: Uint32Array, mask: Uint32Array, word: number): void {
  const m = mask[word]!;
  if (m === 0) return;
  const v = formatIp4((flow[word]! & m) >>> 0);
  if (m === ONES) out.push(`${name}=${v}`);
  else {
    const len = Math.clz32(~m);
    out.push((m >>> 0) === (len === 0 ? 0 : (ONES << (32 - len)) >>> 0) ? `${name}=${v}/${len}` : `${name}=${v}/${formatIp4(m)}`);
  }
}

function ip6Field(out: string[], name: string, flow: Uint32Array, mask: Uint32Array, at: number): void {
  let any = false;
  let full = true;
  const v = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    const m = mask[at + i]!;
    if (m !== 0) any = true;
    if (m !== ONES) full = false;
    v[i] = (flow[at + i]! & m) >>> 0;
  }
  if (!any) return;
  out.push(full ? `${name}=${formatIp6(v)}` : `${name}=${formatIp6(v)}/${formatIp6(mask.subarray(at, at + 4))}`);
}

function port16(out: string[], name: string, v: number, m: number): void {
  if (m === 0) return;
  out.push(m === 0xffff ? `${name}=${v & m}` : `${name}=0x${hex4(v & m)}/0x${hex4(m)}`);
}
