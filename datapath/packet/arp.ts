// ARP over Ethernet for IPv4 (RFC 826): the only hardware/protocol sizes the
// switch acts on (6-byte MACs, 4-byte addresses).

import { ETH_TYPE_IPV4 } from '../flow/key.js';
import { type Addr, formatIpv4, formatMac, ipv4Bytes, macBytes } from './addr.js';
import { type DecodeIssue, malformed, truncated } from './decode-issue.js';
import { checkUint } from './errors.js';

export const ARP_BYTES = 28;
export const ARP_OP_REQUEST = 1;
export const ARP_OP_REPLY = 2;
export const ARP_HTYPE_ETHERNET = 1;

export interface ArpPacket {
  kind: 'arp';
  offset: number;
  htype: number;
  ptype: number;
  hlen: number;
  plen: number;
  op: number;
  sha: string;
  spa: string;
  tha: string;
  tpa: string;
}

export function decodeArp(buf: Buffer, off: number, end: number): ArpPacket | DecodeIssue {
  if (end - off < 8) return truncated(`ARP header needs 8 bytes, ${end - off} captured`);
  const hlen = buf.readUInt8(off + 4);
  const plen = buf.readUInt8(off + 5);
  if (hlen !== 6 || plen !== 4) return malformed(`ARP with hardware length ${hlen} / protocol length ${plen} is not decoded (want 6/4)`);
  if (end - off < ARP_BYTES) return truncated(`ARP needs 28 bytes, ${end - off} captured`);
  return {
    kind: 'arp',
    offset: off,
    htype: buf.readUInt16BE(off),
    ptype: buf.readUInt16BE(off + 2),
    hlen,
    plen,
    op: buf.readUInt16BE(off + 6),
    sha: formatMac(buf, off + 8),
    spa: formatIpv4(buf, off + 14),
    tha: formatMac(buf, off + 18),
    tpa: formatIpv4(buf, off + 24),
  };
}

export interface ArpFields {
  htype?: number;
  ptype?: number;
  op: number;
  sha: Addr;
  spa: Addr;
  tha?: Addr;
  tpa: Addr;
  /** Bytes after the 28-byte packet (rarely anything). */
  payload?: Uint8Array;
}

export function buildArp(f: ArpFields): Buffer {
  const payload = f.payload ?? new Uint8Array(0);
  const out = Buffer.alloc(ARP_BYTES + payload.length);
  out.writeUInt16BE(checkUint('arp.htype', f.htype ?? ARP_HTYPE_ETHERNET, 0xffff), 0);
  out.writeUInt16BE(checkUint('arp.ptype', f.ptype ?? ETH_TYPE_IPV4, 0xffff), 2);
  out.writeUInt8(6, 4);
  out.writeUInt8(4, 5);
  out.writeUInt16BE(checkUint('arp.op', f.op, 0xffff), 6);
  out.set(macBytes(f.sha), 8);
  out.set(ipv4Bytes(f.spa), 14);
  out.set(macBytes(f.tha ?? '00:00:00:00:00:00'), 18);
  out.set(ipv4Bytes(f.tpa), 24);
  out.set(payload, ARP_BYTES);
  return out;
}
