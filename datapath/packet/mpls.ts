// MPLS label stack entries (RFC 3032 2.1): label 20 bits, traffic class 3
// (RFC 5462), bottom of stack 1, TTL 8.

import { type DecodeIssue, truncated } from './decode-issue.js';
import { checkUint } from './errors.js';

export interface MplsLse {
  label: number;
  tc: number;
  bos: boolean;
  ttl: number;
}

export interface MplsHeader {
  kind: 'mpls';
  offset: number;
  /** Outermost first; the last has bos set. */
  labels: MplsLse[];
}

export function lseToU32(e: { label: number; tc?: number; bos?: boolean; ttl?: number }): number {
  return (
    ((checkUint('mpls.label', e.label, 0xfffff) << 12) |
      (checkUint('mpls.tc', e.tc ?? 0, 7) << 9) |
      ((e.bos ? 1 : 0) << 8) |
      checkUint('mpls.ttl', e.ttl ?? 64, 0xff)) >>>
    0
  );
}

export function u32ToLse(v: number): MplsLse {
  return { label: v >>> 12, tc: (v >>> 9) & 7, bos: ((v >>> 8) & 1) === 1, ttl: v & 0xff };
}

/** Entries up to and including the one with bos set. */
export function decodeMpls(buf: Buffer, off: number, end: number): MplsHeader | DecodeIssue {
  const labels: MplsLse[] = [];
  for (let p = off; ; p += 4) {
    if (end - p < 4) return truncated(`MPLS label stack entry ${labels.length + 1} cut (no bottom-of-stack entry captured)`);
    const e = u32ToLse(buf.readUInt32BE(p));
    labels.push(e);
    if (e.bos) return { kind: 'mpls', offset: off, labels };
  }
}

export interface MplsFields {
  /** bos defaults to true for the last entry only; ttl to 64; tc to 0. */
  labels: { label: number; tc?: number; bos?: boolean; ttl?: number }[];
  payload?: Uint8Array;
}

export function buildMpls(f: MplsFields): Buffer {
  const payload = f.payload ?? new Uint8Array(0);
  const out = Buffer.alloc(4 * f.labels.length + payload.length);
  f.labels.forEach((e, i) => {
    out.writeUInt32BE(lseToU32({ ...e, bos: e.bos ?? i === f.labels.length - 1 }), 4 * i);
  });
  out.set(payload, 4 * f.labels.length);
  return out;
}
