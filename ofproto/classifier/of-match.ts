// The "OF flow": what an OpenFlow rule matches on. Its first KEY_WORDS words
// are the datapath flow key layout (datapath/flow/key.ts), so a packet's
// extracted key is copied in unchanged; the extra words hold the pipeline
// fields the datapath key lacks. Masks use the same layout. ofMatchFromOxm()
// turns an OXM list into a normalized value+mask pair over this layout.
//
//   0..35  datapath key words (W_IN_PORT holds the *datapath* port number)
//   36,37  metadata (OXM METADATA) high / low 32 bits
//   38,39  tunnel_id high / low 32 bits (always 0 until tunnels exist)
//   40     OpenFlow in_port (OXM IN_PORT / IN_PHY_PORT)
//
// Datapath masks: the OpenFlow in_port maps 1:1 onto the datapath port, so a
// rule that consults word 40 makes the megaflow match word 0. Metadata and
// tunnel_id start at 0 for every packet and only change through
// instructions, so they never need a datapath mask bit (dpMaskOf()).

import { KEY_WORDS, MASK_IPV6_EXTHDR, SHIFT_IPV6_EXTHDR, W_ARP_SHA_HI, W_ARP_SHA_LO, W_ARP_THA_HI, W_ARP_THA_LO, W_ETH_DST_HI, W_ETH_DST_LO, W_ETH_SRC_HI, W_ETH_SRC_LO, W_ETH_TYPE, W_IN_PORT, W_IPV6_LABEL, W_MPLS0, W_ND_TARGET, W_NW_DST, W_NW_PROTO_TOS_TTL_FRAG, W_NW_SRC, W_PBB_ITAG, W_TP_PORTS, W_VLAN0 } from '../../datapath/flow/key.js';
import { OFPBMC, OFPET, OFPVID, OFPXMT } from '../openflow/constants.js';
import { OfpError } from '../openflow/errors.js';
import type { Match } from '../openflow/match.js';
import { oxm, type OxmBasic } from '../openflow/oxm.js';

export const W_OF_METADATA_HI = 36;
export const W_OF_METADATA_LO = 37;
export const W_OF_TUNNEL_HI = 38;
export const W_OF_TUNNEL_LO = 39;
export const W_OF_IN_PORT = 40;
/** Words of one OF flow (and one OF mask). */
export const OF_WORDS = 41;

export function newOfFlow(): Uint32Array {
  return new Uint32Array(OF_WORDS);
}

// Match words come out of shared slabs: a 164-byte Uint32Array of its own
// would get an off-heap backing store each (V8 keeps only <= 64 bytes on the
// heap), which costs an allocation and GC work per FLOW_MOD. A slab lives
// while any of its views does.
const SLAB_WORDS = OF_WORDS * 256;
let slab = new Uint32Array(SLAB_WORDS);
let slabUsed = 0;
function slabOfWords(): Uint32Array {
  if (slabUsed + OF_WORDS > SLAB_WORDS) {
    slab = new Uint32Array(SLAB_WORDS);
    slabUsed = 0;
  }
  const v = slab.subarray(slabUsed, slabUsed + OF_WORDS);
  slabUsed += OF_WORDS;
  return v;
}

/** Normalized match: value is always value & mask. */
export interface OfMatch {
  value: Uint32Array;
  mask: Uint32Array;
}

/** One OXM field's place in the OF flow: (word, shift, field mask) per 32-bit piece, most significant first. */
interface Piece {
  word: number;
  /** Bits of the word this piece covers (already shifted into place). */
  bits: number;
  shift: number;
}
const P = (word: number, bits: number, shift = 0): Piece => ({ word, bits: bits >>> 0, shift });
const X = OFPXMT;

/** Fields with a datapath representation, as pieces. 48-bit MACs: hi 16 bits then lo 32. */
const LAYOUT: Readonly<Record<number, readonly Piece[]>> = {
  [X.IN_PORT]: [P(W_OF_IN_PORT, 0xffffffff)],
  [X.IN_PHY_PORT]: [P(W_OF_IN_PORT, 0xffffffff)],
  [X.METADATA]: [P(W_OF_METADATA_HI, 0xffffffff), P(W_OF_METADATA_LO, 0xffffffff)],
  [X.ETH_DST]: [P(W_ETH_DST_HI, 0xffff), P(W_ETH_DST_LO, 0xffffffff)],
  [X.ETH_SRC]: [P(W_ETH_SRC_HI, 0xffff), P(W_ETH_SRC_LO, 0xffffffff)],
  [X.ETH_TYPE]: [P(W_ETH_TYPE, 0xffff)],
  // OF's vlan_vid (OFPVID_PRESENT | vid) is exactly the key's TCI bits 0x1fff (CFI = present).
  [X.VLAN_VID]: [P(W_VLAN0, 0x1fff)],
  [X.VLAN_PCP]: [P(W_VLAN0, 0xe000, 13)],
  [X.IP_DSCP]: [P(W_NW_PROTO_TOS_TTL_FRAG, 0x00fc0000, 18)],
  [X.IP_ECN]: [P(W_NW_PROTO_TOS_TTL_FRAG, 0x00030000, 16)],
  [X.IP_PROTO]: [P(W_NW_PROTO_TOS_TTL_FRAG, 0xff000000, 24)],
  [X.IPV4_SRC]: [P(W_NW_SRC, 0xffffffff)],
  [X.IPV4_DST]: [P(W_NW_DST, 0xffffffff)],
  [X.TCP_SRC]: [P(W_TP_PORTS, 0xffff0000, 16)],
  [X.TCP_DST]: [P(W_TP_PORTS, 0xffff)],
  [X.UDP_SRC]: [P(W_TP_PORTS, 0xffff0000, 16)],
  [X.UDP_DST]: [P(W_TP_PORTS, 0xffff)],
  [X.SCTP_SRC]: [P(W_TP_PORTS, 0xffff0000, 16)],
  [X.SCTP_DST]: [P(W_TP_PORTS, 0xffff)],
  [X.ICMPV4_TYPE]: [P(W_TP_PORTS, 0x00ff0000, 16)],
  [X.ICMPV4_CODE]: [P(W_TP_PORTS, 0xff)],
  // The key keeps the ARP opcode in nw_proto's byte (as OVS): opcodes above 255 cannot match.
  [X.ARP_OP]: [P(W_NW_PROTO_TOS_TTL_FRAG, 0xff000000, 24)],
  [X.ARP_SPA]: [P(W_NW_SRC, 0xffffffff)],
  [X.ARP_TPA]: [P(W_NW_DST, 0xffffffff)],
  [X.ARP_SHA]: [P(W_ARP_SHA_HI, 0xffff), P(W_ARP_SHA_LO, 0xffffffff)],
  [X.ARP_THA]: [P(W_ARP_THA_HI, 0xffff), P(W_ARP_THA_LO, 0xffffffff)],
  [X.IPV6_SRC]: [0, 1, 2, 3].map((i) => P(W_NW_SRC + i, 0xffffffff)),
  [X.IPV6_DST]: [0, 1, 2, 3].map((i) => P(W_NW_DST + i, 0xffffffff)),
  [X.IPV6_FLABEL]: [P(W_IPV6_LABEL, 0xfffff)],
  [X.IPV6_EXTHDR]: [P(W_IPV6_LABEL, MASK_IPV6_EXTHDR, SHIFT_IPV6_EXTHDR)],
  [X.ICMPV6_TYPE]: [P(W_TP_PORTS, 0x00ff0000, 16)],
  [X.ICMPV6_CODE]: [P(W_TP_PORTS, 0xff)],
  [X.IPV6_ND_TARGET]: [0, 1, 2, 3].map((i) => P(W_ND_TARGET + i, 0xffffffff)),
  [X.IPV6_ND_SLL]: [P(W_ARP_SHA_HI, 0xffff), P(W_ARP_SHA_LO, 0xffffffff)],
  [X.IPV6_ND_TLL]: [P(W_ARP_THA_HI, 0xffff), P(W_ARP_THA_LO, 0xffffffff)],
  [X.MPLS_LABEL]: [P(W_MPLS0, 0xfffff000, 12)],
  [X.MPLS_TC]: [P(W_MPLS0, 0xe00, 9)],
  [X.MPLS_BOS]: [P(W_MPLS0, 0x100, 8)],
  // Only with eth_type=0x88e7 (its prerequisite), where the key's label word holds the I-TAG.
  [X.PBB_ISID]: [P(W_PBB_ITAG, 0x00ffffff)],
  [X.TUNNEL_ID]: [P(W_OF_TUNNEL_HI, 0xffffffff), P(W_OF_TUNNEL_LO, 0xffffffff)],
};

/** The OF-flow pieces of a basic OXM field, or undefined if tsvs cannot match/set it. */
export function fieldPieces(field: number): readonly Piece[] | undefined {
  return LAYOUT[field];
}

/** Split an OXM value into 32-bit words, most significant first, as many as the field has pieces. */
export function valueWords(field: number, v: number | bigint | Buffer): number[] {
  const n = LAYOUT[field]!.length;
  if (typeof v === 'number') return [v >>> 0];
  if (typeof v === 'bigint') return [Number((v >> 32n) & 0xffffffffn), Number(v & 0xffffffffn)];
  if (v.length === 6) return [v.readUInt16BE(0), v.readUInt32BE(2)];
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(v.readUInt32BE(i * 4));
  return out;
}

const ALL_ONES = new Map<number, readonly number[]>();
/** Every bit of a field, as words (cached; read only). */
function allOnes(field: number): readonly number[] {
  let w = ALL_ONES.get(field);
  if (w === undefined) {
    w = LAYOUT[field]!.map((p) => (p.bits >>> p.shift) >>> 0);
    ALL_ONES.set(field, w);
  }
  return w;
}

/** Write `field := value` (within `mask` bits of the field) into an OF flow. */
export function setFieldWords(flow: Uint32Array, field: number, value: readonly number[], mask: readonly number[] = allOnes(field)): void {
  const pieces = LAYOUT[field]!;
  for (let i = 0; i < pieces.length; i++) {
    const p = pieces[i]!;
    const m = ((mask[i]! << p.shift) & p.bits) >>> 0;
    flow[p.word] = ((flow[p.word]! & ~m) | ((value[i]! << p.shift) & m)) >>> 0;
  }
}

/** OR a field's bits into a mask (the wildcard accumulator). */
export function unwildcardField(wc: Uint32Array, field: number): void {
  for (const p of LAYOUT[field]!) wc[p.word] = (wc[p.word]! | p.bits) >>> 0;
}

/** Read a field as words (shifted down), most significant first. */
export function getFieldWords(flow: Uint32Array, field: number): number[] {
  return LAYOUT[field]!.map((p) => ((flow[p.word]! & p.bits) >>> p.shift) >>> 0);
}

function badField(message: string): OfpError {
  return new OfpError(OFPET.BAD_MATCH, OFPBMC.BAD_FIELD, message);
}

/**
 * Convert an OXM match (already checked for duplicates/prerequisites by the
 * codec) into value+mask. Throws OfpError OFPBMC_BAD_FIELD for fields with no
 * datapath representation (non-basic classes, fields tsvs does not parse).
 */
export function ofMatchFromOxm(match: Match): OfMatch {
  const value = slabOfWords();
  const mask = slabOfWords();
  for (const f of match) {
    if (f.kind !== 'basic') throw badField(`OXM class 0x${f.oxmClass.toString(16)} field ${f.field} is not supported`);
    const pieces = LAYOUT[f.field];
    if (pieces === undefined) throw badField(`OXM field ${f.field} is not supported by this switch`);
    let v = valueWords(f.field, f.value);
    let m = f.mask !== undefined ? valueWords(f.field, f.mask) : allOnes(f.field);
    if (f.field === X.VLAN_VID && f.mask === undefined && v[0] === OFPVID.NONE) {
      v = [0];
      m = [0x1fff]; // no tag at all
    }
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i]!;
      const mw = ((m[i]! << p.shift) & p.bits) >>> 0;
      mask[p.word] = (mask[p.word]! | mw) >>> 0;
      value[p.word] = (value[p.word]! | ((v[i]! << p.shift) & mw)) >>> 0;
    }
  }
  return { value, mask };
}

/** The datapath megaflow mask for an OF wildcard accumulator (see the header comment). */
export function dpMaskOf(wc: Uint32Array, out = new Uint32Array(KEY_WORDS)): Uint32Array {
  for (let i = 0; i < KEY_WORDS; i++) out[i] = wc[i]!;
  if (wc[W_OF_IN_PORT] !== 0) out[W_IN_PORT] = 0xffffffff;
  return out;
}

/** True if `flow` matches value/mask. */
export function ofMatches(m: OfMatch, flow: Uint32Array): boolean {
  const v = m.value;
  const k = m.mask;
  for (let i = 0; i < OF_WORDS; i++) if (((flow[i]! & k[i]!) >>> 0) !== v[i]) return false;
  return true;
}

/** Strict equality (MODIFY_STRICT / DELETE_STRICT). */
export function ofMatchEquals(a: OfMatch, b: OfMatch): boolean {
  for (let i = 0; i < OF_WORDS; i++) if (a.value[i] !== b.value[i] || a.mask[i] !== b.mask[i]) return false;
  return true;
}

/** True if rule `r` is at least as specific as `filter` and agrees with it (non-strict MODIFY/DELETE, stats requests). */
export function ofMatchCoveredBy(r: OfMatch, filter: OfMatch): boolean {
  for (let i = 0; i < OF_WORDS; i++) {
    const fm = filter.mask[i]!;
    if ((fm & ~r.mask[i]!) !== 0) return false;
    if (((r.value[i]! & fm) >>> 0) !== filter.value[i]) return false;
  }
  return true;
}

/** True if some packet could match both (OFPFF_CHECK_OVERLAP). */
export function ofMatchOverlaps(a: OfMatch, b: OfMatch): boolean {
  for (let i = 0; i < OF_WORDS; i++) if (((a.value[i]! ^ b.value[i]!) & a.mask[i]! & b.mask[i]!) !== 0) return false;
  return true;
}

/** Pipeline fields for a PACKET_IN match (7.4.1: in_port, and metadata/tunnel_id when set). */
export function packetInMatch(flow: Uint32Array): Match {
  const out: OxmBasic[] = [oxm(X.IN_PORT, flow[W_OF_IN_PORT]!)];
  const md = (BigInt(flow[W_OF_METADATA_HI]!) << 32n) | BigInt(flow[W_OF_METADATA_LO]!);
  if (md !== 0n) out.push(oxm(X.METADATA, md));
  const tun = (BigInt(flow[W_OF_TUNNEL_HI]!) << 32n) | BigInt(flow[W_OF_TUNNEL_LO]!);
  if (tun !== 0n) out.push(oxm(X.TUNNEL_ID, tun));
  return out;
}

export function metadataOf(flow: Uint32Array): bigint {
  return (BigInt(flow[W_OF_METADATA_HI]!) << 32n) | BigInt(flow[W_OF_METADATA_LO]!);
}

export function setMetadata(flow: Uint32Array, value: bigint): void {
  flow[W_OF_METADATA_HI] = Number((value >> 32n) & 0xffffffffn);
  flow[W_OF_METADATA_LO] = Number(value & 0xffffffffn);
}
