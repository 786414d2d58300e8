// OXM TLVs (OpenFlow 1.3.5 7.2.3): the OpenFlow basic class fields 0-39 with
// their widths, masks and prerequisites; every other class (OVS's NXM_0/NXM_1,
// experimenter 0xffff) is carried opaque so it round-trips untouched.
import { OFPBMC, OFPET, OFPVID, OFPXMC, OFPXMT } from './constants.js';
import { OfpError } from './errors.js';
import { WireReader, WireWriter } from './wire.js';

/**
 * A basic field's value: widths 1-4 bytes are numbers, 8 bytes (METADATA,
 * TUNNEL_ID) bigints, 6 and 16 bytes (MAC, IPv6 addresses) Buffers.
 */
export type OxmValue = number | bigint | Buffer;

export interface OxmBasic {
  kind: 'basic';
  field: number;
  value: OxmValue;
  /** Present only for a masked (hasmask=1) TLV. */
  mask?: OxmValue;
}

/** A TLV of any other class, kept as it was on the wire. */
export interface OxmOpaque {
  kind: 'opaque';
  oxmClass: number;
  field: number;
  hasMask: boolean;
  /** The payload after the 4-byte header (for class 0xffff it starts with the experimenter id). */
  body: Buffer;
}

export type Oxm = OxmBasic | OxmOpaque;

type ValueKind = 'num' | 'big' | 'buf';

export interface OxmFieldInfo {
  field: number;
  /** ovs-ofctl style name, e.g. 'tcp_src'. */
  name: string;
  widthBytes: number;
  /** Significant bits of the value; more are OFPBMC_BAD_VALUE. */
  bits: number;
  maskable: boolean;
}

// Maskability follows the spec's table 12, plus the L4 ports and ND fields,
// which Open vSwitch accepts and emits masked in OpenFlow 1.2+ (a switch that
// talks to ovs-ofctl must accept what ovs-ofctl sends).
const F = (field: number, name: string, widthBytes: number, bits: number, maskable: boolean): OxmFieldInfo => ({
  field,
  name,
  widthBytes,
  bits,
  maskable,
});
export const OXM_FIELDS: readonly OxmFieldInfo[] = [
  F(OFPXMT.IN_PORT, 'in_port', 4, 32, false),
  F(OFPXMT.IN_PHY_PORT, 'in_phy_port', 4, 32, false),
  F(OFPXMT.METADATA, 'metadata', 8, 64, true),
  F(OFPXMT.ETH_DST, 'eth_dst', 6, 48, true),
  F(OFPXMT.ETH_SRC, 'eth_src', 6, 48, true),
  F(OFPXMT.ETH_TYPE, 'eth_type', 2, 16, false),
  F(OFPXMT.VLAN_VID, 'vlan_vid', 2, 13, true),
  F(OFPXMT.VLAN_PCP, 'vlan_pcp', 1, 3, false),
  F(OFPXMT.IP_DSCP, 'ip_dscp', 1, 6, false),
  F(OFPXMT.IP_ECN, 'ip_ecn', 1, 2, false),
  F(OFPXMT.IP_PROTO, 'ip_proto', 1, 8, false),
  F(OFPXMT.IPV4_SRC, 'ipv4_src', 4, 32, true),
  F(OFPXMT.IPV4_DST, 'ipv4_dst', 4, 32, true),
  F(OFPXMT.TCP_SRC, 'tcp_src', 2, 16, true),
  F(OFPXMT.TCP_DST, 'tcp_dst', 2, 16, true),
  F(OFPXMT.UDP_SRC, 'udp_src', 2, 16, true),
  F(OFPXMT.UDP_DST, 'udp_dst', 2, 16, true),
  F(OFPXMT.SCTP_SRC, 'sctp_src', 2, 16, true),
  F(OFPXMT.SCTP_DST, 'sctp_dst', 2, 16, true),
  F(OFPXMT.ICMPV4_TYPE, 'icmpv4_type', 1, 8, false),
  F(OFPXMT.ICMPV4_CODE, 'icmpv4_code', 1, 8, false),
  F(OFPXMT.ARP_OP, 'arp_op', 2, 16, false),
  F(OFPXMT.ARP_SPA, 'arp_spa', 4, 32, true),
  F(OFPXMT.ARP_TPA, 'arp_tpa', 4, 32, true),
  F(OFPXMT.ARP_SHA, 'arp_sha', 6, 48, true),
  F(OFPXMT.ARP_THA, 'arp_tha', 6, 48, true),
  F(OFPXMT.IPV6_SRC, 'ipv6_src', 16, 128, true),
  F(OFPXMT.IPV6_DST, 'ipv6_dst', 16, 128, true),
  F(OFPXMT.IPV6_FLABEL, 'ipv6_flabel', 4, 20, true),
  F(OFPXMT.ICMPV6_TYPE, 'icmpv6_type', 1, 8, false),
  F(OFPXMT.ICMPV6_CODE, 'icmpv6_code', 1, 8, false),
  F(OFPXMT.IPV6_ND_TARGET, 'ipv6_nd_target', 16, 128, true),
  F(OFPXMT.IPV6_ND_SLL, 'ipv6_nd_sll', 6, 48, true),
  F(OFPXMT.IPV6_ND_TLL, 'ipv6_nd_tll', 6, 48, true),
  F(OFPXMT.MPLS_LABEL, 'mpls_label', 4, 20, false),
  F(OFPXMT.MPLS_TC, 'mpls_tc', 1, 3, false),
  F(OFPXMT.MPLS_BOS, 'mpls_bos', 1, 1, false),
  F(OFPXMT.PBB_ISID, 'pbb_isid', 3, 24, true),
  F(OFPXMT.TUNNEL_ID, 'tunnel_id', 8, 64, true),
  F(OFPXMT.IPV6_EXTHDR, 'ipv6_exthdr', 2, 9, true),
];

export function oxmFieldInfo(field: number): OxmFieldInfo | undefined {
  return OXM_FIELDS[field];
}

const BY_NAME = new Map(OXM_FIELDS.map((f) => [f.name, f]));

/** A basic field by its OXM name ('tcp_src'), for the text syntax. */
export function oxmFieldByName(name: string): OxmFieldInfo | undefined {
  return BY_NAME.get(name);
}

function valueKind(widthBytes: number): ValueKind {
  if (widthBytes <= 4) return 'num';
  if (widthBytes === 8) return 'big';
  return 'buf';
}

function matchErr(code: number, message: string): OfpError {
  return new OfpError(OFPET.BAD_MATCH, code, message);
}

function readValue(r: WireReader, width: number, what: string): OxmValue {
  switch (valueKind(width)) {
    case 'num':
      if (width === 1) return r.u8(what);
      if (width === 2) return r.u16(what);
      if (width === 4) return r.u32(what);
      return r.u8(what) * 0x10000 + r.u16(what); // PBB_ISID, 3 bytes
    case 'big':
      return r.u64(what);
    default:
      return Buffer.from(r.bytes(width, what));
  }
}

const UINT_MAX = [0, 0xff, 0xffff, 0xffffff, 0xffffffff];

function writeValue(w: WireWriter, info: OxmFieldInfo, v: OxmValue, what: string): void {
  const width = info.widthBytes;
  switch (valueKind(width)) {
    case 'num': {
      if (typeof v !== 'number' || !(v >= 0 && v <= UINT_MAX[width]!) || v % 1 !== 0) {
        throw matchErr(OFPBMC.BAD_VALUE, `${info.name} ${what}: expected an integer of ${width} bytes`);
      }
      if (width === 1) w.u8(v);
      else if (width === 2) w.u16(v);
      else if (width === 4) w.u32(v);
      else w.u8(v >>> 16).u16(v & 0xffff); // PBB_ISID, 3 bytes
      return;
    }
    case 'big':
      if (typeof v !== 'bigint' || v < 0n || v >= 1n << 64n) {
        throw matchErr(OFPBMC.BAD_VALUE, `${info.name} ${what}: expected a 64-bit bigint`);
      }
      w.u64(v);
      return;
    default:
      if (!Buffer.isBuffer(v) || v.length !== width) {
        throw matchErr(OFPBMC.BAD_VALUE, `${info.name} ${what}: expected a Buffer of ${width} bytes`);
      }
      w.bytes(v);
  }
}

/** True if `v` has bits set above `bits` (the field's significant width). */
function exceedsBits(v: OxmValue, bits: number, widthBytes: number): boolean {
  if (bits >= widthBytes * 8) return false;
  if (typeof v === 'number') return v >= 2 ** bits;
  if (typeof v === 'bigint') return v >= 1n << BigInt(bits);
  return false;
}

/** True if value has a 1-bit where mask has a 0-bit. */
function valueOutsideMask(v: OxmValue, m: OxmValue): boolean {
  if (typeof v === 'number' && typeof m === 'number') {
    // Widths up to 4 bytes: do it on 32-bit unsigned integers.
    return ((v >>> 0) & ~(m >>> 0)) >>> 0 !== 0;
  }
  if (typeof v === 'bigint' && typeof m === 'bigint') return (v & ~m) !== 0n;
  if (Buffer.isBuffer(v) && Buffer.isBuffer(m)) {
    for (let i = 0; i < v.length; i++) if ((v[i]! & ~m[i]!) !== 0) return true;
  }
  return false;
}

/**
 * Decodes one OXM TLV at the reader. Basic-class TLVs are checked for a known
 * field, length, maskability, value range and value-outside-mask bits.
 */
export function decodeOxm(r: WireReader): Oxm {
  const header = r.u32('oxm header');
  const oxmClass = header >>> 16;
  const field = (header >>> 9) & 0x7f;
  const hasMask = (header & 0x100) !== 0;
  const length = header & 0xff;
  if (oxmClass !== OFPXMC.OPENFLOW_BASIC) {
    if (oxmClass === OFPXMC.EXPERIMENTER && length < 4) {
      throw matchErr(OFPBMC.BAD_LEN, `experimenter OXM field ${field}: length ${length} < 4`);
    }
    const body = Buffer.from(r.bytes(length, `oxm class 0x${oxmClass.toString(16)} field ${field} payload`));
    return { kind: 'opaque', oxmClass, field, hasMask, body };
  }
  const info = OXM_FIELDS[field];
  if (!info) throw matchErr(OFPBMC.BAD_FIELD, `unknown OpenFlow basic OXM field ${field}`);
  const want = info.widthBytes * (hasMask ? 2 : 1);
  if (length !== want) {
    throw matchErr(OFPBMC.BAD_LEN, `${info.name}: OXM length ${length}, expected ${want}`);
  }
  const value = readValue(r, info.widthBytes, `${info.name} value`);
  const mask = hasMask ? readValue(r, info.widthBytes, `${info.name} mask`) : undefined;
  checkBasicValue(info, value, mask);
  return mask === undefined ? { kind: 'basic', field, value } : { kind: 'basic', field, value, mask };
}

// Checked in Open vSwitch's order: value outside mask, then the mask, then the value.
function checkBasicValue(info: OxmFieldInfo, value: OxmValue, mask: OxmValue | undefined): void {
  if (mask !== undefined) {
    if (valueOutsideMask(value, mask)) {
      throw matchErr(OFPBMC.BAD_WILDCARDS, `${info.name}: value has bits set outside its mask`);
    }
    // Mask bits above the field's width are harmless and OVS accepts them.
    if (!info.maskable) throw matchErr(OFPBMC.BAD_MASK, `${info.name} cannot be masked`);
  }
  if (exceedsBits(value, info.bits, info.widthBytes)) {
    throw matchErr(OFPBMC.BAD_VALUE, `${info.name}: value ${String(value)} exceeds ${info.bits} bits`);
  }
}

export function encodeOxm(w: WireWriter, oxm: Oxm): void {
  if (oxm.kind === 'opaque') {
    if (oxm.body.length > 0xff) throw matchErr(OFPBMC.BAD_LEN, `opaque OXM payload of ${oxm.body.length} bytes`);
    w.u32(((oxm.oxmClass << 16) | (oxm.field << 9) | (oxm.hasMask ? 0x100 : 0) | oxm.body.length) >>> 0);
    w.bytes(oxm.body);
    return;
  }
  const info = OXM_FIELDS[oxm.field];
  if (!info) throw matchErr(OFPBMC.BAD_FIELD, `unknown OpenFlow basic OXM field ${oxm.field}`);
  const hasMask = oxm.mask !== undefined;
  const length = info.widthBytes * (hasMask ? 2 : 1);
  w.u32(((OFPXMC.OPENFLOW_BASIC << 16) | (oxm.field << 9) | (hasMask ? 0x100 : 0) | length) >>> 0);
  writeValue(w, info, oxm.value, 'value');
  if (hasMask) writeValue(w, info, oxm.mask!, 'mask');
}

/** Encoded size of one TLV including its 4-byte header. */
export function oxmLength(oxm: Oxm): number {
  if (oxm.kind === 'opaque') return 4 + oxm.body.length;
  const info = OXM_FIELDS[oxm.field];
  return 4 + (info ? info.widthBytes : 0) * (oxm.mask !== undefined ? 2 : 1);
}

/** Builds a basic TLV: `oxm(OFPXMT.TCP_DST, 80)`. */
export function oxm(field: number, value: OxmValue, mask?: OxmValue): OxmBasic {
  return mask === undefined ? { kind: 'basic', field, value } : { kind: 'basic', field, value, mask };
}

// --- prerequisites (7.2.3.6, table 12) ---------------------------------------

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_ARP = 0x0806;
const ETH_MPLS = [0x8847, 0x8848];
const ETH_PBB = 0x88e7;

type Prereq = { field: number; values: readonly number[] } | 'vlan-present';

const X = OFPXMT;
const ip: Prereq = { field: X.ETH_TYPE, values: [ETH_IPV4, ETH_IPV6] };
const PREREQS: Readonly<Record<number, Prereq>> = {
  [X.IN_PHY_PORT]: { field: X.IN_PORT, values: [] },
  [X.VLAN_PCP]: 'vlan-present',
  [X.IP_DSCP]: ip,
  [X.IP_ECN]: ip,
  [X.IP_PROTO]: ip,
  [X.IPV4_SRC]: { field: X.ETH_TYPE, values: [ETH_IPV4] },
  [X.IPV4_DST]: { field: X.ETH_TYPE, values: [ETH_IPV4] },
  [X.TCP_SRC]: { field: X.IP_PROTO, values: [6] },
  [X.TCP_DST]: { field: X.IP_PROTO, values: [6] },
  [X.UDP_SRC]: { field: X.IP_PROTO, values: [17] },
  [X.UDP_DST]: { field: X.IP_PROTO, values: [17] },
  [X.SCTP_SRC]: { field: X.IP_PROTO, values: [132] },
  [X.SCTP_DST]: { field: X.IP_PROTO, values: [132] },
  [X.ICMPV4_TYPE]: { field: X.IP_PROTO, values: [1] },
  [X.ICMPV4_CODE]: { field: X.IP_PROTO, values: [1] },
  [X.ARP_OP]: { field: X.ETH_TYPE, values: [ETH_ARP] },
  [X.ARP_SPA]: { field: X.ETH_TYPE, values: [ETH_ARP] },
  [X.ARP_TPA]: { field: X.ETH_TYPE, values: [ETH_ARP] },
  [X.ARP_SHA]: { field: X.ETH_TYPE, values: [ETH_ARP] },
  [X.ARP_THA]: { field: X.ETH_TYPE, values: [ETH_ARP] },
  [X.IPV6_SRC]: { field: X.ETH_TYPE, values: [ETH_IPV6] },
  [X.IPV6_DST]: { field: X.ETH_TYPE, values: [ETH_IPV6] },
  [X.IPV6_FLABEL]: { field: X.ETH_TYPE, values: [ETH_IPV6] },
  [X.ICMPV6_TYPE]: { field: X.IP_PROTO, values: [58] },
  [X.ICMPV6_CODE]: { field: X.IP_PROTO, values: [58] },
  [X.IPV6_ND_TARGET]: { field: X.ICMPV6_TYPE, values: [135, 136] },
  [X.IPV6_ND_SLL]: { field: X.ICMPV6_TYPE, values: [135] },
  [X.IPV6_ND_TLL]: { field: X.ICMPV6_TYPE, values: [136] },
  [X.MPLS_LABEL]: { field: X.ETH_TYPE, values: ETH_MPLS },
  [X.MPLS_TC]: { field: X.ETH_TYPE, values: ETH_MPLS },
  [X.MPLS_BOS]: { field: X.ETH_TYPE, values: ETH_MPLS },
  [X.PBB_ISID]: { field: X.ETH_TYPE, values: [ETH_PBB] },
  [X.IPV6_EXTHDR]: { field: X.ETH_TYPE, values: [ETH_IPV6] },
};

/**
 * Checks a list of TLVs as one match: no basic field twice
 * (OFPBMC_DUP_FIELD) and every field's prerequisite present as an exact match
 * with an allowed value (OFPBMC_BAD_PREREQ). Order does not matter here,
 * which is more lenient than OVS (which wants the prerequisite first).
 */
export function checkOxmList(fields: readonly Oxm[]): void {
  const seen: Array<OxmBasic | undefined> = new Array<OxmBasic | undefined>(OXM_FIELDS.length);
  let opaque: Set<string> | undefined;
  for (const f of fields) {
    if (f.kind === 'opaque') {
      opaque ??= new Set<string>();
      // Same class+field twice is a duplicate too (experimenter: also same id).
      const key = `${f.oxmClass}:${f.field}:${f.oxmClass === OFPXMC.EXPERIMENTER && f.body.length >= 4 ? f.body.readUInt32BE(0) : 0}`;
      if (opaque.has(key)) throw matchErr(OFPBMC.DUP_FIELD, `OXM class 0x${f.oxmClass.toString(16)} field ${f.field} appears twice`);
      opaque.add(key);
      continue;
    }
    if (seen[f.field] !== undefined) throw matchErr(OFPBMC.DUP_FIELD, `${OXM_FIELDS[f.field]?.name ?? f.field} appears twice`);
    seen[f.field] = f;
  }
  for (const f of seen) {
    if (f === undefined) continue;
    const p = PREREQS[f.field];
    if (!p) continue;
    const name = OXM_FIELDS[f.field]?.name ?? String(f.field);
    if (p === 'vlan-present') {
      const vid = seen[X.VLAN_VID];
      if (!vid || typeof vid.value !== 'number' || (vid.value & OFPVID.PRESENT) === 0) {
        throw matchErr(OFPBMC.BAD_PREREQ, `${name} needs vlan_vid with OFPVID_PRESENT`);
      }
      continue;
    }
    const dep = seen[p.field];
    const depName = OXM_FIELDS[p.field]!.name;
    if (!dep || dep.mask !== undefined) throw matchErr(OFPBMC.BAD_PREREQ, `${name} needs an exact ${depName}`);
    if (p.values.length > 0 && !p.values.includes(dep.value as number)) {
      const want = p.values.map((v) => `0x${v.toString(16)}`).join(' or ');
      throw matchErr(OFPBMC.BAD_PREREQ, `${name} needs ${depName} ${want}, match has 0x${(dep.value as number).toString(16)}`);
    }
  }
}

// --- OXM ids (headers without payload, as in table-feature properties) -------

/** An OXM header as listed in table features; experimenter ids carry their id. */
export interface OxmId {
  /** The 32-bit OXM header (class, field, hasmask, length). */
  header: number;
  experimenter?: number;
}

export function decodeOxmId(r: WireReader): OxmId {
  const header = r.u32('oxm id');
  if (header >>> 16 === OFPXMC.EXPERIMENTER) return { header, experimenter: r.u32('oxm id experimenter') };
  return { header };
}

export function encodeOxmId(w: WireWriter, id: OxmId): void {
  w.u32(id.header >>> 0);
  if (id.header >>> 16 === OFPXMC.EXPERIMENTER) w.u32(id.experimenter ?? 0);
}

/** The OXM header of a basic field. */
export function oxmHeader(field: number, hasMask = false): number {
  const info = OXM_FIELDS[field];
  const len = (info ? info.widthBytes : 0) * (hasMask ? 2 : 1);
  return ((OFPXMC.OPENFLOW_BASIC << 16) | (field << 9) | (hasMask ? 0x100 : 0) | len) >>> 0;
}
