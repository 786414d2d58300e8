// Slow protocols (IEEE 802.3 annex 57A, ethertype 0x8809): only the subtype
// byte is decoded here; LACP itself lives in ofproto/bond/lacp.ts.

import { type DecodeIssue, truncated } from './decode-issue.js';
import { checkUint } from './errors.js';

export const SLOW_SUBTYPE_LACP = 1;
export const SLOW_SUBTYPE_MARKER = 2;
export const SLOW_SUBTYPE_OAM = 3;
/** Slow protocols multicast address (IEEE 802.3 annex 57B). */
export const SLOW_PROTOCOLS_MAC = '01:80:c2:00:00:02';

export interface SlowHeader {
  kind: 'slow';
  offset: number;
  subtype: number;
}

export function decodeSlow(buf: Buffer, off: number, end: number): SlowHeader | DecodeIssue {
  if (end - off < 1) return truncated('slow protocols PDU has no subtype byte');
  return { kind: 'slow', offset: off, subtype: buf.readUInt8(off) };
}

export function buildSlow(f: { subtype: number; payload?: Uint8Array }): Buffer {
  const payload = f.payload ?? new Uint8Array(0);
  const out = Buffer.alloc(1 + payload.length);
  out.writeUInt8(checkUint('slow.subtype', f.subtype, 0xff), 0);
  out.set(payload, 1);
  return out;
}
