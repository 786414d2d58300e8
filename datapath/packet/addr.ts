// Text <-> bytes for MAC, IPv4 and IPv6 addresses. Formatting follows RFC 5952
// for IPv6 (lowercase, no leading zeros, longest zero run as "::").

import { outOfRange, PacketError } from './errors.js';

/** An address as text or as its wire bytes (6, 4 or 16 bytes). */
export type Addr = string | Uint8Array;

const HEX = '0123456789abcdef';

function hex2(b: number): string {
  return HEX[b >> 4] + HEX[b & 15];
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  c |= 0x20; // lowercase
  if (c >= 97 && c <= 102) return c - 87; // a-f
  return -1;
}

/** "aa:bb:cc:dd:ee:ff" (or with "-"; one or two hex digits an octet) to 6 bytes. */
export function parseMac(text: string): Uint8Array {
  const out = new Uint8Array(6);
  let i = 0;
  for (let k = 0; k < 6; k++) {
    if (k > 0) {
      const sep = text.charCodeAt(i++);
      if (sep !== 58 && sep !== 45) throw new PacketError('ERR_PACKET_BAD_MAC', `"${text}" is not a MAC address (want 6 hex octets separated by ":")`);
    }
    const d0 = hexDigit(text.charCodeAt(i));
    if (d0 < 0) throw new PacketError('ERR_PACKET_BAD_MAC', `"${text}": octet ${k + 1} is not hex`);
    const d1 = hexDigit(text.charCodeAt(i + 1));
    if (d1 < 0) {
      out[k] = d0;
      i += 1;
    } else {
      out[k] = (d0 << 4) | d1;
      i += 2;
    }
  }
  if (i !== text.length) throw new PacketError('ERR_PACKET_BAD_MAC', `"${text}" is not a MAC address (want 6 hex octets)`);
  return out;
}

function need(b: Uint8Array, off: number, n: number, what: string): void {
  // Formatting is called by decoders on ranges they bounded; a short range is a
  // bug, and a RangeError keeps the fuzz test honest.
  if (off < 0 || off + n > b.length) throw outOfRange(`${what}: need ${n} bytes at ${off}, have ${b.length}`);
}

/** 6 bytes at off to "aa:bb:cc:dd:ee:ff". */
export function formatMac(b: Uint8Array, off = 0): string {
  need(b, off, 6, 'formatMac');
  let s = hex2(b[off]);
  for (let i = 1; i < 6; i++) s += ':' + hex2(b[off + i]);
  return s;
}

/** Dotted quad to 4 bytes. Leading zeros are rejected (they mean octal to some parsers). */
export function parseIpv4(text: string): Uint8Array {
  const out = new Uint8Array(4);
  let i = 0;
  for (let k = 0; k < 4; k++) {
    if (k > 0 && text.charCodeAt(i++) !== 46) throw new PacketError('ERR_PACKET_BAD_IPV4', `"${text}" is not a dotted-quad IPv4 address`);
    const start = i;
    let v = 0;
    while (i < text.length && i - start < 4) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
      i++;
    }
    const digits = i - start;
    if (digits === 0 || digits > 3 || v > 255 || (digits > 1 && text.charCodeAt(start) === 48)) {
      throw new PacketError('ERR_PACKET_BAD_IPV4', `"${text}": part ${k + 1} is not 0..255 without leading zeros`);
    }
    out[k] = v;
  }
  if (i !== text.length) throw new PacketError('ERR_PACKET_BAD_IPV4', `"${text}" is not a dotted-quad IPv4 address`);
  return out;
}

export function formatIpv4(b: Uint8Array, off = 0): string {
  need(b, off, 4, 'formatIpv4');
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** IPv4 address as the 32-bit number the flow key uses (10.0.0.1 -> 0x0a000001). */
export function ipv4ToU32(a: Addr): number {
  const b = ipv4Bytes(a);
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

export function u32ToIpv4(v: number): string {
  return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** RFC 4291 2.2 text forms: full, "::"-compressed, and trailing dotted IPv4. No zone ids. */
export function parseIpv6(text: string): Uint8Array {
  const bad = (why: string): never => {
    throw new PacketError('ERR_PACKET_BAD_IPV6', `"${text}" is not an IPv6 address: ${why}`);
  };
  const halves = text.split('::');
  if (halves.length > 2) bad('more than one "::"');
  const groups = (s: string, allowV4: boolean): number[] => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (allowV4 && i === parts.length - 1 && p.includes('.')) {
        let v4: Uint8Array;
        try {
          v4 = parseIpv4(p);
        } catch {
          return bad(`bad embedded IPv4 "${p}"`);
        }
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) bad(`group "${p}" is not 1-4 hex digits`);
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0], halves.length === 1);
  const tail = halves.length === 2 ? groups(halves[1], true) : [];
  let words: number[];
  if (halves.length === 2) {
    if (head.length + tail.length > 7) bad('"::" must stand for at least one group');
    words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    if (head.length !== 8) bad(`${head.length} groups, want 8`);
    words = head;
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i] >> 8;
    out[2 * i + 1] = words[i] & 255;
  }
  return out;
}

/** 16 bytes at off to RFC 5952 text (4.2: "::" for the longest run of 2+ zero groups, the first on a tie; 5: ::ffff:a.b.c.d). */
export function formatIpv6(b: Uint8Array, off = 0): string {
  need(b, off, 16, 'formatIpv6');
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[off + 2 * i] << 8) | b[off + 2 * i + 1]);
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
    return `::ffff:${b[off + 12]}.${b[off + 13]}.${b[off + 14]}.${b[off + 15]}`;
  }
  let bestStart = -1;
  let bestLen = 1; // a single zero group is not compressed (4.2.2)
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hexw = (x: number): string => x.toString(16);
  if (bestStart < 0) return w.map(hexw).join(':');
  const left = w.slice(0, bestStart).map(hexw).join(':');
  const right = w.slice(bestStart + bestLen).map(hexw).join(':');
  return `${left}::${right}`;
}

function bytesOf(a: Addr, n: number, parse: (s: string) => Uint8Array, code: 'ERR_PACKET_BAD_MAC' | 'ERR_PACKET_BAD_IPV4' | 'ERR_PACKET_BAD_IPV6'): Uint8Array {
  if (typeof a === 'string') return parse(a);
  if (a.length !== n) throw new PacketError(code, `address has ${a.length} bytes, want ${n}`);
  return a;
}

export function macBytes(a: Addr): Uint8Array {
  return bytesOf(a, 6, parseMac, 'ERR_PACKET_BAD_MAC');
}

export function ipv4Bytes(a: Addr): Uint8Array {
  return bytesOf(a, 4, parseIpv4, 'ERR_PACKET_BAD_IPV4');
}

export function ipv6Bytes(a: Addr): Uint8Array {
  return bytesOf(a, 16, parseIpv6, 'ERR_PACKET_BAD_IPV6');
}

/** IPv4 or IPv6 bytes: text with ":" is IPv6; bytes by their length (4 or 16). */
export function ipBytes(a: Addr): Uint8Array {
  if (typeof a === 'string') return a.includes(':') ? parseIpv6(a) : parseIpv4(a);
  if (a.length !== 4 && a.length !== 16) throw new PacketError('ERR_PACKET_BAD_FIELD', `IP address has ${a.length} bytes, want 4 or 16`);
  return a;
}
