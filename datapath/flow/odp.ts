// Open vSwitch's datapath flow text form (lib/odp-util.c, as printed by
// `ovs-appctl dpctl/dump-flows`): print and parse flow keys and megaflow masks
// over the flow key layout of key.ts. Printing follows odp_flow_format() in its
// non-verbose form: with a mask, a fully wildcarded attribute is omitted (eth
// prints as `eth()`), a fully wildcarded field inside an attribute is omitted,
// a partial mask prints as `value/mask`. Without a mask every field prints.
// Not for the hot path.

import {
  ETH_TYPE_ARP,
  ETH_TYPE_IPV4,
  ETH_TYPE_IPV6,
  ETH_TYPE_MPLS,
  ETH_TYPE_MPLS_MCAST,
  ETH_TYPE_NONE,
  FRAG_ANY,
  FRAG_LATER,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  KEY_WORDS,
  VLAN_CFI,
  W_ARP_SHA_HI,
  W_ARP_SHA_LO,
  W_ARP_THA_HI,
  W_ARP_THA_LO,
  W_DP_HASH,
  W_ETH_DST_HI,
  W_ETH_DST_LO,
  W_ETH_SRC_HI,
  W_ETH_SRC_LO,
  W_ETH_TYPE,
  W_IN_PORT,
  W_IPV6_LABEL,
  W_MPLS0,
  W_ND_TARGET,
  W_NW_DST,
  W_NW_PROTO_TOS_TTL_FRAG,
  W_NW_SRC,
  W_RECIRC_ID,
  W_SKB_MARK,
  W_TCP_FLAGS,
  W_TP_PORTS,
  W_VLAN0,
} from './key.js';

// --- errors -------------------------------------------------------------------

export type OdpErrorCode =
  | 'ODP_SYNTAX'
  | 'ODP_UNKNOWN_ATTR'
  | 'ODP_UNKNOWN_FIELD'
  | 'ODP_BAD_VALUE'
  | 'ODP_UNKNOWN_ACTION'
  | 'ODP_UNSUPPORTED';

/** A text that is not valid ODP syntax; `position` is the 0-based character offset. */
export class OdpParseError extends Error {
  override readonly name = 'OdpParseError';
  constructor(
    readonly code: OdpErrorCode,
    message: string,
    readonly position: number,
  ) {
    super(`${message} (at character ${position})`);
  }
}

// --- value formatting -----------------------------------------------------------

/** C's "%#x": 0 prints as "0", anything else as 0x... */
export function hexAlt(n: number): string {
  return n === 0 ? '0' : '0x' + (n >>> 0).toString(16);
}

export function formatMac(hi: number, lo: number): string {
  const b = [(hi >>> 8) & 0xff, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export function formatIp4(w: number): string {
  return `${w >>> 24}.${(w >>> 16) & 0xff}.${(w >>> 8) & 0xff}.${w & 0xff}`;
}

/** IPv6 as glibc's inet_ntop() prints it (RFC 5952 compression; IPv4-mapped/compatible tails). */
export function formatIp6(w: ArrayLike<number>, at = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 4; i++) g.push(w[at + i] >>> 16, w[at + i] & 0xffff);
  let bestAt = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestAt = -1;
  const parts: string[] = [];
  for (let i = 0; i < 8; i++) {
    if (i === bestAt) {
      parts.push(i === 0 ? ':' : '');
      i += bestLen - 1;
      if (i === 7) parts.push('');
      continue;
    }
    if (i === 6 && bestAt === 0 && (bestLen === 6 || (bestLen === 5 && g[5] === 0xffff))) {
      parts.push(formatIp4(w[at + 3] >>> 0));
      break;
    }
    parts.push(g[i].toString(16));
  }
  return parts.join(':');
}

// --- value parsing ----------------------------------------------------------------

function bad(what: string, text: string, pos: number): never {
  throw new OdpParseError('ODP_BAD_VALUE', `${what}: "${text}" is not valid`, pos);
}

/** An integer as C's %i reads it in OVS: decimal or 0x-prefixed hex. */
export function parseNum(text: string, pos: number, max: number, what: string): number {
  let n: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) n = parseInt(text.slice(2), 16);
  else if (/^[0-9]+$/.test(text)) n = parseInt(text, 10);
  else bad(what, text, pos);
  if (!(n <= max)) throw new OdpParseError('ODP_BAD_VALUE', `${what}: ${text} is out of range (max ${max})`, pos);
  return n;
}

export function parseMac(text: string, pos: number): [number, number] {
  const m = /^([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})$/.exec(text);
  if (!m) bad('Ethernet address', text, pos);
  const b = m.slice(1).map((x) => parseInt(x, 16));
  return [(b[0] << 8) | b[1], ((b[2] << 24) | (b[3] << 16) | (b[4] << 8) | b[5]) >>> 0];
}

export function parseIp4(text: string, pos: number): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) bad('IPv4 address', text, pos);
  const b = m.slice(1).map(Number);
  if (b.some((x) => x > 255)) bad('IPv4 address', text, pos);
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

export function parseIp6(text: string, pos: number): number[] {
  let s = text;
  let tail: number[] = [];
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const w = parseIp4(v4[2], pos);
    tail = [w >>> 16, w & 0xffff];
    s = v4[1].endsWith('::') ? v4[1] : v4[1].slice(0, -1);
  }
  const halves = s.split('::');
  if (halves.length > 2) bad('IPv6 address', text, pos);
  const grp = (p: string) => (p === '' ? [] : p.split(':'));
  const head = grp(halves[0]);
  const rest = halves.length === 2 ? grp(halves[1]) : [];
  const given = head.length + rest.length + tail.length;
  if (halves.length === 1 ? given !== 8 : given > 7) bad('IPv6 address', text, pos);
  const groups = [...head, ...Array(8 - given).fill('0'), ...rest].map((g) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) bad('IPv6 address', text, pos);
    return parseInt(g, 16);
  });
  groups.push(...tail);
  return [0, 1, 2, 3].map((i) => ((groups[2 * i] << 16) | groups[2 * i + 1]) >>> 0);
}

// --- field tables -------------------------------------------------------------------

type Kind = 'u' | 'x' | 'mac' | 'ip4' | 'ip6' | 'frag';

interface Field {
  readonly name: string;
  readonly kind: Kind;
  /** Key word (first word for mac/ip6). */
  readonly word: number;
  /** For mac: the low word. */
  readonly word2?: number;
  /** Scalars: shift and width mask within the word. */
  readonly shift?: number;
  readonly bits?: number;
}

const u = (name: string, word: number, shift: number, bits: number): Field => ({ name, kind: 'u', word, shift, bits });
const x = (name: string, word: number, shift: number, bits: number): Field => ({ name, kind: 'x', word, shift, bits });
const mac = (name: string, hi: number, lo: number): Field => ({ name, kind: 'mac', word: hi, word2: lo });
const ip4 = (name: string, word: number): Field => ({ name, kind: 'ip4', word });
const ip6 = (name: string, word: number): Field => ({ name, kind: 'ip6', word });
const PTTF = W_NW_PROTO_TOS_TTL_FRAG;
const frag: Field = { name: 'frag', kind: 'frag', word: PTTF, shift: 0, bits: FRAG_ANY | FRAG_LATER };

/** The fields of each ODP key attribute, in OVS's print order. */
export const ATTR_FIELDS: Readonly<Record<string, readonly Field[]>> = {
  eth: [mac('src', W_ETH_SRC_HI, W_ETH_SRC_LO), mac('dst', W_ETH_DST_HI, W_ETH_DST_LO)],
  ipv4: [ip4('src', W_NW_SRC), ip4('dst', W_NW_DST), u('proto', PTTF, 24, 0xff), x('tos', PTTF, 16, 0xff), u('ttl', PTTF, 8, 0xff), frag],
  ipv6: [
    ip6('src', W_NW_SRC),
    ip6('dst', W_NW_DST),
    x('label', W_IPV6_LABEL, 0, 0xfffff),
    u('proto', PTTF, 24, 0xff),
    x('tclass', PTTF, 16, 0xff),
    u('hlimit', PTTF, 8, 0xff),
    frag,
  ],
  tcp: [u('src', W_TP_PORTS, 16, 0xffff), u('dst', W_TP_PORTS, 0, 0xffff)],
  udp: [u('src', W_TP_PORTS, 16, 0xffff), u('dst', W_TP_PORTS, 0, 0xffff)],
  sctp: [u('src', W_TP_PORTS, 16, 0xffff), u('dst', W_TP_PORTS, 0, 0xffff)],
  icmp: [u('type', W_TP_PORTS, 16, 0xff), u('code', W_TP_PORTS, 0, 0xff)],
  icmpv6: [u('type', W_TP_PORTS, 16, 0xff), u('code', W_TP_PORTS, 0, 0xff)],
  arp: [ip4('sip', W_NW_SRC), ip4('tip', W_NW_DST), u('op', PTTF, 24, 0xff), mac('sha', W_ARP_SHA_HI, W_ARP_SHA_LO), mac('tha', W_ARP_THA_HI, W_ARP_THA_LO)],
  nd: [ip6('target', W_ND_TARGET), mac('sll', W_ARP_SHA_HI, W_ARP_SHA_LO), mac('tll', W_ARP_THA_HI, W_ARP_THA_LO)],
};

type MaskState = 'zero' | 'full' | 'partial';

function fieldMaskState(f: Field, m: Uint32Array | null): MaskState {
  if (m === null) return 'full';
  switch (f.kind) {
    case 'mac': {
      const hi = m[f.word] & 0xffff;
      const lo = m[f.word2!] >>> 0;
      return hi === 0 && lo === 0 ? 'zero' : hi === 0xffff && lo === 0xffffffff ? 'full' : 'partial';
    }
    case 'ip4':
      return m[f.word] === 0 ? 'zero' : m[f.word] === 0xffffffff ? 'full' : 'partial';
    case 'ip6': {
      let z = true;
      let full = true;
      for (let i = 0; i < 4; i++) {
        if (m[f.word + i] !== 0) z = false;
        if (m[f.word + i] !== 0xffffffff) full = false;
      }
      return z ? 'zero' : full ? 'full' : 'partial';
    }
    default: {
      const v = (m[f.word] >>> f.shift!) & f.bits!;
      // ODP frag is an enumeration: any mask on it means an exact match.
      return v === 0 ? 'zero' : v === f.bits || f.kind === 'frag' ? 'full' : 'partial';
    }
  }
}

const FRAG_NAMES: Record<number, string> = { 0: 'no', [FRAG_ANY]: 'first', [FRAG_ANY | FRAG_LATER]: 'later' };

function fieldValue(f: Field, k: Uint32Array, asMask: boolean): string {
  switch (f.kind) {
    case 'mac':
      return formatMac(k[f.word], k[f.word2!]);
    case 'ip4':
      return formatIp4(k[f.word]);
    case 'ip6':
      return formatIp6(k, f.word);
    case 'frag':
      return FRAG_NAMES[(k[f.word] >>> f.shift!) & f.bits!] ?? 'later';
    default: {
      const v = (k[f.word] >>> f.shift!) & f.bits!;
      return asMask || f.kind === 'x' ? hexAlt(v) : String(v);
    }
  }
}

/**
 * The inside of one attribute's parentheses: `src=..,dst=..`. With `verbose`
 * every field prints (OVS's set action form); otherwise fields whose mask is
 * zero are left out.
 */
export function formatAttrFields(attr: string, key: Uint32Array, mask: Uint32Array | null, verbose: boolean): string {
  const out: string[] = [];
  for (const f of ATTR_FIELDS[attr]) {
    const st = fieldMaskState(f, mask);
    if (st === 'zero' && !verbose) continue;
    let s = `${f.name}=${fieldValue(f, key, false)}`;
    if (st !== 'full' && mask !== null) s += '/' + fieldValue(f, mask, true);
    out.push(s);
  }
  return out.join(',');
}

export function attrMaskState(attr: string, mask: Uint32Array | null): MaskState {
  let any = false;
  let all = true;
  for (const f of ATTR_FIELDS[attr]) {
    const st = fieldMaskState(f, mask);
    if (st !== 'zero') any = true;
    if (st !== 'full') all = false;
  }
  return !any ? 'zero' : all ? 'full' : 'partial';
}

// --- TCP flags ------------------------------------------------------------------------

const TCP_FLAG_NAMES = ['fin', 'syn', 'rst', 'psh', 'ack', 'urg', 'ece', 'cwr', 'ns'];
const TCP_FLAGS_MAX = 0x0fff;

/** OVS packet_tcp_flag_to_string(): the three reserved bits print as [200], [400], [800]. */
function tcpFlagName(bit: number): string | null {
  const i = 31 - Math.clz32(bit);
  if (i < TCP_FLAG_NAMES.length) return TCP_FLAG_NAMES[i];
  return bit <= 0x800 ? `[${bit.toString(16)}]` : null;
}

/** OVS format_flags(): names joined by '|', unnamed bits as one hex number, 0 as "0". */
function formatTcpFlags(flags: number): string {
  if (flags === 0) return '0';
  const names: string[] = [];
  let badBits = 0;
  for (let f = flags; f !== 0; f &= f - 1) {
    const bit = f & -f;
    const name = tcpFlagName(bit);
    if (name !== null) names.push(name);
    else badBits |= bit;
  }
  if (badBits) names.push(`0x${badBits.toString(16)}`);
  return names.join('|');
}

/** OVS format_flags_masked(): `+syn-ack`, or the plain form for a full mask. */
function formatTcpFlagsMasked(flags: number, mask: number): string {
  if (mask === TCP_FLAGS_MAX) return formatTcpFlags(flags);
  if (mask === 0) return '0/0';
  let s = '';
  for (let m = mask; m !== 0; m &= m - 1) {
    const bit = m & -m;
    s += (flags & bit ? '+' : '-') + (tcpFlagName(bit) ?? '[Unknown]');
  }
  return s;
}

function parseTcpFlags(text: string, pos: number): [number, number] {
  const hex = /^(0x[0-9a-fA-F]+|\d+)\/(0x[0-9a-fA-F]+|\d+)$/.exec(text);
  if (hex) return [parseNum(hex[1], pos, 0xffff, 'tcp_flags') & TCP_FLAGS_MAX, parseNum(hex[2], pos, 0xffff, 'tcp_flags mask') & TCP_FLAGS_MAX];
  const bitOf = (name: string): number => {
    const i = TCP_FLAG_NAMES.indexOf(name);
    if (i >= 0) return 1 << i;
    if (name === '[200]' || name === '[400]' || name === '[800]') return parseInt(name.slice(1, 4), 16);
    if (/^0x[0-9a-fA-F]+$/.test(name)) return parseInt(name.slice(2), 16) & TCP_FLAGS_MAX;
    return bad('tcp_flags', name, pos);
  };
  if (text.startsWith('+') || text.startsWith('-')) {
    let flags = 0;
    let mask = 0;
    const re = /([+-])([a-z]+|\[[0-9a-f]+\]|0x[0-9a-fA-F]+)/gy;
    let m: RegExpExecArray | null;
    let at = 0;
    while ((m = re.exec(text)) !== null) {
      const bit = bitOf(m[2]);
      mask |= bit;
      if (m[1] === '+') flags |= bit;
      at = re.lastIndex;
    }
    if (at !== text.length) bad('tcp_flags', text, pos);
    return [flags, mask];
  }
  if (text === '0') return [0, TCP_FLAGS_MAX];
  let flags = 0;
  for (const name of text.split('|')) flags |= bitOf(name);
  return [flags, TCP_FLAGS_MAX];
}

// --- printing a whole key -----------------------------------------------------------

function maskedU32(name: string, v: number, m: number | null): string {
  return m === null || m === 0xffffffff ? `${name}(${hexAlt(v)})` : `${name}(${hexAlt(v)}/${hexAlt(m)})`;
}

export function formatVlanTci(tci: number, mask: number): string {
  const out: string[] = [];
  const vid = tci & 0xfff;
  const vidM = mask & 0xfff;
  const pcp = (tci >>> 13) & 7;
  const pcpM = (mask >>> 13) & 7;
  if (vid || vidM) out.push(`vid=${vid}` + (vidM !== 0xfff ? `/0x${vidM.toString(16)}` : ''));
  if (pcp || pcpM) out.push(`pcp=${pcp}` + (pcpM !== 7 ? `/0x${pcpM.toString(16)}` : ''));
  if (!(tci & VLAN_CFI)) out.push('cfi=0');
  return out.join(',');
}

function formatEthType(v: number, m: number | null): string {
  const h = (n: number) => '0x' + n.toString(16).padStart(4, '0');
  return m === null || m === 0xffff ? `eth_type(${h(v)})` : `eth_type(${h(v)}/${h(m)})`;
}

/**
 * Number of MPLS label stack entries printed, as OVS's flow_count_mpls_labels():
 * up to bottom of stack, else the count of non-zero entries.
 */
function mplsDepth(key: Uint32Array): number {
  let n = 0;
  for (let i = 0; i < 3; i++) {
    if (key[W_MPLS0 + i] & 0x100) return i + 1;
    if (key[W_MPLS0 + i] !== 0) n++;
  }
  return n;
}

function formatMpls(key: Uint32Array, mask: Uint32Array | null, n: number): string | null {
  let any = false;
  let exact = true;
  for (let i = 0; i < n; i++) {
    const m = mask === null ? 0xffffffff : mask[W_MPLS0 + i] >>> 0;
    if (m !== 0) any = true;
    if (m !== 0xffffffff) exact = false;
  }
  if (!any) return null;
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const l = key[W_MPLS0 + i];
    if (exact) parts.push(`label=${l >>> 12},tc=${(l >>> 9) & 7},ttl=${l & 0xff},bos=${(l >>> 8) & 1}`);
    else {
      const m = mask![W_MPLS0 + i];
      parts.push(
        `label=${l >>> 12}/0x${(m >>> 12).toString(16)},tc=${(l >>> 9) & 7}/${((m >>> 9) & 7).toString(16)},` +
          `ttl=${l & 0xff}/0x${(m & 0xff).toString(16)},bos=${(l >>> 8) & 1}/${((m >>> 8) & 1).toString(16)}`,
      );
    }
  }
  return `mpls(${parts.join(',')})`;
}

/** Attributes after eth_type, for the innermost level. */
function formatL3(key: Uint32Array, mask: Uint32Array | null, out: string[]): void {
  const type = key[W_ETH_TYPE];
  const attr = (name: string) => {
    if (mask !== null && attrMaskState(name, mask) === 'zero') return;
    out.push(`${name}(${formatAttrFields(name, key, mask, false)})`);
  };
  if (type === ETH_TYPE_IPV4 || type === ETH_TYPE_IPV6) {
    attr(type === ETH_TYPE_IPV4 ? 'ipv4' : 'ipv6');
    const ptf = key[W_NW_PROTO_TOS_TTL_FRAG];
    if (ptf & FRAG_LATER) return;
    const proto = ptf >>> 24;
    if (proto === IPPROTO_TCP) {
      attr('tcp');
      const fm = mask === null ? TCP_FLAGS_MAX : mask[W_TCP_FLAGS] & TCP_FLAGS_MAX;
      if (fm !== 0) out.push(`tcp_flags(${formatTcpFlagsMasked(key[W_TCP_FLAGS] & TCP_FLAGS_MAX, fm)})`);
    } else if (proto === IPPROTO_UDP) attr('udp');
    else if (proto === IPPROTO_SCTP) attr('sctp');
    else if (proto === IPPROTO_ICMP && type === ETH_TYPE_IPV4) attr('icmp');
    else if (proto === IPPROTO_ICMPV6 && type === ETH_TYPE_IPV6) {
      attr('icmpv6');
      const tp = key[W_TP_PORTS];
      if (tp === 135 << 16 || tp === 136 << 16) attr('nd');
    }
  } else if (type === ETH_TYPE_ARP) {
    attr('arp');
  } else if (type === ETH_TYPE_MPLS || type === ETH_TYPE_MPLS_MCAST) {
    const n = mplsDepth(key);
    const s = n === 0 ? null : formatMpls(key, mask, n);
    if (s !== null) out.push(s);
  }
}

function formatLevel(key: Uint32Array, mask: Uint32Array | null, level: number, out: string[]): void {
  const vw = level < 2 ? key[W_VLAN0 + level] : 0;
  if (vw !== 0) {
    const mw = mask === null ? 0xffffffff : mask[W_VLAN0 + level] >>> 0;
    if (mask === null || mw >>> 16 !== 0) out.push(formatEthType(vw >>> 16, mask === null ? null : mw >>> 16));
    if (mask === null || (mw & 0xffff) !== 0) out.push(`vlan(${formatVlanTci(vw & 0xffff, mw & 0xffff)})`);
    const inner: string[] = [];
    formatLevel(key, mask, level + 1, inner);
    out.push(`encap(${inner.join(',')})`);
    return;
  }
  const et = key[W_ETH_TYPE];
  const em = mask === null ? 0xffff : mask[W_ETH_TYPE] & 0xffff;
  if (et === ETH_TYPE_NONE) {
    // 802.3 frames have no ethertype attribute; OVS shows only a mask on it.
    if (mask !== null && em !== 0) out.push(`eth_type(0/0x${em.toString(16).padStart(4, '0')})`);
    return;
  }
  if (em !== 0) out.push(formatEthType(et, mask === null ? null : em));
  formatL3(key, mask, out);
}

/**
 * A flow key (and optional megaflow mask) in `dpctl/dump-flows` form, e.g.
 * `recirc_id(0),in_port(1),eth(src=..,dst=..),eth_type(0x0800),ipv4(...)`.
 * Without a mask, skb_mark and dp_hash print only when non-zero.
 */
export function formatFlowKey(key: Uint32Array, mask?: Uint32Array | null): string {
  const m = mask ?? null;
  const out: string[] = [];
  const meta = (name: string, w: number, showUnmasked: boolean) => {
    if (m === null ? showUnmasked : m[w] !== 0) out.push(maskedU32(name, key[w], m === null ? null : m[w]));
  };
  meta('skb_mark', W_SKB_MARK, key[W_SKB_MARK] !== 0);
  meta('recirc_id', W_RECIRC_ID, true);
  meta('dp_hash', W_DP_HASH, key[W_DP_HASH] !== 0);
  if (m === null || m[W_IN_PORT] === 0xffffffff) out.push(`in_port(${key[W_IN_PORT]})`);
  else if (m[W_IN_PORT] !== 0) out.push(`in_port(${key[W_IN_PORT]}/${hexAlt(m[W_IN_PORT])})`);
  out.push(attrMaskState('eth', m) === 'zero' ? 'eth()' : `eth(${formatAttrFields('eth', key, m, false)})`);
  formatLevel(key, m, 0, out);
  return out.join(',');
}

// --- parsing --------------------------------------------------------------------------

/** A small cursor over ODP text shared by the key and action parsers. */
export class OdpCursor {
  pos = 0;
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string {
    return this.text[this.pos] ?? '';
  }

  eat(s: string): boolean {
    if (this.text.startsWith(s, this.pos)) {
      this.pos += s.length;
      return true;
    }
    return false;
  }

  expect(s: string): void {
    if (!this.eat(s)) {
      const got = this.done ? 'end of text' : `"${this.text.slice(this.pos, this.pos + 12)}"`;
      throw new OdpParseError('ODP_SYNTAX', `expected "${s}", found ${got}`, this.pos);
    }
  }

  /** An identifier: letters, digits, underscore. */
  name(): string {
    const m = /[A-Za-z_][A-Za-z0-9_]*/y;
    m.lastIndex = this.pos;
    const r = m.exec(this.text);
    if (!r) throw new OdpParseError('ODP_SYNTAX', `expected a name, found "${this.text.slice(this.pos, this.pos + 12)}"`, this.pos);
    this.pos += r[0].length;
    return r[0];
  }

  /** Raw text up to the next ',' or ')' (not consumed). */
  value(): string {
    const start = this.pos;
    while (this.pos < this.text.length && this.text[this.pos] !== ',' && this.text[this.pos] !== ')') this.pos++;
    if (this.pos === start) throw new OdpParseError('ODP_SYNTAX', 'expected a value', start);
    return this.text.slice(start, this.pos);
  }

  skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }
}

function setScalar(arr: Uint32Array, f: Field, v: number): void {
  const bits = f.bits! << f.shift!;
  arr[f.word] = (arr[f.word] & ~bits) | ((v & f.bits!) << f.shift!);
}

function parseFieldValue(f: Field, text: string, pos: number, arr: Uint32Array, isMask: boolean): void {
  switch (f.kind) {
    case 'mac': {
      const [hi, lo] = parseMac(text, pos);
      arr[f.word] = hi;
      arr[f.word2!] = lo;
      return;
    }
    case 'ip4':
      arr[f.word] = parseIp4(text, pos);
      return;
    case 'ip6': {
      const w = parseIp6(text, pos);
      for (let i = 0; i < 4; i++) arr[f.word + i] = w[i];
      return;
    }
    case 'frag': {
      if (isMask) {
        setScalar(arr, f, parseNum(text, pos, 0xff, 'frag mask') === 0 ? 0 : f.bits!);
        return;
      }
      const v = text === 'no' ? 0 : text === 'first' ? FRAG_ANY : text === 'later' ? FRAG_ANY | FRAG_LATER : bad('frag', text, pos);
      setScalar(arr, f, v);
      return;
    }
    default: {
      const v = parseNum(text, pos, f.bits!, `${f.name}`);
      setScalar(arr, f, v);
    }
  }
}

function setFullMask(f: Field, mask: Uint32Array): void {
  switch (f.kind) {
    case 'mac':
      mask[f.word] = 0xffff;
      mask[f.word2!] = 0xffffffff;
      return;
    case 'ip4':
      mask[f.word] = 0xffffffff;
      return;
    case 'ip6':
      for (let i = 0; i < 4; i++) mask[f.word + i] = 0xffffffff;
      return;
    default:
      setScalar(mask, f, f.bits!);
  }
}

/**
 * Parse `field=value[/mask],...)` of attribute `attr` into key/mask (the
 * closing parenthesis is consumed). Fields not named keep mask 0.
 */
export function parseAttrFields(c: OdpCursor, attr: string, key: Uint32Array, mask: Uint32Array): void {
  const fields = ATTR_FIELDS[attr];
  if (c.eat(')')) return;
  for (;;) {
    const at = c.pos;
    const name = c.name();
    const f = fields.find((g) => g.name === name);
    if (!f) throw new OdpParseError('ODP_UNKNOWN_FIELD', `${attr}: unknown field "${name}"`, at);
    c.expect('=');
    const vpos = c.pos;
    const raw = c.value();
    const slash = raw.indexOf('/');
    if (slash < 0) {
      parseFieldValue(f, raw, vpos, key, false);
      setFullMask(f, mask);
    } else {
      parseFieldValue(f, raw.slice(0, slash), vpos, key, false);
      parseFieldValue(f, raw.slice(slash + 1), vpos + slash + 1, mask, true);
    }
    if (c.eat(')')) return;
    c.expect(',');
  }
}

export function valueAndMask(c: OdpCursor, max: number, what: string): [number, number] {
  const pos = c.pos;
  const raw = c.value();
  const slash = raw.indexOf('/');
  if (slash < 0) return [parseNum(raw, pos, max, what), max];
  return [parseNum(raw.slice(0, slash), pos, max, what), parseNum(raw.slice(slash + 1), pos + slash + 1, max, `${what} mask`)];
}

interface Level {
  ethType: number | null;
  ethTypeMask: number;
  vlan: [number, number] | null;
}

function parseVlan(c: OdpCursor): [number, number] {
  let vid = 0;
  let vidM = 0;
  let pcp = 0;
  let pcpM = 0;
  let cfi = 1;
  if (!c.eat(')')) {
    for (;;) {
      const at = c.pos;
      const name = c.name();
      c.expect('=');
      if (name === 'vid') [vid, vidM] = valueAndMask(c, 0xfff, 'vid');
      else if (name === 'pcp') [pcp, pcpM] = valueAndMask(c, 7, 'pcp');
      else if (name === 'cfi') cfi = valueAndMask(c, 1, 'cfi')[0];
      else throw new OdpParseError('ODP_UNKNOWN_FIELD', `vlan: unknown field "${name}"`, at);
      if (c.eat(')')) break;
      c.expect(',');
    }
  }
  return [vid | (pcp << 13) | (cfi ? VLAN_CFI : 0), vidM | (pcpM << 13) | VLAN_CFI];
}

export function parseMplsAttr(c: OdpCursor, key: Uint32Array, mask: Uint32Array): void {
  let i = -1;
  const at0 = c.pos;
  for (;;) {
    const at = c.pos;
    const name = c.name();
    c.expect('=');
    const [v, m] =
      name === 'label'
        ? valueAndMask(c, 0xfffff, 'label')
        : name === 'tc'
          ? valueAndMask(c, 7, 'tc')
          : name === 'ttl'
            ? valueAndMask(c, 0xff, 'ttl')
            : name === 'bos'
              ? valueAndMask(c, 1, 'bos')
              : (() => {
                  throw new OdpParseError('ODP_UNKNOWN_FIELD', `mpls: unknown field "${name}"`, at);
                })();
    if (name === 'label') {
      i++;
      if (i >= 3) throw new OdpParseError('ODP_UNSUPPORTED', 'mpls: more than 3 label stack entries', at);
    } else if (i < 0) throw new OdpParseError('ODP_SYNTAX', 'mpls: each entry starts with label=', at0);
    const w = W_MPLS0 + i;
    const [shift, width] = name === 'label' ? [12, 0xfffff] : name === 'tc' ? [9, 7] : name === 'ttl' ? [0, 0xff] : [8, 1];
    key[w] = (key[w] & ~(width << shift)) | ((v & width) << shift);
    mask[w] = (mask[w] & ~(width << shift)) | ((m & width) << shift);
    if (c.eat(')')) return;
    c.expect(',');
  }
}

function parseLevel(c: OdpCursor, key: Uint32Array, mask: Uint32Array, level: number, top: boolean): void {
  const lv: Level = { ethType: null, ethTypeMask: 0, vlan: null };
  let first = true;
  for (;;) {
    c.skipSpace();
    if (top ? c.done : c.peek() === ')') break;
    if (!first) {
      c.expect(',');
      c.skipSpace();
    }
    first = false;
    const at = c.pos;
    const name = c.name();
    c.expect('(');
    switch (name) {
      case 'recirc_id':
      case 'dp_hash':
      case 'skb_mark':
      case 'in_port': {
        if (!top) throw new OdpParseError('ODP_SYNTAX', `${name} is not allowed inside encap()`, at);
        const w = name === 'recirc_id' ? W_RECIRC_ID : name === 'dp_hash' ? W_DP_HASH : name === 'skb_mark' ? W_SKB_MARK : W_IN_PORT;
        const [v, m] = valueAndMask(c, 0xffffffff, name);
        key[w] = v;
        mask[w] = m;
        c.expect(')');
        break;
      }
      case 'eth':
        parseAttrFields(c, 'eth', key, mask);
        break;
      case 'packet_type': {
        // The userspace datapath's explicit root type; tsvs keys are always Ethernet.
        const pos = c.pos;
        if (!top || !c.eat('ns=0,id=0)')) throw new OdpParseError('ODP_UNSUPPORTED', 'only packet_type(ns=0,id=0) (Ethernet) is supported', pos);
        break;
      }
      case 'eth_type': {
        [lv.ethType, lv.ethTypeMask] = valueAndMask(c, 0xffff, 'eth_type');
        c.expect(')');
        break;
      }
      case 'vlan':
        if (level >= 2) throw new OdpParseError('ODP_UNSUPPORTED', 'more than two VLAN tags', at);
        lv.vlan = parseVlan(c);
        break;
      case 'encap':
        if (lv.vlan === null && lv.ethType === null) throw new OdpParseError('ODP_SYNTAX', 'encap() without eth_type/vlan before it', at);
        if (level >= 2) throw new OdpParseError('ODP_UNSUPPORTED', 'more than two VLAN tags', at);
        // A tag whose TCI is fully wildcarded prints no vlan(); it is still a tag.
        if (lv.vlan === null) lv.vlan = [VLAN_CFI, 0];
        parseLevel(c, key, mask, level + 1, false);
        c.expect(')');
        break;
      case 'tcp_flags': {
        const pos = c.pos;
        const [f, m] = parseTcpFlags(c.value(), pos);
        key[W_TCP_FLAGS] = f;
        mask[W_TCP_FLAGS] = m;
        c.expect(')');
        break;
      }
      case 'mpls':
        parseMplsAttr(c, key, mask);
        break;
      default:
        if (!ATTR_FIELDS[name]) throw new OdpParseError('ODP_UNKNOWN_ATTR', `unknown or unsupported key attribute "${name}"`, at);
        parseAttrFields(c, name, key, mask);
    }
  }
  if (lv.vlan !== null) {
    const tpid = lv.ethType ?? 0;
    key[W_VLAN0 + level] = ((tpid << 16) | lv.vlan[0]) >>> 0;
    mask[W_VLAN0 + level] = ((lv.ethTypeMask << 16) | lv.vlan[1]) >>> 0;
  } else if (lv.ethType !== null && lv.ethType !== 0) {
    key[W_ETH_TYPE] = lv.ethType;
    mask[W_ETH_TYPE] = lv.ethTypeMask;
  } else {
    // No ethertype (or OVS's `eth_type(0/mask)`): an 802.3 frame, as OVS's
    // parse_ethertype() reads it.
    key[W_ETH_TYPE] = ETH_TYPE_NONE;
    mask[W_ETH_TYPE] = lv.ethTypeMask;
  }
}

/**
 * Parse a key in dpctl form into a key and a mask. Fields given without
 * `/mask` are exact; fields and attributes not mentioned are wildcarded.
 */
export function parseFlowKey(text: string): { key: Uint32Array; mask: Uint32Array } {
  const key = new Uint32Array(KEY_WORDS);
  const mask = new Uint32Array(KEY_WORDS);
  const c = new OdpCursor(text.trim());
  parseLevel(c, key, mask, 0, true);
  return { key, mask };
}
