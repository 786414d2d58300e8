// OFPT_HELLO (7.5.1): a list of hello elements; VERSIONBITMAP is decoded,
// other element types are kept opaque. Elements are padded to 8 bytes.
import { OFPHET, OFPT } from './constants.js';
import type { MessageBase } from './header.js';
import { WireReader, WireWriter } from './wire.js';

export type HelloElement =
  | { kind: 'versionBitmap'; /** 32-bit words; bit n of word i = version 32*i+n. */ bitmaps: number[] }
  | { kind: 'opaque'; type: number; data: Buffer };

export interface HelloMsg extends MessageBase {
  type: typeof OFPT.HELLO;
  elements: HelloElement[];
}

export function decodeHello(r: WireReader, base: MessageBase): HelloMsg {
  const elements: HelloElement[] = [];
  while (r.remaining > 0) {
    const start = r.pos;
    const type = r.u16('hello element type');
    const len = r.u16('hello element length');
    if (len < 4) throw r.fail(`hello element type ${type}: length ${len} < 4`);
    r.pos = start;
    const e = r.sub(len, `hello element type ${type}`);
    e.skip(4, 'hello element header');
    if (type === OFPHET.VERSIONBITMAP) {
      if ((len - 4) % 4 !== 0) throw r.fail(`version bitmap element: length ${len} is not 4 + a multiple of 4`);
      const bitmaps: number[] = [];
      while (e.remaining > 0) bitmaps.push(e.u32('version bitmap'));
      elements.push({ kind: 'versionBitmap', bitmaps });
    } else {
      elements.push({ kind: 'opaque', type, data: Buffer.from(e.rest()) });
    }
    // Padding to 8; a final element may omit it.
    r.pos = Math.min(r.end, start + ((len + 7) & ~7));
  }
  return { type: OFPT.HELLO, ...base, elements };
}

export function encodeHello(w: WireWriter, m: HelloMsg): void {
  for (const el of m.elements) {
    const start = w.length;
    if (el.kind === 'versionBitmap') {
      w.u16(OFPHET.VERSIONBITMAP).u16(4 + 4 * el.bitmaps.length);
      for (const b of el.bitmaps) w.u32(b >>> 0);
    } else {
      w.u16(el.type).u16(4 + el.data.length).bytes(el.data);
    }
    w.pad8(start);
  }
}

/** Versions announced by a HELLO (from its bitmap, else its header version). */
export function helloVersions(m: HelloMsg): number[] {
  const bm = m.elements.find((e) => e.kind === 'versionBitmap');
  if (!bm || bm.kind !== 'versionBitmap') return [m.version];
  const out: number[] = [];
  bm.bitmaps.forEach((word, i) => {
    for (let bit = 0; bit < 32; bit++) if ((word >>> bit) & 1) out.push(32 * i + bit);
  });
  return out;
}

/** A HELLO announcing exactly `versions` (header version = the highest). */
export function makeHello(versions: readonly number[], xid: number): HelloMsg {
  const words: number[] = [];
  for (const v of versions) {
    const i = v >>> 5;
    while (words.length <= i) words.push(0);
    words[i] = (words[i]! | (1 << (v & 31))) >>> 0;
  }
  return { type: OFPT.HELLO, version: Math.max(...versions), xid, elements: [{ kind: 'versionBitmap', bitmaps: words }] };
}

/**
 * The version both sides speak (7.5.1): the highest common version when the
 * peer sent a bitmap, else min(ours, peer's header version) if we support it.
 * Undefined means OFPET_HELLO_FAILED/OFPHFC_INCOMPATIBLE.
 */
export function negotiateVersion(supported: readonly number[], peer: HelloMsg): number | undefined {
  const hasBitmap = peer.elements.some((e) => e.kind === 'versionBitmap');
  if (hasBitmap) {
    const theirs = new Set(helloVersions(peer));
    const common = supported.filter((v) => theirs.has(v));
    return common.length > 0 ? Math.max(...common) : undefined;
  }
  const v = Math.min(Math.max(...supported), peer.version);
  return supported.includes(v) ? v : undefined;
}
