// Ethernet II and IEEE 802.3 frame headers: addresses, any number of 802.1Q /
// 802.1ad tags (IEEE 802.1Q-2018 9.5/9.6), and for length frames the 802.2
// LLC header with an optional SNAP extension (RFC 1042).

import { ETH_TYPE_NONE, ETH_TYPE_QINQ, ETH_TYPE_VLAN } from '../flow/key.js';
import { type Addr, formatMac, macBytes } from './addr.js';
import { type DecodeIssue, truncated } from './decode-issue.js';
import { checkLength, checkUint } from './errors.js';

/** Values below this in the type position are 802.3 lengths (IEEE 802.3 3.2.6). */
export const ETH_TYPE_MIN = 0x0600;
export const ETH_HEADER_BYTES = 14;

export interface VlanTag {
  /** Tag protocol identifier: 0x8100 (C-tag) or 0x88a8 (S-tag). */
  tpid: number;
  /** Priority code point, 3 bits. */
  pcp: number;
  /** Drop eligible indicator (the old CFI bit). */
  dei: number;
  /** VLAN id, 12 bits. */
  vid: number;
}

export interface LlcHeader {
  dsap: number;
  ssap: number;
  /** 8-bit for U-format PDUs (low two bits 11), else 16-bit (IEEE 802.2 5.2). */
  control: number;
  controlBytes: 1 | 2;
  /** SNAP extension when DSAP = SSAP = 0xaa and control = 0x03. */
  snap: { oui: number; type: number } | null;
}

export interface EthernetHeader {
  kind: 'eth';
  offset: number;
  dst: string;
  src: string;
  /** Tags outermost first. */
  vlans: VlanTag[];
  /** Ethertype after the tags, or an 802.3 length when below ETH_TYPE_MIN. */
  type: number;
  /** 802.2 LLC header of a length frame, when it fits inside the length. */
  llc: LlcHeader | null;
  /** Bytes from offset to the payload (addresses, tags, type, LLC/SNAP). */
  headerBytes: number;
}

function isTagType(t: number): boolean {
  return t === ETH_TYPE_VLAN || t === ETH_TYPE_QINQ;
}

function decodeLlc(buf: Buffer, off: number, end: number): LlcHeader | null {
  if (end - off < 3) return null;
  const dsap = buf.readUInt8(off);
  const ssap = buf.readUInt8(off + 1);
  const c0 = buf.readUInt8(off + 2);
  if ((c0 & 3) !== 3) {
    if (end - off < 4) return null;
    return { dsap, ssap, control: buf.readUInt16BE(off + 2), controlBytes: 2, snap: null };
  }
  let snap: LlcHeader['snap'] = null;
  if (dsap === 0xaa && ssap === 0xaa && c0 === 0x03 && end - off >= 8) {
    snap = { oui: buf.readUIntBE(off + 3, 3), type: buf.readUInt16BE(off + 6) };
  }
  return { dsap, ssap, control: c0, controlBytes: 1, snap };
}

function llcBytes(llc: LlcHeader): number {
  return 2 + llc.controlBytes + (llc.snap ? 5 : 0);
}

/** Decode the Ethernet header at buf[off, end). Never reads at or past end. */
export function decodeEthernet(buf: Buffer, off: number, end: number): EthernetHeader | DecodeIssue {
  if (end - off < ETH_HEADER_BYTES) return truncated(`Ethernet header needs 14 bytes, ${end - off} captured`);
  const dst = formatMac(buf, off);
  const src = formatMac(buf, off + 6);
  const vlans: VlanTag[] = [];
  let p = off + 12;
  let type = buf.readUInt16BE(p);
  while (isTagType(type)) {
    if (end - p < 6) return truncated(`802.1Q tag ${vlans.length + 1} cut at byte ${end}`);
    const tci = buf.readUInt16BE(p + 2);
    vlans.push({ tpid: type, pcp: tci >> 13, dei: (tci >> 12) & 1, vid: tci & 0xfff });
    p += 4;
    type = buf.readUInt16BE(p);
  }
  p += 2;
  let llc: LlcHeader | null = null;
  if (type < ETH_TYPE_MIN) {
    // The LLC header lives inside the 802.3 length.
    llc = decodeLlc(buf, p, Math.min(end, p + type));
    if (llc) p += llcBytes(llc);
  }
  return { kind: 'eth', offset: off, dst, src, vlans, type, llc, headerBytes: p - off };
}

/**
 * The ethertype the payload is carried as: the type field, the SNAP type for
 * SNAP with OUI 0 (RFC 1042 encapsulation), else ETH_TYPE_NONE (as OVS does).
 */
export function ethernetPayloadType(h: EthernetHeader): number {
  if (h.type >= ETH_TYPE_MIN) return h.type;
  if (h.llc?.snap && h.llc.snap.oui === 0) return h.llc.snap.type;
  return ETH_TYPE_NONE;
}

export interface VlanSpec {
  /** Default 0x8100; use 0x88a8 for the outer tag of 802.1ad. */
  tpid?: number;
  pcp?: number;
  dei?: number;
  vid: number;
}

export interface LlcSpec {
  dsap: number;
  ssap: number;
  control: number;
  controlBytes?: 1 | 2;
  snap?: { oui: number; type: number } | null;
}

export interface EthernetFields {
  dst: Addr;
  src: Addr;
  vlans?: VlanSpec[];
  /** Ethertype, or 802.3 length. May be omitted with llc: the length is then computed. */
  type?: number;
  llc?: LlcSpec | null;
  payload?: Uint8Array;
  /**
   * Pad with zeros to at least this many bytes. ETH_MIN_FRAME_BYTES (60) is
   * the 802.3 minimum without FCS (IEEE 802.3 4.2.3.3: 64 with it).
   */
  padTo?: number;
}

/** Shortest frame on the wire, without the 4-byte FCS. */
export const ETH_MIN_FRAME_BYTES = 60;

/** A new frame: addresses, tags, type (or length + LLC), payload, padding if asked. No FCS. */
export function buildEthernet(f: EthernetFields): Buffer {
  const vlans = f.vlans ?? [];
  const payload = f.payload ?? new Uint8Array(0);
  const llc = f.llc ?? null;
  const controlBytes = llc ? (llc.controlBytes ?? ((llc.control & 3) === 3 ? 1 : 2)) : 0;
  const llcLen = llc ? 2 + controlBytes + (llc.snap ? 5 : 0) : 0;
  const head = 12 + 4 * vlans.length + 2 + llcLen;
  const type = f.type ?? (llc ? checkLength('eth.length', llcLen + payload.length, ETH_TYPE_MIN - 1) : undefined);
  if (type === undefined) throw new TypeError('buildEthernet: type is required without llc');
  checkUint('eth.type', type, 0xffff);
  const out = Buffer.alloc(Math.max(head + payload.length, f.padTo ?? 0));
  out.set(macBytes(f.dst), 0);
  out.set(macBytes(f.src), 6);
  let p = 12;
  for (const v of vlans) {
    out.writeUInt16BE(checkUint('vlan.tpid', v.tpid ?? ETH_TYPE_VLAN, 0xffff), p);
    const tci = (checkUint('vlan.pcp', v.pcp ?? 0, 7) << 13) | (checkUint('vlan.dei', v.dei ?? 0, 1) << 12) | checkUint('vlan.vid', v.vid, 0xfff);
    out.writeUInt16BE(tci, p + 2);
    p += 4;
  }
  out.writeUInt16BE(type, p);
  p += 2;
  if (llc) {
    out.writeUInt8(checkUint('llc.dsap', llc.dsap, 0xff), p);
    out.writeUInt8(checkUint('llc.ssap', llc.ssap, 0xff), p + 1);
    if (controlBytes === 1) out.writeUInt8(checkUint('llc.control', llc.control, 0xff), p + 2);
    else out.writeUInt16BE(checkUint('llc.control', llc.control, 0xffff), p + 2);
    p += 2 + controlBytes;
    if (llc.snap) {
      out.writeUIntBE(checkUint('snap.oui', llc.snap.oui, 0xffffff), p, 3);
      out.writeUInt16BE(checkUint('snap.type', llc.snap.type, 0xffff), p + 3);
      p += 5;
    }
  }
  out.set(payload, p);
  return out;
}

