// Byte-by-byte frame builders and full (non-incremental) checksum verifiers for
// the action tests. Independent of the code under test on purpose: its own
// ones-complement sum and a bitwise CRC32c.

export const MAC_A = [0x02, 0, 0, 0, 0, 0x01];
export const MAC_B = [0x02, 0, 0, 0, 0, 0x02];

export function ip4(s: string): number[] {
  return s.split('.').map(Number);
}

export function ip6(s: string): number[] {
  const [h, t] = s.includes('::') ? s.split('::') : [s, undefined];
  const head = h ? h.split(':') : [];
  const tail = t !== undefined && t !== '' ? t.split(':') : [];
  const groups = [...head, ...Array(8 - head.length - tail.length).fill('0'), ...tail];
  return groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
}

const u16 = (n: number) => [(n >> 8) & 0xff, n & 0xff];

/** Ones-complement sum of bytes (padded to even), folded, not complemented. */
export function sum16(bytes: number[] | Uint8Array, init = 0): number {
  let s = init;
  for (let i = 0; i < bytes.length; i += 2) s += (bytes[i] << 8) | (i + 1 < bytes.length ? bytes[i + 1] : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

export function csum(bytes: number[] | Uint8Array, init = 0): number {
  return ~sum16(bytes, init) & 0xffff;
}

export function eth(dst: number[], src: number[], type: number, vlans: [number, number][] = []): number[] {
  const out = [...dst, ...src];
  for (const [tpid, tci] of vlans) out.push(...u16(tpid), ...u16(tci));
  out.push(...u16(type));
  return out;
}

export function ipv4(src: string, dst: string, proto: number, payload: number[], opts: { ttl?: number; tos?: number; frag?: number } = {}): number[] {
  const h = [0x45, opts.tos ?? 0, ...u16(20 + payload.length), 0x12, 0x34, ...u16(opts.frag ?? 0x4000), opts.ttl ?? 64, proto, 0, 0, ...ip4(src), ...ip4(dst)];
  const c = csum(h);
  h[10] = c >> 8;
  h[11] = c & 0xff;
  return [...h, ...payload];
}

export function ipv6(src: string, dst: string, nh: number, payload: number[], opts: { hlim?: number; tclass?: number; label?: number } = {}): number[] {
  const tc = opts.tclass ?? 0;
  const label = opts.label ?? 0;
  const w0 = (6 << 28) | (tc << 20) | label;
  return [(w0 >>> 24) & 0xff, (w0 >>> 16) & 0xff, (w0 >>> 8) & 0xff, w0 & 0xff, ...u16(payload.length), nh, opts.hlim ?? 64, ...ip6(src), ...ip6(dst), ...payload];
}

function pseudo4(src: string, dst: string, proto: number, len: number): number[] {
  return [...ip4(src), ...ip4(dst), 0, proto, ...u16(len)];
}
function pseudo6(src: string, dst: string, proto: number, len: number): number[] {
  return [...ip6(src), ...ip6(dst), 0, 0, ...u16(len), 0, 0, 0, proto];
}

export type Pseudo = { v6: boolean; src: string; dst: string };

function l4csum(p: Pseudo, proto: number, seg: number[], at: number): number[] {
  const ph = p.v6 ? pseudo6(p.src, p.dst, proto, seg.length) : pseudo4(p.src, p.dst, proto, seg.length);
  const c = csum([...ph, ...seg]);
  seg[at] = c >> 8;
  seg[at + 1] = c & 0xff;
  return seg;
}

export function tcp(p: Pseudo, sport: number, dport: number, payload: number[] = [], flags = 0x02): number[] {
  const seg = [...u16(sport), ...u16(dport), 0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0, ...payload];
  return l4csum(p, 6, seg, 16);
}

export function udp(p: Pseudo, sport: number, dport: number, payload: number[] = [], noChecksum = false): number[] {
  const seg = [...u16(sport), ...u16(dport), ...u16(8 + payload.length), 0, 0, ...payload];
  if (noChecksum) return seg;
  l4csum(p, 17, seg, 6);
  if (seg[6] === 0 && seg[7] === 0) seg[6] = seg[7] = 0xff;
  return seg;
}

export function icmp4(type: number, code: number, rest: number[] = [0, 1, 0, 1]): number[] {
  const m = [type, code, 0, 0, ...rest];
  const c = csum(m);
  m[2] = c >> 8;
  m[3] = c & 0xff;
  return m;
}

export function icmp6(p: Pseudo, type: number, code: number, body: number[] = [0, 0, 0, 0]): number[] {
  return l4csum(p, 58, [type, code, 0, 0, ...body], 2);
}

export function crc32cBitwise(bytes: number[] | Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

export function sctp(sport: number, dport: number, payload: number[] = [0, 0, 0, 4]): number[] {
  const m = [...u16(sport), ...u16(dport), 0, 0, 0, 7, 0, 0, 0, 0, ...payload];
  const c = crc32cBitwise(m);
  m[8] = c & 0xff;
  m[9] = (c >>> 8) & 0xff;
  m[10] = (c >>> 16) & 0xff;
  m[11] = c >>> 24;
  return m;
}

export function arp(op: number, sha: number[], spa: string, tha: number[], tpa: string): number[] {
  return [0, 1, 8, 0, 6, 4, ...u16(op), ...sha, ...ip4(spa), ...tha, ...ip4(tpa)];
}

/** ND solicitation (135) with an SLL option, or advertisement (136) with a TLL option. */
export function nd(p: Pseudo, type: 135 | 136, target: string, lla: number[]): number[] {
  const body = [type === 136 ? 0x60 : 0, 0, 0, 0, ...ip6(target), type === 135 ? 1 : 2, 1, ...lla];
  return icmp6(p, type, 0, body);
}

export function mpls(label: number, tc: number, bos: boolean, ttl: number): number[] {
  const w = ((label << 12) | (tc << 9) | (bos ? 0x100 : 0) | ttl) >>> 0;
  return [(w >>> 24) & 0xff, (w >>> 16) & 0xff, (w >>> 8) & 0xff, w & 0xff];
}

/**
 * Verify every checksum in an Ethernet frame by full recompute: IPv4 header,
 * TCP/UDP/ICMP/ICMPv6 (with pseudo-header), SCTP CRC32c. Walks VLAN tags; no
 * IPv6 extension headers. Returns a list of problems (empty = all good).
 */
export function verifyChecksums(f: Uint8Array): string[] {
  const bad: string[] = [];
  let p = 12;
  let type = (f[p] << 8) | f[p + 1];
  while (type === 0x8100 || type === 0x88a8) {
    p += 4;
    type = (f[p] << 8) | f[p + 1];
  }
  p += 2;
  let proto: number;
  let seg: Uint8Array;
  let pseudo: number[];
  if (type === 0x0800) {
    const ihl = (f[p] & 15) * 4;
    if (sum16(f.subarray(p, p + ihl)) !== 0xffff) bad.push('ipv4 header checksum');
    const tot = (f[p + 2] << 8) | f[p + 3];
    proto = f[p + 9];
    if (((f[p + 6] << 8) | f[p + 7]) & 0x1fff) return bad;
    seg = f.subarray(p + ihl, p + tot);
    pseudo = [...f.subarray(p + 12, p + 20), 0, proto, seg.length >> 8, seg.length & 0xff];
  } else if (type === 0x86dd) {
    const plen = (f[p + 4] << 8) | f[p + 5];
    proto = f[p + 6];
    seg = f.subarray(p + 40, p + 40 + plen);
    pseudo = [...f.subarray(p + 8, p + 40), 0, 0, plen >> 8, plen & 0xff, 0, 0, 0, proto];
  } else return bad;
  if (proto === 6 || (proto === 17 && !(seg[6] === 0 && seg[7] === 0 && type === 0x0800)) || proto === 58) {
    if (sum16(seg, sum16(pseudo)) !== 0xffff) bad.push(`l4 checksum (proto ${proto})`);
  } else if (proto === 1) {
    if (sum16(seg) !== 0xffff) bad.push('icmp checksum');
  } else if (proto === 132) {
    const copy = Uint8Array.from(seg);
    const stored = (copy[8] | (copy[9] << 8) | (copy[10] << 16) | (copy[11] << 24)) >>> 0;
    copy.fill(0, 8, 12);
    if (crc32cBitwise(copy) !== stored) bad.push('sctp crc32c');
  }
  return bad;
}
