// UDP header (RFC 768). Checksum 0 means "none" over IPv4; a computed 0 is
// sent as 0xffff.

import { IPPROTO_UDP } from '../flow/key.js';
import { l4Checksum } from './checksum.js';
import { type DecodeIssue, truncated } from './decode-issue.js';
import { checkLength, checkUint } from './errors.js';
import { type PseudoHeader, pseudoBytes } from './pseudo-header.js';

export const UDP_HEADER_BYTES = 8;

export interface UdpHeader {
  kind: 'udp';
  offset: number;
  srcPort: number;
  dstPort: number;
  /** Header plus data, as stated by the sender. */
  length: number;
  checksum: number;
}

export function decodeUdp(buf: Buffer, off: number, end: number): UdpHeader | DecodeIssue {
  if (end - off < UDP_HEADER_BYTES) return truncated(`UDP header needs 8 bytes, ${end - off} captured`);
  return {
    kind: 'udp',
    offset: off,
    srcPort: buf.readUInt16BE(off),
    dstPort: buf.readUInt16BE(off + 2),
    length: buf.readUInt16BE(off + 4),
    checksum: buf.readUInt16BE(off + 6),
  };
}

export interface UdpFields {
  srcPort: number;
  dstPort: number;
  /** Default: 8 + payload. */
  length?: number;
  /** Default: computed when a pseudo-header is given, else 0 (none; IPv4 only). */
  checksum?: number;
  payload?: Uint8Array;
}

export function buildUdp(f: UdpFields, pseudo?: PseudoHeader): Buffer {
  const payload = f.payload ?? new Uint8Array(0);
  const out = Buffer.alloc(UDP_HEADER_BYTES + payload.length);
  out.writeUInt16BE(checkUint('udp.srcPort', f.srcPort, 0xffff), 0);
  out.writeUInt16BE(checkUint('udp.dstPort', f.dstPort, 0xffff), 2);
  out.writeUInt16BE(checkUint('udp.length', f.length ?? checkLength('udp datagram', out.length, 0xffff), 0xffff), 4);
  out.set(payload, UDP_HEADER_BYTES);
  let csum = f.checksum;
  if (csum === undefined && pseudo) {
    const { src, dst } = pseudoBytes(pseudo);
    csum = l4Checksum(out, 0, out.length, IPPROTO_UDP, src, dst);
  }
  out.writeUInt16BE(checkUint('udp.checksum', csum ?? 0, 0xffff), 6);
  return out;
}
