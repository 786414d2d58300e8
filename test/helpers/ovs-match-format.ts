// Formats an extracted flow key the way `ovs-ofctl parse-pcap` prints an
// exact-match flow, so tsvs's extraction can be diffed against Open vSwitch's.
import * as K from '../../datapath/flow/key.js';
import { formatIp6 } from '../../datapath/flow/odp.js';

/** IPv6 from four key words, as inet_ntop (and so ovs-ofctl) prints it. */
const ip6 = (key: Uint32Array, at: number): string => formatIp6(key, at);

const hex = (n: number, w: number) => '0x' + n.toString(16).padStart(w, '0');
const mac = (hi: number, lo: number) =>
  [hi >>> 8, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff]
    .map((x) => x.toString(16).padStart(2, '0'))
    .join(':');
const ip4 = (w: number) => [w >>> 24, (w >>> 16) & 0xff, (w >>> 8) & 0xff, w & 0xff].join('.');

const TCP_FLAG_NAMES = ['fin', 'syn', 'rst', 'psh', 'ack', 'urg', 'ece', 'cwr', 'ns'];

export function formatLikeParsePcap(key: Uint32Array, layout: Int32Array): string {
  const out: string[] = [];
  const type = key[K.W_ETH_TYPE];
  const ptf = key[K.W_NW_PROTO_TOS_TTL_FRAG];
  const proto = ptf >>> 24;
  const tos = (ptf >>> 16) & 0xff;
  const ttl = (ptf >>> 8) & 0xff;
  const frag = ptf & 0xff;
  const l3 = layout[K.L_L3] >= 0;
  let shortcut = '';
  let showProto = false;
  if (type === K.ETH_TYPE_IPV4 || type === K.ETH_TYPE_IPV6) {
    const v6 = type === K.ETH_TYPE_IPV6;
    const names: Record<number, string> = v6
      ? { 58: 'icmp6', 6: 'tcp6', 17: 'udp6', 132: 'sctp6' }
      : { 1: 'icmp', 6: 'tcp', 17: 'udp', 132: 'sctp' };
    const n = names[proto];
    if (n) shortcut = n;
    else {
      shortcut = v6 ? 'ipv6' : 'ip';
      showProto = true;
    }
  } else if (type === K.ETH_TYPE_ARP) shortcut = 'arp';
  else if (type === K.ETH_TYPE_MPLS) shortcut = 'mpls';
  else if (type === K.ETH_TYPE_MPLS_MCAST) shortcut = 'mplsm';
  if (shortcut) out.push(shortcut);
  out.push('in_port=ANY');
  const v0 = key[K.W_VLAN0];
  const v1 = key[K.W_VLAN1];
  if (v0 === 0) out.push('vlan_tci=0x0000');
  else {
    out.push(`dl_vlan=${v0 & 0xfff}`, `dl_vlan_pcp=${(v0 >>> 13) & 7}`);
    if (v1 === 0) out.push('vlan_tci1=0x0000');
    else out.push(`dl_vlan1=${v1 & 0xfff}`, `dl_vlan_pcp1=${(v1 >>> 13) & 7}`);
  }
  out.push(`dl_src=${mac(key[K.W_ETH_SRC_HI], key[K.W_ETH_SRC_LO])}`);
  out.push(`dl_dst=${mac(key[K.W_ETH_DST_HI], key[K.W_ETH_DST_LO])}`);
  if (!shortcut) out.push(`dl_type=${hex(type, 4)}`);
  if (type === K.ETH_TYPE_IPV4 || type === K.ETH_TYPE_IPV6) {
    if (type === K.ETH_TYPE_IPV4) out.push(`nw_src=${ip4(key[K.W_NW_SRC])}`, `nw_dst=${ip4(key[K.W_NW_DST])}`);
    else
      out.push(
        `ipv6_src=${ip6(key, K.W_NW_SRC)}`,
        `ipv6_dst=${ip6(key, K.W_NW_DST)}`,
        `ipv6_label=${hex(key[K.W_IPV6_LABEL] & 0xfffff, 5)}`,
      );
    if (showProto) out.push(`nw_proto=${proto}`);
    out.push(`nw_tos=${tos & 0xfc}`, `nw_ecn=${tos & 3}`, `nw_ttl=${ttl}`);
    out.push(`nw_frag=${frag === 0 ? 'no' : frag & K.FRAG_LATER ? 'later' : 'first'}`);
    if (!(frag & K.FRAG_LATER) && !showProto) {
      // A later fragment keeps the protocol shortcut but has no L4 fields.
      const tp = key[K.W_TP_PORTS];
      if (proto === K.IPPROTO_ICMP || proto === K.IPPROTO_ICMPV6) {
        out.push(`icmp_type=${tp >>> 16}`, `icmp_code=${tp & 0xffff}`);
        if (proto === K.IPPROTO_ICMPV6 && ((tp >>> 16) === 135 || (tp >>> 16) === 136) && (tp & 0xffff) === 0) {
          out.push(
            `nd_target=${ip6(key, K.W_ND_TARGET)}`,
            `nd_sll=${mac(key[K.W_ARP_SHA_HI], key[K.W_ARP_SHA_LO])}`,
            `nd_tll=${mac(key[K.W_ARP_THA_HI], key[K.W_ARP_THA_LO])}`,
          );
        }
      } else {
        out.push(`tp_src=${tp >>> 16}`, `tp_dst=${tp & 0xffff}`);
        const f = key[K.W_TCP_FLAGS];
        if (proto === K.IPPROTO_TCP) {
          const names = TCP_FLAG_NAMES.filter((_, i) => f & (1 << i));
          for (const bit of [0x200, 0x400, 0x800]) if (f & bit) names.push(`[${bit.toString(16)}]`);
          out.push(`tcp_flags=${names.length ? names.join('|') : '0'}`);
        }
      }
    }
  } else if (type === K.ETH_TYPE_ARP) {
    out.push(`arp_spa=${ip4(key[K.W_NW_SRC])}`, `arp_tpa=${ip4(key[K.W_NW_DST])}`, `arp_op=${proto}`);
    out.push(`arp_sha=${mac(key[K.W_ARP_SHA_HI], key[K.W_ARP_SHA_LO])}`, `arp_tha=${mac(key[K.W_ARP_THA_HI], key[K.W_ARP_THA_LO])}`);
  } else if (type === K.ETH_TYPE_MPLS || type === K.ETH_TYPE_MPLS_MCAST) {
    const l = key[K.W_MPLS0];
    out.push(`mpls_label=${l >>> 12}`, `mpls_tc=${(l >>> 9) & 7}`, `mpls_ttl=${l & 0xff}`, `mpls_bos=${(l >>> 8) & 1}`);
    // OVS shows the next entry whenever the previous one is not bottom of stack.
    if (!(l & 0x100)) {
      out.push(`mpls_lse1=${key[K.W_MPLS1]}`);
      if (!(key[K.W_MPLS1] & 0x100)) out.push(`mpls_lse2=${key[K.W_MPLS2]}`);
    }
  }
  void l3;
  return out.join(',');
}
