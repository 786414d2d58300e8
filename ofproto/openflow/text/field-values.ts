// Scalar value syntax of ovs-ofctl: integers (decimal, 0x-hex, C octal),
// Ethernet and IP addresses with masks or prefixes, and OpenFlow port
// names, parsed and printed the way OVS's lib/meta-flow.c and packets.c do.
// Values are bigints so one code path serves 8- to 128-bit fields.
import { OFPP } from '../constants.js';
import { formatIp6 } from '../../../datapath/flow/odp.js';

export const allOnes = (bits: number): bigint => (1n << BigInt(bits)) - 1n;

/** Thrown by the value parsers; the caller adds the token and column. */
export class ValueError extends Error {}

/**
 * parse_int_string(): "0x..." hex of any length that fits `bytes`, else
 * strtoull(base 0) (decimal, 0-octal, negative wraps). Returns the value and
 * where it stopped.
 */
export function parseIntPrefix(s: string, bytes: number): { value: bigint; rest: string } | 'range' | 'syntax' {
  const max = allOnes(bytes * 8);
  if (/^0[xX]/.test(s)) {
    let i = 2;
    let v = 0n;
    let digits = 0;
    while (i < s.length) {
      while (i < s.length && ' \t\r\n'.includes(s[i]!)) i++;
      const c = s[i];
      if (c === undefined || !/[0-9a-fA-F]/.test(c)) break;
      const d = BigInt(parseInt(c, 16));
      if (d !== 0n || digits > 0) {
        digits++;
        if (Math.ceil(digits / 2) > bytes) return 'range';
      }
      v = v * 16n + d;
      i++;
    }
    return { value: v, rest: s.slice(i) };
  }
  const m = /^[ \t\r\n]*([+-]?)(0[0-7]*|[1-9][0-9]*)/.exec(s);
  if (!m) return 'syntax';
  let v = m[2]!.length > 1 && m[2]!.startsWith('0') ? BigInt('0o' + m[2]!.slice(1)) : BigInt(m[2]!);
  if (v > allOnes(64)) return 'range';
  if (m[1] === '-') v = (1n << 64n) - v;
  v &= allOnes(64);
  if (v > max) return 'range';
  return { value: v, rest: s.slice(m[0].length) };
}

/** A whole integer (no trailing text), for simple keywords. */
export function parseIntExact(s: string, bytes: number, what: string): bigint {
  const r = parseIntPrefix(s, bytes);
  if (r === 'range') throw new ValueError(`${s}: value too large for ${what}`);
  if (r === 'syntax' || r.rest !== '') throw new ValueError(`invalid ${what} "${s}"`);
  return r.value;
}

/** str_to_u16/u32 style: decimal or 0x (strtoul base 0), bounded. */
export function parseUint(s: string, bits: number, what: string): number {
  const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) throw new ValueError(`invalid ${what} "${s}"`);
  const v = s.startsWith('0x') || s.startsWith('0X') ? BigInt(s) : s.length > 1 && s.startsWith('0') ? BigInt('0o' + s.slice(1)) : BigInt(s);
  if (v > allOnes(bits)) throw new ValueError(`invalid ${what} "${s}"`);
  return Number(v);
}

// --- Ethernet ------------------------------------------------------------------

function macOne(s: string): bigint | undefined {
  const m = /^([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})$/.exec(s);
  if (!m) return undefined;
  let v = 0n;
  for (let i = 1; i <= 6; i++) v = (v << 8n) | BigInt(parseInt(m[i]!, 16));
  return v;
}

export function parseMac(s: string): { value: bigint; mask: bigint } {
  const slash = s.indexOf('/');
  const v = macOne(slash < 0 ? s : s.slice(0, slash));
  const m = slash < 0 ? allOnes(48) : macOne(s.slice(slash + 1));
  if (v === undefined || m === undefined) throw new ValueError(`${s}: invalid Ethernet address`);
  return { value: v, mask: m };
}

export function formatMac(v: bigint): string {
  const parts: string[] = [];
  for (let i = 5; i >= 0; i--) parts.push(Number((v >> BigInt(i * 8)) & 0xffn).toString(16).padStart(2, '0'));
  return parts.join(':');
}

export function formatMacMasked(v: bigint, m: bigint): string {
  return m === allOnes(48) ? formatMac(v) : `${formatMac(v)}/${formatMac(m)}`;
}

// --- IPv4 ----------------------------------------------------------------------

function ipv4One(s: string): bigint | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (!m) return undefined;
  let v = 0n;
  // OVS scans octets with %hhu, which keeps the low 8 bits (256 -> 0).
  for (let i = 1; i <= 4; i++) v = (v << 8n) | (BigInt(m[i]!) & 0xffn);
  return v;
}

export function prefixMask(bits: number, width: number): bigint {
  return bits === 0 ? 0n : allOnes(width) ^ allOnes(width - bits);
}

/** ip_parse_masked(): "a.b.c.d", "a.b.c.d/n", "a.b.c.d/m.m.m.m". */
export function parseIpv4(s: string): { value: bigint; mask: bigint } {
  const slash = s.indexOf('/');
  const v = ipv4One(slash < 0 ? s : s.slice(0, slash));
  if (v === undefined) throw new ValueError(`${s}: invalid IP address`);
  if (slash < 0) return { value: v, mask: allOnes(32) };
  const ms = s.slice(slash + 1);
  const m = ipv4One(ms);
  if (m !== undefined) return { value: v, mask: m };
  if (!/^-?\d+$/.test(ms)) throw new ValueError(`${s}: invalid IP address`);
  const n = Number(ms);
  if (n < 0 || n > 32) throw new ValueError(`${s}: IPv4 network prefix bits not between 0 and 32, inclusive`);
  return { value: v, mask: prefixMask(n, 32) };
}

export function formatIpv4(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => Number((v >> s) & 0xffn)).join('.');
}

/** Prefix length if `m` is a CIDR mask of `width` bits, else -1. */
export function cidrLength(m: bigint, width: number): number {
  for (let n = 0; n <= width; n++) if (prefixMask(n, width) === m) return n;
  return -1;
}

export function formatIpv4Masked(v: bigint, m: bigint): string {
  if (m === allOnes(32)) return formatIpv4(v);
  const n = cidrLength(m, 32);
  return n >= 0 ? `${formatIpv4(v)}/${n}` : `${formatIpv4(v)}/${formatIpv4(m)}`;
}

// --- IPv6 ----------------------------------------------------------------------

function ipv6One(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  let str = s;
  const lastColon = str.lastIndexOf(':');
  if (str.includes('.')) {
    // Embedded IPv4 (::ffff:1.2.3.4): rewrite its dotted quad as two groups.
    const v4 = ipv4One(str.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    str = `${str.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = str.split('::');
  if (halves.length > 2) return undefined;
  const grp = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = grp(halves[0]!);
  const rest = halves.length === 2 ? grp(halves[1]!) : [];
  if (!head || !rest) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const fill = 8 - head.length - rest.length;
    if (fill < 1) return undefined;
    groups = [...head, ...new Array<number>(fill).fill(0), ...rest];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return undefined;
  return groups.reduce((a, g) => (a << 16n) | BigInt(g), 0n);
}

export function parseIpv6(s: string): { value: bigint; mask: bigint } {
  const slash = s.indexOf('/');
  const v = ipv6One(slash < 0 ? s : s.slice(0, slash));
  if (v === undefined) throw new ValueError(`${s}: invalid IPv6 address`);
  if (slash < 0) return { value: v, mask: allOnes(128) };
  const ms = s.slice(slash + 1);
  if (/^\d+$/.test(ms)) {
    const n = Number(ms);
    if (n > 128) throw new ValueError(`${s}: IPv6 network prefix bits not between 0 and 128, inclusive`);
    return { value: v, mask: prefixMask(n, 128) };
  }
  const m = ipv6One(ms);
  if (m === undefined) throw new ValueError(`${s}: invalid IPv6 address`);
  return { value: v, mask: m };
}

/** inet_ntop(AF_INET6) as glibc prints it (the datapath's printer, on four 32-bit words). */
export function formatIpv6(v: bigint): string {
  const w = [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) w[i] = Number((v >> BigInt((3 - i) * 32)) & 0xffffffffn);
  return formatIp6(w);
}

export function formatIpv6Masked(v: bigint, m: bigint): string {
  if (m === allOnes(128)) return formatIpv6(v);
  const n = cidrLength(m, 128);
  return n >= 0 ? `${formatIpv6(v)}/${n}` : `${formatIpv6(v)}/${formatIpv6(m)}`;
}

// --- OpenFlow ports --------------------------------------------------------------

const PORT_NAMES: ReadonlyArray<readonly [string, number]> = [
  ['IN_PORT', OFPP.IN_PORT],
  ['TABLE', OFPP.TABLE],
  ['NORMAL', OFPP.NORMAL],
  ['FLOOD', OFPP.FLOOD],
  ['ALL', OFPP.ALL],
  ['CONTROLLER', OFPP.CONTROLLER],
  ['LOCAL', OFPP.LOCAL],
  ['ANY', OFPP.ANY],
  ['NONE', OFPP.ANY],
];

/**
 * ofputil_port_from_string(): a reserved name (any case) or a decimal number,
 * OpenFlow 1.0 style (< 0xff00, reserved 0xfff8..0xffff) or 1.1 style
 * (0xffffff00 and up). Returns the OpenFlow 1.3 port number, or undefined.
 */
export function parsePort(s: string): number | undefined {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n > 0xffffffff) return undefined;
    if (n < 0xff00) return n;
    if (n <= 0xffff) return n + 0xffff0000; // OF1.0 reserved range, as OF1.1+
    if (n < OFPP.MAX) return undefined;
    return n;
  }
  const up = s.toUpperCase();
  for (const [name, v] of PORT_NAMES) if (name === up) return v;
  return undefined;
}

/** ofputil_format_port(): reserved ports by name, others in decimal. */
export function formatPort(p: number): string {
  for (const [name, v] of PORT_NAMES) if (v === p) return name;
  if (p >= OFPP.MAX) return String(p - 0xffff0000);
  return String(p);
}

// --- durations ------------------------------------------------------------------------

/** ofp_print_duration(): "1.234s" (3 decimals for whole milliseconds, else as many as needed). */
export function formatDuration(sec: number, nsec: number): string {
  let s = String(sec);
  if (nsec > 0) {
    const ms = Math.floor(nsec / 1000000);
    if (ms * 1000000 === nsec) s += `.${String(ms).padStart(3, '0')}`;
    else s += `.${String(nsec).padStart(9, '0').replace(/0+$/, '')}`;
  }
  return `${s}s`;
}
