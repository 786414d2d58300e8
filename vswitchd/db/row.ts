// Rows and the schema lookups every part of the database shares: the row
// shape, building a row from defaults, naming rows in messages, and which
// columns hold references.

import { DbError } from './errors.js';
import { datumEquals, defaultDatum, type Datum, type DatumInput } from './datum.js';
import type { ColumnSchema, DatabaseSchema, TableSchema } from './schema.js';

/** A row: its uuid and one value per column of its table (see datum.ts). */
export interface Row {
  readonly _uuid: string;
  readonly [column: string]: Datum;
}
/** Column values for insert/update; unset columns keep their value (or default). */
export type RowInput = { readonly [column: string]: DatumInput };

export interface RowChange {
  readonly table: string;
  readonly uuid: string;
  /** null for an inserted row. */
  readonly old: Row | null;
  /** null for a deleted row. */
  readonly new: Row | null;
}

export type Tables = ReadonlyMap<string, ReadonlyMap<string, Row>>;

export const UUID_COLUMN: ColumnSchema = {
  name: '_uuid',
  type: { key: { type: 'uuid' }, min: 1, max: 1 },
  kind: 'scalar',
  ephemeral: false,
  mutable: false,
};

export function tableOf(schema: DatabaseSchema, name: unknown): TableSchema {
  const t = typeof name === 'string' ? schema.tables.get(name) : undefined;
  if (!t) throw new DbError('unknown table', `no table ${JSON.stringify(name)} in schema ${schema.name}`, { table: String(name) });
  return t;
}

export function columnOf(table: TableSchema, name: unknown, allowUuid = false): ColumnSchema {
  if (allowUuid && name === '_uuid') return UUID_COLUMN;
  const c = typeof name === 'string' ? table.columns.get(name) : undefined;
  if (!c) throw new DbError('unknown column', `table ${table.name} has no column ${JSON.stringify(name)}`, { table: table.name, column: String(name) });
  return c;
}

/** "Bridge br0" when the row has a name, else "Port 1b2c…". For messages. */
export function describeRow(table: string, row: Row | undefined, uuid: string): string {
  const n = row?.['name'];
  return typeof n === 'string' && n !== '' ? `${table} ${n} (${uuid})` : `${table} ${uuid}`;
}

/** Builds a full row from defaults plus `values`. */
export function makeRow(table: TableSchema, uuid: string, values: ReadonlyMap<string, Datum>): Row {
  const row: Record<string, Datum> = { _uuid: uuid };
  for (const c of table.columns.values()) row[c.name] = values.has(c.name) ? values.get(c.name)! : defaultDatum(c);
  return Object.freeze(row) as Row;
}

const refColumnsCache = new WeakMap<DatabaseSchema, Map<string, ColumnSchema[]>>();

/** Per table, the columns whose keys or values reference rows. */
export function refColumnsOf(schema: DatabaseSchema): ReadonlyMap<string, readonly ColumnSchema[]> {
  let m = refColumnsCache.get(schema);
  if (!m) {
    m = new Map();
    for (const t of schema.tables.values()) {
      m.set(t.name, [...t.columns.values()].filter((c) => c.type.key.refTable !== undefined || c.type.value?.refTable !== undefined));
    }
    refColumnsCache.set(schema, m);
  }
  return m;
}

export function rowsEqual(t: TableSchema, a: Row, b: Row): boolean {
  for (const c of t.columns.keys()) if (!datumEquals(a[c], b[c])) return false;
  return true;
}

/** A JSON-able form of a datum for keys and messages. */
export function datumJson(d: Datum): unknown {
  if (d instanceof Map) return [...d.entries()];
  return d;
}
