// Column values (OVSDB "datums"): how a row holds them, how caller input is
// checked against a column's type and constraints, and equality/ordering.
//
// In a row, a column's value is, by the column's kind:
//   scalar (min 1, max 1)   Atom
//   optional (min 0, max 1) Atom | null
//   set                     readonly Atom[], sorted, no duplicates
//   map                     ReadonlyMap<Atom, Atom>, in key order
// UUIDs are canonical lowercase strings.

import { DbError } from './errors.js';
import { compareAtoms, type Atom, type BaseType, type ColumnSchema } from './schema.js';

export type Datum = Atom | null | readonly Atom[] | ReadonlyMap<Atom, Atom>;

/** A reference to a row inserted earlier in the same transaction under `uuidName`. */
export interface NamedUuid {
  readonly namedUuid: string;
}
export function named(name: string): NamedUuid {
  return { namedUuid: name };
}

export type AtomInput = Atom | NamedUuid;
/**
 * What callers may pass for a column: a single atom or null for scalar/optional
 * columns (a one-element array also works), an array for sets, and for maps a
 * Map, a plain object, or an array of [key, value] pairs.
 */
export type DatumInput =
  | AtomInput
  | null
  | readonly AtomInput[]
  | ReadonlyMap<AtomInput, AtomInput>
  | { readonly [key: string]: AtomInput }
  | readonly (readonly [AtomInput, AtomInput])[];

/** Resolves uuid-names to the uuids of rows inserted earlier in the transaction. */
export type NameResolver = (name: string) => string;

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function isNamed(v: unknown): v is NamedUuid {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map) &&
    typeof (v as { namedUuid?: unknown }).namedUuid === 'string';
}

function show(v: unknown): string {
  if (v instanceof Map) return `Map(${v.size})`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Checks one atom against a base type. `where` names the column for messages. */
export function toAtom(base: BaseType, input: unknown, where: string, resolve?: NameResolver): Atom {
  let a: Atom;
  switch (base.type) {
    case 'integer':
      if (typeof input !== 'number' || !Number.isSafeInteger(input)) {
        throw new DbError('syntax error', `${where}: expected an integer, got ${show(input)}`);
      }
      a = input;
      if ((base.minInteger !== undefined && a < base.minInteger) || (base.maxInteger !== undefined && a > base.maxInteger)) {
        throw new DbError('constraint violation', `${where}: ${a} is outside the range ${base.minInteger ?? '-inf'}..${base.maxInteger ?? 'inf'}`);
      }
      break;
    case 'real':
      if (typeof input !== 'number' || !Number.isFinite(input)) {
        throw new DbError('syntax error', `${where}: expected a finite real number, got ${show(input)}`);
      }
      a = input;
      if ((base.minReal !== undefined && a < base.minReal) || (base.maxReal !== undefined && a > base.maxReal)) {
        throw new DbError('constraint violation', `${where}: ${a} is outside the range ${base.minReal ?? '-inf'}..${base.maxReal ?? 'inf'}`);
      }
      break;
    case 'boolean':
      if (typeof input !== 'boolean') throw new DbError('syntax error', `${where}: expected true or false, got ${show(input)}`);
      a = input;
      break;
    case 'string':
      if (typeof input !== 'string') throw new DbError('syntax error', `${where}: expected a string, got ${show(input)}`);
      a = input;
      if ((base.minLength !== undefined && a.length < base.minLength) || (base.maxLength !== undefined && a.length > base.maxLength)) {
        throw new DbError('constraint violation', `${where}: string length ${a.length} is outside ${base.minLength ?? 0}..${base.maxLength ?? 'inf'}`);
      }
      break;
    case 'uuid':
      if (isNamed(input)) {
        if (!resolve) throw new DbError('syntax error', `${where}: a uuid-name ('${input.namedUuid}') is not allowed here`);
        a = resolve(input.namedUuid);
      } else if (typeof input === 'string' && UUID_RE.test(input.toLowerCase())) {
        a = input.toLowerCase();
      } else {
        throw new DbError('syntax error', `${where}: expected a UUID or { namedUuid }, got ${show(input)}`);
      }
      break;
  }
  if (base.enum !== undefined && !base.enum.includes(a)) {
    throw new DbError('constraint violation', `${where}: ${show(a)} is not one of ${base.enum.map(show).join(', ')}`);
  }
  return a;
}

/** The value a column has when an insert does not set it (RFC 7047 §5.1). */
export function defaultDatum(col: ColumnSchema): Datum {
  switch (col.kind) {
    case 'scalar':
      return defaultAtom(col.type.key);
    case 'optional':
      return null;
    case 'set':
      return EMPTY_SET;
    case 'map':
      return EMPTY_MAP;
  }
}

const EMPTY_SET: readonly Atom[] = Object.freeze([]);
const EMPTY_MAP: ReadonlyMap<Atom, Atom> = new Map();

function defaultAtom(base: BaseType): Atom {
  switch (base.type) {
    case 'integer':
    case 'real':
      return 0;
    case 'boolean':
      return false;
    case 'string':
      return '';
    case 'uuid':
      return '00000000-0000-0000-0000-000000000000';
  }
}

/** Keys (set elements, map keys, or the 0..1 atoms of scalar/optional) of a datum. */
export function datumKeys(d: Datum): readonly Atom[] {
  if (d === null) return EMPTY_SET;
  if (Array.isArray(d)) return d;
  if (d instanceof Map) return [...d.keys()];
  return [d as Atom];
}

/** Builds a normalized datum of `col`'s kind from keys (and values for maps). Checks size. */
export function makeDatum(col: ColumnSchema, keys: readonly Atom[], values: readonly Atom[] | undefined, where: string): Datum {
  const n = keys.length;
  if (n < col.type.min || n > col.type.max) {
    const max = col.type.max === Infinity ? 'unlimited' : col.type.max;
    throw new DbError('constraint violation', `${where}: needs ${col.type.min}..${max} elements, got ${n}`);
  }
  switch (col.kind) {
    case 'scalar':
      return keys[0];
    case 'optional':
      return n === 0 ? null : keys[0];
    case 'set':
      return [...keys].sort(compareAtoms);
    case 'map': {
      const idx = keys.map((_, i) => i).sort((i, j) => compareAtoms(keys[i], keys[j]));
      const m = new Map<Atom, Atom>();
      for (const i of idx) m.set(keys[i], values![i]);
      return m;
    }
  }
}

/** Checks caller input for a column and returns the normalized datum. */
export function toDatum(col: ColumnSchema, input: unknown, where: string, resolve?: NameResolver): Datum {
  const { keys, values } = parseElements(col, input, where, resolve);
  return makeDatum(col, keys, values, where);
}

/**
 * Parses input as a set of atoms (or map pairs) of `col`'s element types without
 * checking the column's size; duplicates are an error, as in OVSDB.
 */
export function parseElements(
  col: ColumnSchema,
  input: unknown,
  where: string,
  resolve?: NameResolver,
  asKeysOnly = false,
): { keys: Atom[]; values?: Atom[] } {
  const keyT = col.type.key;
  const valT = col.type.value;
  if (valT !== undefined && !asKeysOnly) {
    let pairs: [unknown, unknown][];
    if (input instanceof Map) pairs = [...input.entries()];
    else if (Array.isArray(input)) {
      if (!input.every((p) => Array.isArray(p) && p.length === 2)) {
        throw new DbError('syntax error', `${where}: expected a map (Map, object, or [key, value] pairs), got ${show(input)}`);
      }
      pairs = input as [unknown, unknown][];
    } else if (typeof input === 'object' && input !== null && !isNamed(input)) {
      pairs = Object.entries(input).map(([k, v]) => [keyFromString(keyT, k, where), v]);
    } else {
      throw new DbError('syntax error', `${where}: expected a map (Map, object, or [key, value] pairs), got ${show(input)}`);
    }
    const keys: Atom[] = [];
    const values: Atom[] = [];
    const seen = new Set<Atom>();
    for (const [k, v] of pairs) {
      const ka = toAtom(keyT, k, `${where} key`, resolve);
      if (seen.has(ka)) throw new DbError('syntax error', `${where}: map has key ${show(ka)} twice`);
      seen.add(ka);
      keys.push(ka);
      values.push(toAtom(valT, v, `${where}[${show(ka)}]`, resolve));
    }
    return { keys, values };
  }
  const items: unknown[] = input === null ? [] : Array.isArray(input) ? input : [input];
  const keys: Atom[] = [];
  const seen = new Set<Atom>();
  for (const it of items) {
    const a = toAtom(keyT, it, where, resolve);
    if (seen.has(a)) throw new DbError('syntax error', `${where}: set has ${show(a)} twice`);
    seen.add(a);
    keys.push(a);
  }
  return { keys };
}

function keyFromString(base: BaseType, k: string, where: string): unknown {
  switch (base.type) {
    case 'integer':
    case 'real':
      if (!/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(k)) throw new DbError('syntax error', `${where}: map key '${k}' is not a number`);
      return Number(k);
    case 'boolean':
      if (k !== 'true' && k !== 'false') throw new DbError('syntax error', `${where}: map key '${k}' is not a boolean`);
      return k === 'true';
    default:
      return k;
  }
}

export function datumEquals(a: Datum, b: Datum): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (a instanceof Map) {
    if (!(b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) if (b.get(k) !== v || !b.has(k)) return false;
    return true;
  }
  return false;
}
