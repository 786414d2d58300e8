// ICMPv4 (RFC 792): the 8-byte header. The second word is split into two
// 16-bit halves: identifier/sequence for echo and info messages, unused/next-hop
// MTU for "fragmentation needed" (RFC 1191), pointer in the high byte for
// parameter problem.

import { checksum } from './checksum.js';
import { type DecodeIssue, truncated } from './decode-issue.js';
import { checkUint } from './errors.js';

export const ICMP_HEADER_BYTES = 8;
export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;

export interface IcmpHeader {
  kind: 'icmp';
  offset: number;
  type: number;
  code: number;
  checksum: number;
  /** High half of the second word (echo identifier). */
  id: number;
  /** Low half of the second word (echo sequence number). */
  seq: number;
}

export function decodeIcmp(buf: Buffer, off: number, end: number): IcmpHeader | DecodeIssue {
  if (end - off < ICMP_HEADER_BYTES) return truncated(`ICMP header needs 8 bytes, ${end - off} captured`);
  return {
    kind: 'icmp',
    offset: off,
    type: buf.readUInt8(off),
    code: buf.readUInt8(off + 1),
    checksum: buf.readUInt16BE(off + 2),
    id: buf.readUInt16BE(off + 4),
    seq: buf.readUInt16BE(off + 6),
  };
}

export interface IcmpFields {
  type: number;
  code?: number;
  id?: number;
  seq?: number;
  /** Default: computed over the whole message (RFC 792: no pseudo-header). */
  checksum?: number;
  payload?: Uint8Array;
}

export function buildIcmp(f: IcmpFields): Buffer {
  const payload = f.payload ?? new Uint8Array(0);
  const out = Buffer.alloc(ICMP_HEADER_BYTES + payload.length);
  out.writeUInt8(checkUint('icmp.type', f.type, 0xff), 0);
  out.writeUInt8(checkUint('icmp.code', f.code ?? 0, 0xff), 1);
  out.writeUInt16BE(checkUint('icmp.id', f.id ?? 0, 0xffff), 4);
  out.writeUInt16BE(checkUint('icmp.seq', f.seq ?? 0, 0xffff), 6);
  out.set(payload, ICMP_HEADER_BYTES);
  out.writeUInt16BE(f.checksum === undefined ? checksum(out, 0, out.length) : checkUint('icmp.checksum', f.checksum, 0xffff), 2);
  return out;
}

/** An echo request (or reply) with its checksum. */
export function buildIcmpEcho(f: { reply?: boolean; id: number; seq: number; payload?: Uint8Array }): Buffer {
  return buildIcmp({ type: f.reply ? ICMP_ECHO_REPLY : ICMP_ECHO_REQUEST, id: f.id, seq: f.seq, payload: f.payload });
}
