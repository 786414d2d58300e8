// ovs-vsctl's value syntax for columns (ovsdb-data.c's ovsdb_datum_from_string
// and ovsdb_datum_to_string): atoms bare or "C-quoted", sets as [a, b] or
// a,b, maps as {k=v, k2=v2}; printed the same way, strings quoted only when
// they need it. Values here are normalised: every column is an array of atoms,
// maps a Map, whatever its min/max.

import type { RpcAtom, RpcBaseType, RpcColumn } from '../vswitchd/rpc/rpc-schema.js';

export type Atom = RpcAtom;
export type CDatum = Atom[] | Map<Atom, Atom>;

export class VsctlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VsctlError';
  }
}

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}

/** Resolves a uuid atom's text: a UUID, or a @name symbol from --id. */
export type SymbolResolver = (name: string) => string;

function stringNeedsQuotes(s: string): boolean {
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(s)) return true;
  return s === 'true' || s === 'false' || isUuid(s);
}

export function formatAtom(a: Atom, base: RpcBaseType, bare = false): string {
  if (base.type === 'string' && typeof a === 'string') return !bare && stringNeedsQuotes(a) ? JSON.stringify(a) : a;
  return String(a);
}

export function formatDatum(d: CDatum, col: RpcColumn, bare = false): string {
  if (d instanceof Map) {
    const items = [...d].map(([k, v]) => `${formatAtom(k, col.key, bare)}=${formatAtom(v, col.value!, bare)}`);
    return bare ? items.join(' ') : `{${items.join(', ')}}`;
  }
  const items = d.map((a) => formatAtom(a, col.key, bare));
  if (bare) return items.join(' ');
  if (col.max === 1 && items.length === 1) return items[0];
  return `[${items.join(', ')}]`;
}

/** OVSDB JSON datum (as in ovs-vsctl --format=json). */
export function datumJson(d: CDatum, col: RpcColumn): unknown {
  const atom = (a: Atom, b: RpcBaseType): unknown => (b.type === 'uuid' ? ['uuid', a] : a);
  if (d instanceof Map) return ['map', [...d].map(([k, v]) => [atom(k, col.key), atom(v, col.value!)])];
  if (d.length === 1 && col.max === 1) return atom(d[0], col.key);
  if (d.length === 1) return atom(d[0], col.key);
  return ['set', d.map((a) => atom(a, col.key))];
}

// --- parsing -------------------------------------------------------------------

/** Splits `text` at top-level occurrences of any char in `seps`, honouring "quotes". */
function splitTop(text: string, seps: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      cur += c;
      if (c === '\\' && i + 1 < text.length) cur += text[++i];
      else if (c === '"') q = false;
    } else if (c === '"') {
      q = true;
      cur += c;
    } else if (seps.includes(c)) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (q) throw new VsctlError(`${text}: unterminated quoted string`);
  out.push(cur);
  return out;
}

function unquote(s: string): string {
  if (!s.startsWith('"')) return s;
  try {
    const v = JSON.parse(s) as unknown;
    if (typeof v === 'string') return v;
  } catch {
    // fall through
  }
  throw new VsctlError(`${s}: invalid quoted string`);
}

export function parseAtom(text: string, base: RpcBaseType, resolve?: SymbolResolver): Atom {
  const t = text.trim();
  let a: Atom;
  switch (base.type) {
    case 'integer':
      if (!/^-?\d+$/.test(t)) throw new VsctlError(`"${t}" is not a valid integer or range`);
      a = Number(t);
      break;
    case 'real':
      if (t === '' || !Number.isFinite(Number(t))) throw new VsctlError(`"${t}" is not a valid real number`);
      a = Number(t);
      break;
    case 'boolean':
      // ovs-vsctl also takes yes/no, on/off, 1/0.
      if (['true', 'yes', 'on', '1'].includes(t)) a = true;
      else if (['false', 'no', 'off', '0'].includes(t)) a = false;
      else throw new VsctlError(`"${t}" is not a valid boolean (use "true" or "false")`);
      break;
    case 'string':
      a = unquote(t);
      break;
    case 'uuid':
      if (t.startsWith('@') && resolve) a = resolve(t);
      else if (isUuid(t)) a = t.toLowerCase();
      else throw new VsctlError(`"${t}" is not a valid UUID`);
      break;
  }
  if (base.enum && !base.enum.includes(a)) {
    throw new VsctlError(`constraint violation: ${formatAtom(a, base)} is not one of the allowed values ([${base.enum.map((e) => formatAtom(e, base)).join(', ')}])`);
  }
  if (base.type === 'integer') {
    const n = a as number;
    const lo = base.minInteger;
    const hi = base.maxInteger;
    if ((lo !== undefined && n < lo) || (hi !== undefined && n > hi)) {
      // ovsdb_base_type's messages
      if (lo !== undefined && hi !== undefined) throw new VsctlError(`constraint violation: ${n} is not in the valid range ${lo} to ${hi} (inclusive)`);
      if (lo !== undefined) throw new VsctlError(`constraint violation: ${n} is less than minimum allowed value ${lo}`);
      throw new VsctlError(`constraint violation: ${n} is greater than maximum allowed value ${hi}`);
    }
  }
  return a;
}

/** A whole column value: `[a,b]`, `a,b`, `{k=v}`, `k=v,k2=v2`, `[]`, `{}` or a single atom. */
export function parseDatum(text: string, col: RpcColumn, resolve?: SymbolResolver): CDatum {
  let t = text.trim();
  if (col.value) {
    if (t.startsWith('{') && t.endsWith('}')) t = t.slice(1, -1);
    const m = new Map<Atom, Atom>();
    if (t.trim() === '') return m;
    for (const item of splitTop(t, ',')) {
      const kv = splitTop(item, '=');
      if (kv.length !== 2) throw new VsctlError(`${item.trim()}: syntax error: expected "key=value"`);
      m.set(parseAtom(kv[0], col.key, resolve), parseAtom(kv[1], col.value, resolve));
    }
    return sortMap(m);
  }
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1);
  const atoms: Atom[] = [];
  if (t.trim() !== '') {
    for (const x of splitTop(t, ',')) {
      // Integer sets take ranges: 1-5 (ovs-vsctl's "valid integer or range").
      const range = col.key.type === 'integer' ? /^\s*(-?\d+)-(-?\d+)\s*$/.exec(x) : null;
      if (range) {
        const [lo, hi] = [Number(range[1]), Number(range[2])];
        if (hi < lo || hi - lo >= 4096) throw new VsctlError(`"${x.trim()}" is not a valid integer range (at most 4096 values, low to high)`);
        for (let n = lo; n <= hi; n++) atoms.push(parseAtom(String(n), col.key, resolve));
      } else atoms.push(parseAtom(x, col.key, resolve));
    }
  }
  if (col.max !== null && atoms.length > col.max) throw new VsctlError(`${text.trim()}: ${atoms.length} value(s) specified but the maximum number is ${col.max}`);
  return sortSet(atoms);
}

export function sortSet(a: Atom[]): Atom[] {
  const out = [...new Set(a)];
  out.sort(compareAtoms);
  return out;
}

export function sortMap(m: Map<Atom, Atom>): Map<Atom, Atom> {
  return new Map([...m].sort((x, y) => compareAtoms(x[0], y[0])));
}

export function compareAtoms(a: Atom, b: Atom): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function datumsEqual(a: CDatum, b: CDatum): boolean {
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map) || !(b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || b.get(k) !== v) return false;
    return true;
  }
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function datumIsEmpty(d: CDatum): boolean {
  return d instanceof Map ? d.size === 0 : d.length === 0;
}
