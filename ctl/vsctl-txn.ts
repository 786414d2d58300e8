// tsvs-vsctl's view of the database during one invocation (ovs-vsctl's IDL
// plus its transaction): a snapshot of every row, changed in place by the
// commands, then turned into one list of OVSDB operations (insert with
// uuid-names, update of changed columns, delete) that the daemon runs
// atomically, guarded by the snapshot's transaction id.

import type { RpcColumn, RpcSchema, RpcTable } from '../vswitchd/rpc/rpc-schema.js';
import { compareAtoms, datumsEqual, sortMap, sortSet, type Atom, type CDatum, VsctlError } from './vsctl-values.js';

export interface CRow {
  readonly uuid: string;
  readonly table: string;
  readonly cols: Map<string, CDatum>;
}

/** Placeholder uuids for rows inserted by this invocation, replaced by uuid-names in the ops. */
const NEW_PREFIX = '00000000-0000-4000-8000-';

export type JsonOp = Record<string, unknown>;

export class VsctlTxn {
  private readonly rows = new Map<string, Map<string, CRow>>();
  private readonly original = new Map<string, Map<string, CDatum>>();
  private readonly inserted = new Set<string>();
  private readonly deleted = new Map<string, string>();
  private readonly softDeleted = new Set<string>();
  private nextNew = 1;
  readonly comments: string[] = [];

  constructor(
    readonly schema: RpcSchema,
    /** Rows per table as the RPC delivers them (scalar atom / null / array / Map). */
    snapshot: Record<string, Record<string, unknown>[]>,
  ) {
    for (const t of Object.keys(schema.tables)) this.rows.set(t, new Map());
    for (const [t, list] of Object.entries(snapshot)) {
      const ts = this.table(t);
      for (const r of list) {
        const uuid = r['_uuid'] as string;
        const cols = new Map<string, CDatum>();
        for (const [c, cs] of Object.entries(ts.columns)) cols.set(c, normalise(r[c], cs));
        this.rows.get(t)!.set(uuid, { uuid, table: t, cols });
        this.original.set(uuid, new Map(cols));
      }
    }
  }

  table(name: string): RpcTable {
    const t = this.schema.tables[name];
    if (!t) throw new VsctlError(`unknown table "${name}"`);
    return t;
  }

  column(table: string, name: string): RpcColumn {
    const c = this.table(table).columns[name];
    if (!c) throw new VsctlError(`${table} does not contain a column whose name matches "${name}"`);
    return c;
  }

  list(table: string): CRow[] {
    return [...this.rows.get(table)!.values()];
  }

  get(table: string, uuid: string): CRow | undefined {
    return this.rows.get(table)?.get(uuid);
  }

  isNew(uuid: string): boolean {
    return this.inserted.has(uuid);
  }

  insert(table: string, values: Map<string, CDatum> = new Map()): CRow {
    const ts = this.table(table);
    const uuid = `${NEW_PREFIX}${String(this.nextNew++).padStart(12, '0')}`;
    const cols = new Map<string, CDatum>();
    for (const [c, cs] of Object.entries(ts.columns)) cols.set(c, values.get(c) ?? defaultOf(cs));
    const row = { uuid, table, cols };
    this.rows.get(table)!.set(uuid, row);
    this.inserted.add(uuid);
    return row;
  }

  set(row: CRow, column: string, value: CDatum): void {
    const c = this.column(row.table, column);
    row.cols.set(column, value instanceof Map ? sortMap(value) : sortSet(value));
    if (c.value === undefined && value instanceof Map) throw new VsctlError(`${column} is not a map column`);
  }

  /** Adds atoms to a set column (or entries to a map). */
  addTo(row: CRow, column: string, add: CDatum): void {
    const cur = row.cols.get(column)!;
    if (cur instanceof Map) {
      const m = new Map(cur);
      for (const [k, v] of add as Map<Atom, Atom>) if (!m.has(k)) m.set(k, v);
      this.set(row, column, m);
    } else this.set(row, column, [...cur, ...(add as Atom[])]);
  }

  removeFrom(row: CRow, column: string, pred: (k: Atom, v?: Atom) => boolean): void {
    const cur = row.cols.get(column)!;
    if (cur instanceof Map) this.set(row, column, new Map([...cur].filter(([k, v]) => !pred(k, v))));
    else this.set(row, column, cur.filter((a) => !pred(a)));
  }

  /** Rows (other than itself) holding a strong reference to `uuid`. */
  strongReferrers(table: string, uuid: string): CRow[] {
    const out: CRow[] = [];
    for (const [t, m] of this.rows) {
      const ts = this.schema.tables[t];
      const cols = Object.entries(ts.columns).filter(([, cs]) => (cs.key.refTable === table && cs.key.refType !== 'weak') || (cs.value?.refTable === table && cs.value.refType !== 'weak'));
      if (cols.length === 0) continue;
      for (const r of m.values()) {
        if (r.uuid === uuid) continue;
        if (cols.some(([c]) => { const d = r.cols.get(c)!; return d instanceof Map ? [...d].some(([k, v]) => k === uuid || v === uuid) : d.includes(uuid); })) out.push(r);
      }
    }
    return out;
  }

  /**
   * Removes `row` from this view. With `keepIfReferenced`, no delete is sent
   * if a strong reference to it remains at commit (ovs-vsctl's destroy).
   */
  delete(row: CRow, keepIfReferenced = false): void {
    this.rows.get(row.table)!.delete(row.uuid);
    if (this.inserted.has(row.uuid)) this.inserted.delete(row.uuid);
    else this.deleted.set(row.uuid, row.table);
    if (keepIfReferenced) this.softDeleted.add(row.uuid);
    // Drop weak references to it, as OVSDB will at commit (commands remove strong ones themselves).
    for (const [t, m] of this.rows) {
      const ts = this.schema.tables[t];
      for (const r of m.values()) {
        for (const [c, cs] of Object.entries(ts.columns)) {
          if ((cs.key.refTable === row.table && cs.key.refType === 'weak') || (cs.value?.refTable === row.table && cs.value.refType === 'weak')) {
            const d = r.cols.get(c)!;
            if (d instanceof Map) {
              if ([...d].some(([k, v]) => k === row.uuid || v === row.uuid)) r.cols.set(c, new Map([...d].filter(([k, v]) => k !== row.uuid && v !== row.uuid)));
            } else if (d.includes(row.uuid)) r.cols.set(c, d.filter((a) => a !== row.uuid));
          }
        }
      }
    }
  }

  /** The operations that turn the snapshot into the current state. `names` maps placeholder uuid -> uuid-name. */
  ops(): { ops: JsonOp[]; names: Map<string, string> } {
    const names = new Map<string, string>();
    for (const u of this.inserted) names.set(u, `row${u.slice(NEW_PREFIX.length).replace(/^0+/, '')}`);
    const ops: JsonOp[] = [];
    const enc = (d: CDatum, cs: RpcColumn): unknown => {
      const atom = (a: Atom): unknown => (typeof a === 'string' && names.has(a) ? ['named-uuid', names.get(a)] : a);
      if (d instanceof Map) return { $map: [...d].map(([k, v]) => [atom(k), atom(v)]) };
      const items = d.map(atom);
      if (cs.max === 1) return items.length === 0 ? null : items[0];
      return items;
    };
    for (const [t, m] of this.rows) {
      const ts = this.schema.tables[t];
      for (const r of m.values()) {
        if (this.inserted.has(r.uuid)) {
          const row: Record<string, unknown> = {};
          for (const [c, d] of r.cols) if (!datumsEqual(d, defaultOf(ts.columns[c]))) row[c] = enc(d, ts.columns[c]);
          ops.push({ op: 'insert', table: t, uuidName: names.get(r.uuid), row });
          continue;
        }
        const orig = this.original.get(r.uuid)!;
        const row: Record<string, unknown> = {};
        for (const [c, d] of r.cols) if (!datumsEqual(d, orig.get(c)!)) row[c] = enc(d, ts.columns[c]);
        if (Object.keys(row).length > 0) ops.push({ op: 'update', table: t, where: [['_uuid', '==', r.uuid]], row });
      }
    }
    for (const [uuid, t] of this.deleted) {
      if (this.softDeleted.has(uuid) && this.strongReferrers(t, uuid).length > 0) continue;
      ops.push({ op: 'delete', table: t, where: [['_uuid', '==', uuid]] });
    }
    for (const c of this.comments) ops.push({ op: 'comment', comment: c });
    // Named uuids travel as {"namedUuid": name}; ["named-uuid", n] above is rewritten here.
    return { ops: JSON.parse(JSON.stringify(ops), (_k, v: unknown) => (Array.isArray(v) && v.length === 2 && v[0] === 'named-uuid' ? { namedUuid: v[1] } : v)) as JsonOp[], names };
  }
}

export function defaultOf(c: RpcColumn): CDatum {
  if (c.value) return new Map();
  if (c.min === 0) return [];
  switch (c.key.type) {
    case 'integer':
    case 'real':
      return [c.key.enum ? c.key.enum[0] : c.key.minInteger !== undefined && c.key.minInteger > 0 ? c.key.minInteger : 0];
    case 'boolean':
      return [false];
    case 'string':
      return [c.key.enum ? c.key.enum[0] : ''];
    case 'uuid':
      return [];
  }
}

/** RPC row value -> normalised datum. */
export function normalise(v: unknown, c: RpcColumn): CDatum {
  if (v instanceof Map) return sortMap(new Map(v as Map<Atom, Atom>));
  if (c.value) return new Map();
  if (v === null || v === undefined) return [];
  if (Array.isArray(v)) return sortSet(v as Atom[]);
  return [v as Atom];
}

export { compareAtoms };
