// Match fields in ovs-ofctl syntax. Like OVS, a parsed match is first a
// "flow + wildcards" (FlowMatch: one value/mask per packet field, with
// shared slots such as tp_src for tcp_src/udp_src/icmp_type) and is only then
// turned into OXM TLVs, in the order and with the prerequisite pruning of
// OVS's nx_put_raw(); printing decodes OXM back into a FlowMatch and prints
// it in match_format()'s order, re-folding shorthands like `tcp`.
import { OFPXMC, OFPXMT } from '../constants.js';
import { oxm, type Oxm, type OxmValue } from '../oxm.js';
import {
  allOnes,
  formatIpv4Masked,
  formatIpv6Masked,
  formatMac,
  formatMacMasked,
  formatPort,
  parseIntPrefix,
  parseIpv4,
  parseIpv6,
  parseMac,
  parsePort,
  ValueError,
} from './field-values.js';

export type Slot =
  | 'inPort'
  | 'metadata'
  | 'tunId'
  | 'dlSrc'
  | 'dlDst'
  | 'dlType'
  | 'vlanTci'
  | 'mplsLse'
  | 'nwSrc'
  | 'nwDst'
  | 'ipv6Src'
  | 'ipv6Dst'
  | 'ipv6Label'
  | 'nwProto'
  | 'nwTos'
  | 'nwTtl'
  | 'tpSrc'
  | 'tpDst'
  | 'ndTarget'
  | 'arpSha'
  | 'arpTha';

export const SLOT_BITS: Readonly<Record<Slot, number>> = {
  inPort: 32,
  metadata: 64,
  tunId: 64,
  dlSrc: 48,
  dlDst: 48,
  dlType: 16,
  vlanTci: 16,
  mplsLse: 32,
  nwSrc: 32,
  nwDst: 32,
  ipv6Src: 128,
  ipv6Dst: 128,
  ipv6Label: 32,
  nwProto: 8,
  nwTos: 8,
  nwTtl: 8,
  tpSrc: 16,
  tpDst: 16,
  ndTarget: 128,
  arpSha: 48,
  arpTha: 48,
};

export const ETH_TYPE = { IP: 0x0800, IPV6: 0x86dd, ARP: 0x0806, RARP: 0x8035, MPLS: 0x8847, MPLS_MCAST: 0x8848, VLAN: 0x8100 } as const;
const VLAN_CFI = 0x1000n;

/** OVS's struct match: per slot a value and a mask (value bits outside the mask are zero). */
export class FlowMatch {
  private readonly v = new Map<Slot, bigint>();
  private readonly m = new Map<Slot, bigint>();

  value(s: Slot): bigint {
    return this.v.get(s) ?? 0n;
  }
  mask(s: Slot): bigint {
    return this.m.get(s) ?? 0n;
  }
  has(s: Slot): boolean {
    return this.mask(s) !== 0n;
  }
  exact(s: Slot): boolean {
    return this.mask(s) === allOnes(SLOT_BITS[s]);
  }
  /** Sets the bits of `region` in slot `s` to `value`/`mask` (both already shifted). */
  set(s: Slot, region: bigint, value: bigint, mask: bigint): void {
    const m = (this.mask(s) & ~region) | (mask & region);
    const v = ((this.value(s) & ~region) | (value & mask & region)) & m;
    if (m === 0n) {
      this.v.delete(s);
      this.m.delete(s);
    } else {
      this.v.set(s, v);
      this.m.set(s, m);
    }
  }
  setExact(s: Slot, value: bigint): void {
    this.set(s, allOnes(SLOT_BITS[s]), value, allOnes(SLOT_BITS[s]));
  }
  /**
   * OVS's packet_type=Ethernet, implied by every field but in_port, metadata
   * and tun_id (and by shorthands), even when the field ends up wildcarded.
   */
  ethernetImplied = false;

  isEmpty(): boolean {
    return this.m.size === 0;
  }
  clone(): FlowMatch {
    const c = new FlowMatch();
    for (const [k, x] of this.v) c.v.set(k, x);
    for (const [k, x] of this.m) c.m.set(k, x);
    c.ethernetImplied = this.ethernetImplied;
    return c;
  }
  get dlType(): number {
    return Number(this.value('dlType'));
  }
  get nwProto(): number {
    return Number(this.value('nwProto'));
  }
}

// --- field table (OVS meta-flow names) ---------------------------------------------

export type FieldKind = 'dec' | 'hex' | 'mac' | 'ipv4' | 'ipv6' | 'port';
export type Prereq = 'none' | 'ipv4' | 'ipv6' | 'ip' | 'arp' | 'mpls' | 'tcp' | 'udp' | 'sctp' | 'icmp4' | 'icmp6' | 'nd' | 'nd_sll' | 'nd_tll' | 'vlan';

export interface MfField {
  /** OVS's canonical name (printed by set_field). */
  name: string;
  aliases: readonly string[];
  kind: FieldKind;
  bytes: number;
  maskable: boolean;
  slot: Slot;
  /** Bits of the slot this field covers. */
  region: bigint;
  shift: number;
  /** Extra bits set in the slot along with the value (VLAN CFI for dl_vlan, dl_vlan_pcp). */
  orBits?: bigint;
  /** OpenFlow 1.3 OXM used by set_field (and by the match encoder). */
  oxm?: number;
  prereq: Prereq;
  writable: boolean;
}

const f = (
  name: string,
  aliases: string[],
  kind: FieldKind,
  bytes: number,
  maskable: boolean,
  slot: Slot,
  region: bigint,
  shift: number,
  oxmField: number | undefined,
  prereq: Prereq,
  writable = true,
  orBits?: bigint,
): MfField => ({ name, aliases, kind, bytes, maskable, slot, region, shift, oxm: oxmField, prereq, writable, ...(orBits !== undefined ? { orBits } : {}) });

const X = OFPXMT;
export const MF_FIELDS: readonly MfField[] = [
  f('in_port', [], 'port', 2, false, 'inPort', allOnes(32), 0, X.IN_PORT, 'none'),
  f('metadata', [], 'hex', 8, true, 'metadata', allOnes(64), 0, X.METADATA, 'none'),
  f('tun_id', ['tunnel_id'], 'hex', 8, true, 'tunId', allOnes(64), 0, X.TUNNEL_ID, 'none'),
  f('eth_src', ['dl_src'], 'mac', 6, true, 'dlSrc', allOnes(48), 0, X.ETH_SRC, 'none'),
  f('eth_dst', ['dl_dst'], 'mac', 6, true, 'dlDst', allOnes(48), 0, X.ETH_DST, 'none'),
  f('eth_type', ['dl_type'], 'hex', 2, false, 'dlType', 0xffffn, 0, X.ETH_TYPE, 'none', false),
  f('vlan_tci', [], 'hex', 2, true, 'vlanTci', 0xffffn, 0, undefined, 'none'),
  f('dl_vlan', [], 'dec', 2, false, 'vlanTci', 0x1fffn, 0, undefined, 'none', true, VLAN_CFI),
  f('vlan_vid', [], 'dec', 2, true, 'vlanTci', 0x1fffn, 0, X.VLAN_VID, 'none'),
  f('dl_vlan_pcp', [], 'dec', 1, false, 'vlanTci', 0xf000n, 13, undefined, 'none', true, VLAN_CFI),
  f('vlan_pcp', [], 'dec', 1, false, 'vlanTci', 0xf000n, 13, X.VLAN_PCP, 'vlan', true, VLAN_CFI),
  f('mpls_label', [], 'dec', 4, false, 'mplsLse', 0xfffff000n, 12, X.MPLS_LABEL, 'mpls'),
  f('mpls_tc', [], 'dec', 1, false, 'mplsLse', 0xe00n, 9, X.MPLS_TC, 'mpls'),
  f('mpls_bos', [], 'dec', 1, false, 'mplsLse', 0x100n, 8, X.MPLS_BOS, 'mpls', false),
  f('ip_src', ['nw_src'], 'ipv4', 4, true, 'nwSrc', allOnes(32), 0, X.IPV4_SRC, 'ipv4'),
  f('ip_dst', ['nw_dst'], 'ipv4', 4, true, 'nwDst', allOnes(32), 0, X.IPV4_DST, 'ipv4'),
  f('ipv6_src', [], 'ipv6', 16, true, 'ipv6Src', allOnes(128), 0, X.IPV6_SRC, 'ipv6'),
  f('ipv6_dst', [], 'ipv6', 16, true, 'ipv6Dst', allOnes(128), 0, X.IPV6_DST, 'ipv6'),
  f('ipv6_label', [], 'hex', 4, true, 'ipv6Label', allOnes(32), 0, X.IPV6_FLABEL, 'ipv6'),
  f('nw_proto', ['ip_proto'], 'dec', 1, false, 'nwProto', 0xffn, 0, X.IP_PROTO, 'ip', false),
  f('nw_ttl', [], 'dec', 1, false, 'nwTtl', 0xffn, 0, undefined, 'ip'),
  f('nw_tos', [], 'dec', 1, false, 'nwTos', 0xfcn, 0, undefined, 'ip'),
  f('ip_dscp', [], 'dec', 1, false, 'nwTos', 0xfcn, 2, X.IP_DSCP, 'ip'),
  f('nw_ecn', ['ip_ecn'], 'dec', 1, false, 'nwTos', 0x03n, 0, X.IP_ECN, 'ip'),
  f('arp_op', [], 'dec', 2, false, 'nwProto', 0xffn, 0, X.ARP_OP, 'arp'),
  f('arp_spa', [], 'ipv4', 4, true, 'nwSrc', allOnes(32), 0, X.ARP_SPA, 'arp'),
  f('arp_tpa', [], 'ipv4', 4, true, 'nwDst', allOnes(32), 0, X.ARP_TPA, 'arp'),
  f('arp_sha', [], 'mac', 6, true, 'arpSha', allOnes(48), 0, X.ARP_SHA, 'arp'),
  f('arp_tha', [], 'mac', 6, true, 'arpTha', allOnes(48), 0, X.ARP_THA, 'arp'),
  f('tcp_src', ['tp_src'], 'dec', 2, true, 'tpSrc', 0xffffn, 0, X.TCP_SRC, 'tcp'),
  f('tcp_dst', ['tp_dst'], 'dec', 2, true, 'tpDst', 0xffffn, 0, X.TCP_DST, 'tcp'),
  f('udp_src', [], 'dec', 2, true, 'tpSrc', 0xffffn, 0, X.UDP_SRC, 'udp'),
  f('udp_dst', [], 'dec', 2, true, 'tpDst', 0xffffn, 0, X.UDP_DST, 'udp'),
  f('sctp_src', [], 'dec', 2, true, 'tpSrc', 0xffffn, 0, X.SCTP_SRC, 'sctp'),
  f('sctp_dst', [], 'dec', 2, true, 'tpDst', 0xffffn, 0, X.SCTP_DST, 'sctp'),
  f('icmp_type', [], 'dec', 1, false, 'tpSrc', 0xffffn, 0, X.ICMPV4_TYPE, 'icmp4'),
  f('icmp_code', [], 'dec', 1, false, 'tpDst', 0xffffn, 0, X.ICMPV4_CODE, 'icmp4'),
  f('icmpv6_type', [], 'dec', 1, false, 'tpSrc', 0xffffn, 0, X.ICMPV6_TYPE, 'icmp6'),
  f('icmpv6_code', [], 'dec', 1, false, 'tpDst', 0xffffn, 0, X.ICMPV6_CODE, 'icmp6'),
  f('nd_target', [], 'ipv6', 16, true, 'ndTarget', allOnes(128), 0, X.IPV6_ND_TARGET, 'nd'),
  f('nd_sll', [], 'mac', 6, true, 'arpSha', allOnes(48), 0, X.IPV6_ND_SLL, 'nd_sll'),
  f('nd_tll', [], 'mac', 6, true, 'arpTha', allOnes(48), 0, X.IPV6_ND_TLL, 'nd_tll'),
];

const BY_NAME = new Map<string, MfField>();
for (const fd of MF_FIELDS) for (const n of [fd.name, ...fd.aliases]) BY_NAME.set(n, fd);

/** OVS field names that exist but have no OpenFlow 1.3 encoding here (NXM-only). */
const NXM_ONLY = /^(reg\d+|xreg\d+|xxreg\d+|pkt_mark|ct_\w+|conj_id|recirc_id|dp_hash|skb_priority|actset_output|packet_type|tcp_flags|ip_frag|nw_frag|mpls_ttl|tun_\w+|tunnel_\w+|nsh_\w+|in_port_oxm|dl_vlan1|vlan_tci1|nd_reserved|nd_options_type|igmp_\w+)$/;

export function mfFieldByName(name: string): MfField | undefined {
  return BY_NAME.get(name);
}

export function mfFieldByOxm(field: number): MfField | undefined {
  return MF_FIELDS.find((x) => x.oxm === field);
}

/** True for names OVS knows as a field but this codec cannot express in OpenFlow 1.3. */
export function isUnsupportedFieldName(name: string): boolean {
  return !BY_NAME.has(name) && NXM_ONLY.test(name);
}

/**
 * mf_parse(): the value (and mask) of `fd` as written, "*" for a wildcard.
 * Values and masks are in the field's own terms (not shifted into the slot).
 */
export function parseFieldValue(fd: MfField, s: string): { value: bigint; mask: bigint } {
  const ones = allOnes(fd.bytes * 8);
  let r: { value: bigint; mask: bigint };
  if (s === '*') return { value: 0n, mask: 0n };
  switch (fd.kind) {
    case 'dec':
    case 'hex': {
      const a = parseIntPrefix(s, fd.bytes);
      if (a === 'range') throw new ValueError(`${s}: value too large for ${fd.bytes}-byte field ${fd.name}`);
      if (a === 'syntax' || (a.rest !== '' && !a.rest.startsWith('/'))) throw new ValueError(`${s}: bad syntax for ${fd.name} value`);
      let mask = ones;
      if (a.rest.startsWith('/')) {
        const b = parseIntPrefix(a.rest.slice(1), fd.bytes);
        if (b === 'range') throw new ValueError(`${s}: mask too large for ${fd.bytes}-byte field ${fd.name}`);
        if (b === 'syntax' || b.rest !== '') throw new ValueError(`${s}: bad syntax for ${fd.name} mask`);
        mask = b.value;
      }
      r = { value: a.value, mask };
      break;
    }
    case 'mac':
      r = parseMac(s);
      break;
    case 'ipv4':
      r = parseIpv4(s);
      break;
    case 'ipv6':
      r = parseIpv6(s);
      break;
    case 'port': {
      const p = parsePort(s);
      if (p === undefined) throw new ValueError(`${s}: invalid or unknown port for ${fd.name}`);
      return { value: BigInt(p), mask: allOnes(32) };
    }
  }
  if (!fd.maskable && r.mask !== ones && r.mask !== 0n) throw new ValueError(`${s}: invalid mask for field ${fd.name}`);
  return r;
}

/** mf_set(): stores a parsed value/mask of `fd` into the match. */
export function setField(fm: FlowMatch, fd: MfField, value: bigint, mask: bigint): void {
  const ones = allOnes(fd.bytes * 8);
  if (fd.slot !== 'inPort' && fd.slot !== 'metadata' && fd.slot !== 'tunId') fm.ethernetImplied = true;
  if (mask === 0n) {
    fm.set(fd.slot, fd.region, 0n, 0n);
    return;
  }
  if (fd.name === 'dl_vlan' && value === 0xffffn) {
    // OFP10_VLAN_NONE: no VLAN header at all.
    fm.set('vlanTci', 0xffffn, 0n, 0xffffn);
    return;
  }
  if (fd.name === 'in_port') {
    fm.setExact('inPort', value);
    return;
  }
  if (mask !== ones) {
    fm.set(fd.slot, fd.region, value << BigInt(fd.shift), mask << BigInt(fd.shift));
    return;
  }
  const v = ((value << BigInt(fd.shift)) & fd.region) | (fd.orBits ?? 0n);
  fm.set(fd.slot, fd.region, v, fd.region);
}

// --- OXM encoding (nx_put_raw order) ---------------------------------------------------


function oxmValue(v: bigint, bytes: number): OxmValue {
  if (bytes <= 4) return Number(v);
  if (bytes === 8) return v;
  const b = Buffer.alloc(bytes);
  for (let i = bytes - 1, x = v; i >= 0; i--, x >>= 8n) b[i] = Number(x & 0xffn);
  return b;
}

function put(out: Oxm[], field: number, bytes: number, v: bigint, m: bigint, full = allOnes(bytes * 8)): void {
  if (m === 0n) return;
  const ones = full;
  if ((m & ones) === ones) out.push(oxm(field, oxmValue(v & ones, bytes)));
  else out.push(oxm(field, oxmValue(v & m, bytes), oxmValue(m, bytes)));
}

export function isIpAny(dlType: number): boolean {
  return dlType === ETH_TYPE.IP || dlType === ETH_TYPE.IPV6;
}

/** The OpenFlow 1.3 OXM list OVS would send for this match. */
export function matchToOxm(fm: FlowMatch): Oxm[] {
  const out: Oxm[] = [];
  if (fm.has('inPort')) out.push(oxm(X.IN_PORT, Number(fm.value('inPort'))));
  put(out, X.ETH_SRC, 6, fm.value('dlSrc'), fm.mask('dlSrc'));
  put(out, X.ETH_DST, 6, fm.value('dlDst'), fm.mask('dlDst'));
  put(out, X.ETH_TYPE, 2, fm.value('dlType'), fm.mask('dlType'));
  const tci = fm.value('vlanTci');
  const tciMask = fm.mask('vlanTci');
  const vid = tci & 0x1fffn;
  const vidMask = tciMask & 0x1fffn;
  put(out, X.VLAN_VID, 2, vid, vidMask, 0x1fffn);
  if (vid !== 0n && (tciMask & 0xe000n) !== 0n) out.push(oxm(X.VLAN_PCP, Number(tci >> 13n)));
  const dlType = fm.dlType;
  if (dlType === ETH_TYPE.MPLS || dlType === ETH_TYPE.MPLS_MCAST) {
    const lse = fm.value('mplsLse');
    const lm = fm.mask('mplsLse');
    if (lm & 0xe00n) out.push(oxm(X.MPLS_TC, Number((lse >> 9n) & 7n)));
    if (lm & 0x100n) out.push(oxm(X.MPLS_BOS, Number((lse >> 8n) & 1n)));
    if (lm & 0xfffff000n) out.push(oxm(X.MPLS_LABEL, Number(lse >> 12n)));
  }
  if (isIpAny(dlType)) {
    if (dlType === ETH_TYPE.IP) {
      put(out, X.IPV4_SRC, 4, fm.value('nwSrc'), fm.mask('nwSrc'));
      put(out, X.IPV4_DST, 4, fm.value('nwDst'), fm.mask('nwDst'));
    } else {
      put(out, X.IPV6_SRC, 16, fm.value('ipv6Src'), fm.mask('ipv6Src'));
      put(out, X.IPV6_DST, 16, fm.value('ipv6Dst'), fm.mask('ipv6Dst'));
    }
    const tos = fm.value('nwTos');
    const tosMask = fm.mask('nwTos');
    if (tosMask & 0xfcn) out.push(oxm(X.IP_DSCP, Number(tos >> 2n)));
    if (tosMask & 0x03n) out.push(oxm(X.IP_ECN, Number(tos & 3n)));
    if (fm.has('nwTtl')) {
      // NXM_NX_IP_TTL: OVS sends it inside an OXM match.
      out.push({ kind: 'opaque', oxmClass: OFPXMC.NXM_1, field: 29, hasMask: false, body: Buffer.from([Number(fm.value('nwTtl'))]) });
    }
    put(out, X.IPV6_FLABEL, 4, fm.value('ipv6Label'), fm.mask('ipv6Label'));
    if (fm.has('nwProto')) {
      const proto = fm.nwProto;
      out.push(oxm(X.IP_PROTO, proto));
      const tpS = fm.value('tpSrc');
      const tpSm = fm.mask('tpSrc');
      const tpD = fm.value('tpDst');
      const tpDm = fm.mask('tpDst');
      if (proto === 6) {
        put(out, X.TCP_SRC, 2, tpS, tpSm);
        put(out, X.TCP_DST, 2, tpD, tpDm);
      } else if (proto === 17) {
        put(out, X.UDP_SRC, 2, tpS, tpSm);
        put(out, X.UDP_DST, 2, tpD, tpDm);
      } else if (proto === 132) {
        put(out, X.SCTP_SRC, 2, tpS, tpSm);
        put(out, X.SCTP_DST, 2, tpD, tpDm);
      } else if (proto === 1 && dlType === ETH_TYPE.IP) {
        if (tpSm) out.push(oxm(X.ICMPV4_TYPE, Number(tpS & 0xffn)));
        if (tpDm) out.push(oxm(X.ICMPV4_CODE, Number(tpD & 0xffn)));
      } else if (proto === 58 && dlType === ETH_TYPE.IPV6) {
        if (tpSm) out.push(oxm(X.ICMPV6_TYPE, Number(tpS & 0xffn)));
        if (tpDm) out.push(oxm(X.ICMPV6_CODE, Number(tpD & 0xffn)));
        if (tpD === 0n && (tpS === 135n || tpS === 136n)) {
          put(out, X.IPV6_ND_TARGET, 16, fm.value('ndTarget'), fm.mask('ndTarget'));
          if (tpS === 135n) put(out, X.IPV6_ND_SLL, 6, fm.value('arpSha'), fm.mask('arpSha'));
          else put(out, X.IPV6_ND_TLL, 6, fm.value('arpTha'), fm.mask('arpTha'));
        }
      }
    }
  } else if (dlType === ETH_TYPE.ARP || dlType === ETH_TYPE.RARP) {
    if (fm.has('nwProto')) out.push(oxm(X.ARP_OP, fm.nwProto));
    put(out, X.ARP_SPA, 4, fm.value('nwSrc'), fm.mask('nwSrc'));
    put(out, X.ARP_TPA, 4, fm.value('nwDst'), fm.mask('nwDst'));
    put(out, X.ARP_SHA, 6, fm.value('arpSha'), fm.mask('arpSha'));
    put(out, X.ARP_THA, 6, fm.value('arpTha'), fm.mask('arpTha'));
  }
  put(out, X.TUNNEL_ID, 8, fm.value('tunId'), fm.mask('tunId'));
  put(out, X.METADATA, 8, fm.value('metadata'), fm.mask('metadata'));
  const l2 = new Set<number>([X.ETH_SRC, X.ETH_DST, X.ETH_TYPE, X.VLAN_VID, X.VLAN_PCP]);
  if (fm.ethernetImplied && !out.some((o) => o.kind === 'basic' && l2.has(o.field))) {
    // The match implies an Ethernet packet but no L2 field says so (its
    // fields were wildcarded or pruned for missing prerequisites): OVS then
    // sends packet_type=Ethernet first (OXM_OF_PACKET_TYPE, OpenFlow 1.5's
    // basic field 44, value 0).
    out.unshift({ kind: 'opaque', oxmClass: OFPXMC.OPENFLOW_BASIC, field: 44, hasMask: false, body: Buffer.alloc(4) });
  }
  return out;
}

// --- OXM decoding ------------------------------------------------------------------------

function toBig(v: OxmValue): bigint {
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'bigint') return v;
  let x = 0n;
  for (const b of v) x = (x << 8n) | BigInt(b);
  return x;
}

/** OXM fields this printer cannot map onto an OVS flow field, printed by OXM name. */
export interface OxmExtra {
  name: string;
  value: bigint;
  mask?: bigint;
}

/** The FlowMatch an OXM list means (what OVS's decoder builds), plus fields OVS has no slot for. */
export function oxmToMatch(list: readonly Oxm[]): { match: FlowMatch; extra: OxmExtra[] } {
  const fm = new FlowMatch();
  const extra: OxmExtra[] = [];
  for (const o of list) {
    if (o.kind === 'opaque') {
      if (o.oxmClass === OFPXMC.NXM_1 && o.field === 29 && o.body.length === 1) fm.setExact('nwTtl', BigInt(o.body[0]!));
      else extra.push({ name: `oxm(0x${o.oxmClass.toString(16)}:${o.field})`, value: toBig(o.body) });
      continue;
    }
    const value = toBig(o.value);
    const fd = mfFieldByOxm(o.field);
    if (!fd) {
      extra.push(o.mask === undefined ? { name: String(o.field), value } : { name: String(o.field), value, mask: toBig(o.mask) });
      continue;
    }
    if (o.field === X.IN_PORT) {
      fm.setExact('inPort', value);
      continue;
    }
    const ones = allOnes(fd.bytes * 8);
    setField(fm, fd, value, o.mask === undefined ? ones : toBig(o.mask));
  }
  return { match: fm, extra };
}

// --- printing (match_format) ----------------------------------------------------------------

function be16Masked(name: string, v: bigint, m: bigint, out: string[]): void {
  if (m === 0n) return;
  out.push(m === 0xffffn ? `${name}=${v}` : `${name}=0x${v.toString(16)}/0x${m.toString(16)}`);
}

function be64Masked(name: string, v: bigint, m: bigint, out: string[]): void {
  if (m === 0n) return;
  const hx = (x: bigint): string => (x === 0n ? '0' : `0x${x.toString(16)}`);
  out.push(m === allOnes(64) ? `${name}=${hx(v)}` : `${name}=${hx(v)}/${hx(m)}`);
}

/** OFP_DEFAULT_PRIORITY. */
export const DEFAULT_PRIORITY = 0x8000;

/** match_format(): the match (and priority unless default) as ovs-ofctl prints it, no trailing comma. */
export function formatFlowMatch(fm: FlowMatch, priority: number, extra: readonly OxmExtra[] = []): string {
  const out: string[] = [];
  if (priority !== DEFAULT_PRIORITY) out.push(`priority=${priority}`);
  let skipType = false;
  let skipProto = false;
  const dlType = fm.dlType;
  const proto = fm.nwProto;
  if (fm.has('dlType')) {
    skipType = true;
    if (dlType === ETH_TYPE.IP || dlType === ETH_TYPE.IPV6) {
      const v6 = dlType === ETH_TYPE.IPV6;
      const names: Record<number, string> = v6 ? { 58: 'icmp6', 6: 'tcp6', 17: 'udp6', 132: 'sctp6' } : { 1: 'icmp', 6: 'tcp', 17: 'udp', 132: 'sctp' };
      if (fm.has('nwProto') && names[proto] !== undefined) {
        skipProto = true;
        out.push(names[proto]!);
      } else {
        out.push(v6 ? 'ipv6' : 'ip');
      }
    } else if (dlType === ETH_TYPE.ARP) out.push('arp');
    else if (dlType === ETH_TYPE.RARP) out.push('rarp');
    else if (dlType === ETH_TYPE.MPLS) out.push('mpls');
    else if (dlType === ETH_TYPE.MPLS_MCAST) out.push('mplsm');
    else skipType = false;
  }
  be64Masked('tun_id', fm.value('tunId'), fm.mask('tunId'), out);
  be64Masked('metadata', fm.value('metadata'), fm.mask('metadata'), out);
  if (fm.has('inPort')) out.push(`in_port=${formatPort(Number(fm.value('inPort')))}`);
  const tciMask = fm.mask('vlanTci');
  if (tciMask !== 0n) {
    const tci = fm.value('vlanTci');
    const vidMask = tciMask & 0x0fffn;
    const pcpMask = tciMask & 0xe000n;
    const cfi = tciMask & VLAN_CFI;
    if (cfi && tci & VLAN_CFI && (!vidMask || vidMask === 0x0fffn) && (!pcpMask || pcpMask === 0xe000n) && (vidMask || pcpMask)) {
      if (vidMask) out.push(`dl_vlan=${tci & 0xfffn}`);
      if (pcpMask) out.push(`dl_vlan_pcp=${tci >> 13n}`);
    } else if (tciMask === 0xffffn) {
      out.push(`vlan_tci=0x${tci.toString(16).padStart(4, '0')}`);
    } else {
      out.push(`vlan_tci=0x${tci.toString(16).padStart(4, '0')}/0x${tciMask.toString(16).padStart(4, '0')}`);
    }
  }
  if (fm.has('dlSrc')) out.push(`dl_src=${formatMacMasked(fm.value('dlSrc'), fm.mask('dlSrc'))}`);
  if (fm.has('dlDst')) out.push(`dl_dst=${formatMacMasked(fm.value('dlDst'), fm.mask('dlDst'))}`);
  if (!skipType && fm.has('dlType')) out.push(`dl_type=0x${dlType.toString(16).padStart(4, '0')}`);
  const arp = dlType === ETH_TYPE.ARP || dlType === ETH_TYPE.RARP;
  if (dlType === ETH_TYPE.IPV6) {
    if (fm.has('ipv6Src')) out.push(`ipv6_src=${formatIpv6Masked(fm.value('ipv6Src'), fm.mask('ipv6Src'))}`);
    if (fm.has('ipv6Dst')) out.push(`ipv6_dst=${formatIpv6Masked(fm.value('ipv6Dst'), fm.mask('ipv6Dst'))}`);
    const lm = fm.mask('ipv6Label');
    if (lm) {
      const h = (x: bigint): string => `0x${x.toString(16).padStart(5, '0')}`;
      out.push(lm === allOnes(32) || lm === 0xfffffn ? `ipv6_label=${h(fm.value('ipv6Label'))}` : `ipv6_label=${h(fm.value('ipv6Label'))}/${h(lm)}`);
    }
  } else if (arp) {
    if (fm.has('nwSrc')) out.push(`arp_spa=${formatIpv4Masked(fm.value('nwSrc'), fm.mask('nwSrc'))}`);
    if (fm.has('nwDst')) out.push(`arp_tpa=${formatIpv4Masked(fm.value('nwDst'), fm.mask('nwDst'))}`);
  } else {
    if (fm.has('nwSrc')) out.push(`nw_src=${formatIpv4Masked(fm.value('nwSrc'), fm.mask('nwSrc'))}`);
    if (fm.has('nwDst')) out.push(`nw_dst=${formatIpv4Masked(fm.value('nwDst'), fm.mask('nwDst'))}`);
  }
  if (!skipProto && fm.has('nwProto')) out.push(arp ? `arp_op=${proto}` : `nw_proto=${proto}`);
  if (arp) {
    if (fm.has('arpSha')) out.push(`arp_sha=${formatMacMasked(fm.value('arpSha'), fm.mask('arpSha'))}`);
    if (fm.has('arpTha')) out.push(`arp_tha=${formatMacMasked(fm.value('arpTha'), fm.mask('arpTha'))}`);
  }
  const tos = fm.value('nwTos');
  if (fm.mask('nwTos') & 0xfcn) out.push(`nw_tos=${tos & 0xfcn}`);
  if (fm.mask('nwTos') & 0x03n) out.push(`nw_ecn=${tos & 0x03n}`);
  if (fm.has('nwTtl')) out.push(`nw_ttl=${fm.value('nwTtl')}`);
  const lse = fm.value('mplsLse');
  const lm = fm.mask('mplsLse');
  if (lm & 0xfffff000n) out.push(`mpls_label=${lse >> 12n}`);
  if (lm & 0xe00n) out.push(`mpls_tc=${(lse >> 9n) & 7n}`);
  if (lm & 0xffn) out.push(`mpls_ttl=${lse & 0xffn}`);
  if (lm & 0x100n) out.push(`mpls_bos=${(lse >> 8n) & 1n}`);
  const tpS = fm.value('tpSrc');
  const tpSm = fm.mask('tpSrc');
  const tpD = fm.value('tpDst');
  const tpDm = fm.mask('tpDst');
  if (dlType === ETH_TYPE.IP && proto === 1) {
    be16Masked('icmp_type', tpS, tpSm, out);
    be16Masked('icmp_code', tpD, tpDm, out);
  } else if (dlType === ETH_TYPE.IP && proto === 2) {
    be16Masked('igmp_type', tpS, tpSm, out);
    be16Masked('igmp_code', tpD, tpDm, out);
  } else if (dlType === ETH_TYPE.IPV6 && proto === 58) {
    be16Masked('icmp_type', tpS, tpSm, out);
    be16Masked('icmp_code', tpD, tpDm, out);
    if (fm.has('ndTarget')) out.push(`nd_target=${formatIpv6Masked(fm.value('ndTarget'), fm.mask('ndTarget'))}`);
    if (fm.has('arpSha')) out.push(`nd_sll=${formatMacMasked(fm.value('arpSha'), fm.mask('arpSha'))}`);
    if (fm.has('arpTha')) out.push(`nd_tll=${formatMacMasked(fm.value('arpTha'), fm.mask('arpTha'))}`);
  } else {
    be16Masked('tp_src', tpS, tpSm, out);
    be16Masked('tp_dst', tpD, tpDm, out);
  }
  for (const e of extra) out.push(e.mask === undefined ? `${e.name}=0x${e.value.toString(16)}` : `${e.name}=0x${e.value.toString(16)}/0x${e.mask.toString(16)}`);
  return out.join(',');
}

/** mf_format(): a field value as set_field prints it. */
export function formatFieldValue(fd: MfField, v: bigint): string {
  switch (fd.kind) {
    case 'dec':
      return v.toString();
    case 'hex':
      return v === 0n ? '0' : `0x${v.toString(16)}`;
    case 'mac':
      return formatMac(v);
    case 'ipv4':
      return formatIpv4Masked(v, allOnes(32));
    case 'ipv6':
      return formatIpv6Masked(v, allOnes(128));
    case 'port':
      return formatPort(Number(v));
  }
}
