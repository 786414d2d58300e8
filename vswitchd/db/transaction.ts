// One OVSDB-style transaction over an overlay of the committed tables: runs
// the operations (RFC 7047 §5.2), then the commit-time checks (garbage
// collection of unreferenced non-root rows, weak reference cleanup,
// referential integrity, maxRows, indexes). Nothing here touches the
// committed state: the Database applies changes() only if all of it passes.

import { randomUUID } from 'node:crypto';
import { compileWhere, matches, unconstrained, type Condition } from './condition.js';
import { DbError } from './errors.js';
import {
  datumEquals,
  datumKeys,
  defaultDatum,
  makeDatum,
  parseElements,
  toAtom,
  UUID_RE,
  type Datum,
  type DatumInput,
  type NameResolver,
} from './datum.js';
import {
  columnOf,
  datumJson,
  describeRow,
  makeRow,
  refColumnsOf,
  rowsEqual,
  tableOf,
  UUID_COLUMN,
  type Row,
  type RowChange,
  type RowInput,
  type Tables,
} from './row.js';
import type { Atom, BaseType, ColumnSchema, DatabaseSchema, TableSchema } from './schema.js';

export type { Condition, ConditionFunction } from './condition.js';
export type { Row, RowChange, RowInput } from './row.js';

export type Mutator = '+=' | '-=' | '*=' | '/=' | '%=' | 'insert' | 'delete';
export type Mutation = readonly [column: string, mutator: Mutator, value: DatumInput];

export type Operation =
  | { readonly op: 'insert'; readonly table: string; readonly row?: RowInput; readonly uuidName?: string; readonly uuid?: string }
  | { readonly op: 'select'; readonly table: string; readonly where?: readonly Condition[]; readonly columns?: readonly string[] }
  | { readonly op: 'update'; readonly table: string; readonly where: readonly Condition[]; readonly row: RowInput }
  | { readonly op: 'mutate'; readonly table: string; readonly where: readonly Condition[]; readonly mutations: readonly Mutation[] }
  | { readonly op: 'delete'; readonly table: string; readonly where: readonly Condition[] }
  | {
      readonly op: 'wait';
      readonly table: string;
      readonly where?: readonly Condition[];
      readonly columns: readonly string[];
      readonly until: '==' | '!=';
      readonly rows: readonly RowInput[];
      /** Only 0 (the default) is meaningful: tsvs never blocks inside a transaction. */
      readonly timeout?: number;
    }
  | {
      /** Fails the transaction unless min..max rows match (defaults: 1..unlimited). */
      readonly op: 'assert';
      readonly table: string;
      readonly where?: readonly Condition[];
      readonly min?: number;
      readonly max?: number;
      /** Used as the error message when the assertion fails. */
      readonly message?: string;
    }
  | { readonly op: 'comment'; readonly comment: string }
  | { readonly op: 'abort' };

export interface OperationResult {
  /** insert: the new row's uuid. */
  uuid?: string;
  /** update, mutate, delete: rows matched. */
  count?: number;
  /** select: the matching rows (projected on `columns` if given). */
  rows?: Row[];
}

export class Transaction {
  private readonly tables = new Map<string, TableOverlay>();
  /** Rows written (inserted, updated, deleted) per table. */
  private readonly dirty = new Map<string, Set<string>>();
  private readonly names = new Map<string, string>();
  private readonly definedNames = new Set<string>();
  /**
   * Set when the reference graph may have changed (a delete, a non-root insert,
   * a reference written): only then do GC and reference checks need to run,
   * since the committed state already satisfies them.
   */
  private refsTouched = false;
  private readonly refCols: ReadonlyMap<string, readonly ColumnSchema[]>;
  readonly comments: string[] = [];

  constructor(
    private readonly schema: DatabaseSchema,
    private readonly base: Tables,
  ) {
    for (const t of schema.tables.keys()) this.tables.set(t, new TableOverlay(base.get(t) ?? new Map()));
    this.refCols = refColumnsOf(schema);
  }

  /** Notes whether writing `row` over `old` can change the reference graph. */
  private noteRefs(t: TableSchema, old: Row | undefined, row: Row | undefined): void {
    if (this.refsTouched) return;
    if (row === undefined || (old === undefined && !t.isRoot)) {
      this.refsTouched = true;
      return;
    }
    for (const c of this.refCols.get(t.name)!) {
      const before = old === undefined ? defaultDatum(c) : old[c.name];
      if (!datumEquals(before, row[c.name])) {
        this.refsTouched = true;
        return;
      }
    }
  }

  /** Runs every operation, then the commit checks. Throws DbError on the first failure. */
  run(ops: readonly Operation[]): OperationResult[] {
    if (!Array.isArray(ops)) throw new DbError('syntax error', 'a transaction is a list of operations');
    // uuid-names may be referred to before the insert that defines them.
    ops.forEach((op, i) => {
      if (op?.op === 'insert' && op.uuidName !== undefined) {
        if (typeof op.uuidName !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(op.uuidName)) {
          throw new DbError('syntax error', `uuid-name ${JSON.stringify(op.uuidName)} is not an identifier`).atOp(i);
        }
        if (this.names.has(op.uuidName)) throw new DbError('duplicate uuid-name', `uuid-name '${op.uuidName}' is defined twice`).atOp(i);
        this.names.set(op.uuidName, op.uuid ?? randomUUID());
      }
    });
    const results = ops.map((op, i) => {
      try {
        return this.runOne(op);
      } catch (e) {
        throw e instanceof DbError ? e.atOp(i) : e;
      }
    });
    this.commitChecks();
    return results;
  }

  private readonly resolve: NameResolver = (name) => {
    const u = this.names.get(name);
    if (u === undefined) throw new DbError('not found', `uuid-name '${name}' is not defined by any insert in this transaction`);
    return u;
  };

  private rows(table: string): TableOverlay {
    return this.tables.get(table)!;
  }

  private markDirty(table: string, uuid: string): void {
    let s = this.dirty.get(table);
    if (!s) this.dirty.set(table, (s = new Set()));
    s.add(uuid);
  }

  private put(table: string, row: Row): void {
    const m = this.rows(table);
    this.noteRefs(this.schema.tables.get(table)!, m.get(row._uuid), row);
    m.set(row._uuid, row);
    this.markDirty(table, row._uuid);
  }

  private remove(table: string, uuid: string): void {
    this.refsTouched = true;
    this.rows(table).delete(uuid);
    this.markDirty(table, uuid);
  }

  private select(t: TableSchema, where: readonly Condition[] | undefined): Row[] {
    const conds = compileWhere(t, where, this.resolve);
    const rows = this.rows(t.name);
    // Fast path: a condition on _uuid == X.
    const byUuid = conds.find((c) => c.col === UUID_COLUMN && c.fn === '==' && c.keys.length === 1);
    if (byUuid) {
      const r = rows.get(byUuid.keys[0] as string);
      return r && matches(conds, r) ? [r] : [];
    }
    const out: Row[] = [];
    for (const r of rows.values()) if (matches(conds, r)) out.push(r);
    return out;
  }

  private parseRow(t: TableSchema, input: unknown, forUpdate: boolean): Map<string, Datum> {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new DbError('syntax error', `row for ${t.name} must be an object of column values`);
    }
    const out = new Map<string, Datum>();
    for (const [name, value] of Object.entries(input)) {
      const c = columnOf(t, name);
      if (forUpdate && !c.mutable) {
        throw new DbError('constraint violation', `${t.name}.${name} cannot be changed after insert (delete and re-create the row)`, { table: t.name, column: name });
      }
      out.set(name, this.toDatum(t, c, value));
    }
    return out;
  }

  private toDatum(t: TableSchema, c: ColumnSchema, value: unknown): Datum {
    const { keys, values } = parseElements(c, value, `${t.name}.${c.name}`, this.resolve);
    return makeDatum(c, keys, values, `${t.name}.${c.name}`);
  }

  private runOne(op: Operation): OperationResult {
    if (typeof op !== 'object' || op === null) throw new DbError('syntax error', 'an operation must be an object');
    switch (op.op) {
      case 'insert': {
        const t = tableOf(this.schema, op.table);
        let uuid: string;
        if (op.uuidName !== undefined) {
          uuid = this.names.get(op.uuidName)!;
          this.definedNames.add(op.uuidName);
        } else uuid = op.uuid ?? randomUUID();
        if (op.uuid !== undefined) {
          if (typeof op.uuid !== 'string' || !UUID_RE.test(op.uuid)) throw new DbError('syntax error', `insert: 'uuid' ${JSON.stringify(op.uuid)} is not a lowercase UUID`);
          uuid = op.uuid;
        }
        for (const m of this.tables.values()) {
          if (m.has(uuid)) throw new DbError('constraint violation', `insert into ${t.name}: a row with uuid ${uuid} already exists`, { table: t.name, uuid });
        }
        const values = op.row === undefined ? new Map<string, Datum>() : this.parseRow(t, op.row, false);
        this.put(t.name, makeRow(t, uuid, values));
        return { uuid };
      }
      case 'select': {
        const t = tableOf(this.schema, op.table);
        const rows = this.select(t, op.where);
        if (op.columns === undefined) return { rows };
        const cols = op.columns.map((c) => columnOf(t, c, true).name);
        return {
          rows: rows.map((r) => {
            const p: Record<string, Datum> = { _uuid: r._uuid };
            for (const c of cols) p[c] = r[c];
            return p as Row;
          }),
        };
      }
      case 'update': {
        const t = tableOf(this.schema, op.table);
        const values = this.parseRow(t, op.row, true);
        const rows = this.select(t, op.where);
        for (const r of rows) {
          const nr: Record<string, Datum> = { ...r };
          for (const [k, v] of values) nr[k] = v;
          this.put(t.name, Object.freeze(nr) as Row);
        }
        return { count: rows.length };
      }
      case 'mutate': {
        const t = tableOf(this.schema, op.table);
        if (!Array.isArray(op.mutations)) throw new DbError('syntax error', "mutate: 'mutations' must be a list of [column, mutator, value]");
        const muts = op.mutations.map((m) => this.compileMutation(t, m));
        const rows = this.select(t, op.where);
        for (const r of rows) {
          const nr: Record<string, Datum> = { ...r };
          for (const m of muts) nr[m.col.name] = m.apply(nr[m.col.name], r);
          this.put(t.name, Object.freeze(nr) as Row);
        }
        return { count: rows.length };
      }
      case 'delete': {
        const t = tableOf(this.schema, op.table);
        const rows = this.select(t, op.where);
        for (const r of rows) this.remove(t.name, r._uuid);
        return { count: rows.length };
      }
      case 'wait': {
        const t = tableOf(this.schema, op.table);
        if (op.until !== '==' && op.until !== '!=') throw new DbError('syntax error', "wait: 'until' must be '==' or '!='");
        if (!Array.isArray(op.columns) || !Array.isArray(op.rows)) throw new DbError('syntax error', "wait: 'columns' and 'rows' must be lists");
        const cols = op.columns.map((c) => columnOf(t, c, true));
        const project = (get: (c: ColumnSchema) => Datum): string =>
          JSON.stringify(cols.map((c) => datumJson(get(c))));
        const want = op.rows.map((r) => {
          const vals = new Map<string, Datum>();
          for (const [k, v] of Object.entries(r)) {
            const c = columnOf(t, k, true);
            if (!cols.includes(c)) throw new DbError('syntax error', `wait: row has column '${k}' that is not in 'columns'`);
            vals.set(k, c === UUID_COLUMN ? toAtom(c.type.key, v, 'wait _uuid', this.resolve) : this.toDatum(t, c, v));
          }
          return project((c) => {
            if (!vals.has(c.name)) throw new DbError('syntax error', `wait: row lacks column '${c.name}'`);
            return vals.get(c.name)!;
          });
        });
        const have = this.select(t, op.where).map((r) => project((c) => r[c.name]));
        const equal = sameMultiset(want, have);
        if (equal !== (op.until === '==')) {
          throw new DbError('timed out', `wait on ${t.name}: rows are ${op.until === '==' ? 'not' : 'still'} as expected (tsvs does not block in a transaction; retry after the next commit)`, { table: t.name });
        }
        return {};
      }
      case 'assert': {
        const t = tableOf(this.schema, op.table);
        const n = this.select(t, op.where).length;
        const min = op.min ?? 1;
        const max = op.max ?? Infinity;
        if (n < min || n > max) {
          throw new DbError('assertion failed', op.message ?? `${t.name}: ${n} rows match, expected ${min}..${max === Infinity ? 'unlimited' : max}`, { table: t.name });
        }
        return {};
      }
      case 'comment':
        if (typeof op.comment !== 'string') throw new DbError('syntax error', "comment: 'comment' must be a string");
        this.comments.push(op.comment);
        return {};
      case 'abort':
        throw new DbError('aborted', 'transaction aborted by request');
      default:
        throw new DbError('syntax error', `unknown operation ${JSON.stringify((op as { op?: unknown }).op)}`);
    }
  }

  private compileMutation(t: TableSchema, m: Mutation): { col: ColumnSchema; apply: (d: Datum, row: Row) => Datum } {
    if (!Array.isArray(m) || m.length !== 3) throw new DbError('syntax error', `mutation must be [column, mutator, value], got ${JSON.stringify(m)}`);
    const [cname, mutator, value] = m;
    const col = columnOf(t, cname);
    const where = `${t.name}.${col.name}`;
    if (!col.mutable) throw new DbError('constraint violation', `${where} cannot be changed after insert`, { table: t.name, column: col.name });
    const keyT = col.type.key;
    switch (mutator) {
      case '+=':
      case '-=':
      case '*=':
      case '/=':
      case '%=': {
        if (col.kind === 'map' || (keyT.type !== 'integer' && keyT.type !== 'real')) {
          throw new DbError('syntax error', `${where}: '${mutator}' needs an integer or real column`);
        }
        if (mutator === '%=' && keyT.type !== 'integer') throw new DbError('syntax error', `${where}: '%=' needs an integer column`);
        const x = toAtom(unconstrained(keyT), value, `${where} ${mutator} operand`) as number;
        if ((mutator === '/=' || mutator === '%=') && x === 0) throw new DbError('domain error', `${where}: division by zero`);
        const f = (a: number): number => {
          let r: number;
          switch (mutator) {
            case '+=': r = a + x; break;
            case '-=': r = a - x; break;
            case '*=': r = a * x; break;
            case '/=': r = keyT.type === 'integer' ? Math.trunc(a / x) : a / x; break;
            default: r = a % x;
          }
          if (keyT.type === 'integer' ? !Number.isSafeInteger(r) : !Number.isFinite(r)) {
            throw new DbError('range error', `${where}: ${a} ${mutator} ${x} overflows`);
          }
          return toAtom(keyT, r, `${where} after '${mutator}'`) as number;
        };
        return {
          col,
          apply: (d) => {
            const out = datumKeys(d).map((a) => f(a as number));
            if (new Set(out).size !== out.length) throw new DbError('constraint violation', `${where}: '${mutator}' made two elements equal`);
            return makeDatum(col, out, undefined, where);
          },
        };
      }
      case 'insert':
      case 'delete': {
        if (col.kind === 'scalar') throw new DbError('syntax error', `${where}: '${mutator}' needs a set or map column`);
        const loose: ColumnSchema = { ...col, type: { ...col.type, min: 0, max: Infinity } };
        const keysOnly = mutator === 'delete' && col.kind === 'map' && Array.isArray(value) && value.every((v) => !Array.isArray(v));
        const arg = parseElements(loose, value, where, this.resolve, keysOnly);
        return {
          col,
          apply: (d) => {
            if (col.kind === 'map') {
              const m = new Map(d as ReadonlyMap<Atom, Atom>);
              arg.keys.forEach((k, i) => {
                if (mutator === 'insert') {
                  if (!m.has(k)) m.set(k, arg.values![i]);
                } else if (arg.values === undefined || m.get(k) === arg.values[i]) m.delete(k);
              });
              return makeDatum(col, [...m.keys()], [...m.values()], where);
            }
            const s = new Set(datumKeys(d));
            for (const k of arg.keys) if (mutator === 'insert') s.add(k); else s.delete(k);
            return makeDatum(col, [...s], undefined, where);
          },
        };
      }
      default:
        throw new DbError('syntax error', `${where}: unknown mutator ${JSON.stringify(mutator)} (use +=, -=, *=, /=, %=, insert, delete)`);
    }
  }

  // --- commit checks --------------------------------------------------------------

  private refColumns(t: TableSchema): readonly ColumnSchema[] {
    return this.refCols.get(t.name)!;
  }

  private forEachRef(c: ColumnSchema, d: Datum, f: (uuid: string, refTable: string, strong: boolean) => void): void {
    const k = c.type.key;
    const v = c.type.value;
    if (d instanceof Map) {
      for (const [key, val] of d) {
        if (k.refTable !== undefined) f(key as string, k.refTable, k.refType === 'strong');
        if (v?.refTable !== undefined) f(val as string, v.refTable, v.refType === 'strong');
      }
    } else if (k.refTable !== undefined) {
      for (const a of datumKeys(d)) f(a as string, k.refTable, k.refType === 'strong');
    }
  }

  private commitChecks(): void {
    for (const name of this.names.keys()) {
      if (!this.definedNames.has(name)) throw new DbError('not found', `uuid-name '${name}' is not defined`);
    }
    if (this.dirty.size === 0) return;
    if (this.refsTouched) this.collectGarbageAndCheckRefs();
    this.checkTables();
  }

  private collectGarbageAndCheckRefs(): void {
    const tables = [...this.schema.tables.values()];
    // 1. Garbage-collect non-root rows that no strong reference reaches (RFC 7047 §3.2 isRoot).
    const marked = new Set<string>();
    const stack: [TableSchema, Row][] = [];
    for (const t of tables) if (t.isRoot) for (const r of this.rows(t.name).values()) stack.push([t, r]);
    while (stack.length > 0) {
      const [t, r] = stack.pop()!;
      for (const c of this.refColumns(t)) {
        this.forEachRef(c, r[c.name], (uuid, refTable, strong) => {
          if (!strong || marked.has(uuid)) return;
          const target = this.rows(refTable).get(uuid);
          if (!target) return;
          marked.add(uuid);
          stack.push([this.schema.tables.get(refTable)!, target]);
        });
      }
    }
    for (const t of tables) {
      if (t.isRoot) continue;
      for (const uuid of [...this.rows(t.name).keys()]) if (!marked.has(uuid)) this.remove(t.name, uuid);
    }
    // 2. Drop weak references to rows that do not exist; 3. strong ones must exist.
    for (const t of tables) {
      const cols = this.refColumns(t);
      if (cols.length === 0) continue;
      for (const r of [...this.rows(t.name).values()]) {
        let fixed: Record<string, Datum> | undefined;
        for (const c of cols) {
          let dangling = false;
          this.forEachRef(c, r[c.name], (uuid, refTable, strong) => {
            if (this.rows(refTable).has(uuid)) return;
            if (!strong) {
              dangling = true;
              return;
            }
            const deleted = this.base.get(refTable)?.has(uuid) ?? false;
            throw new DbError(
              'referential integrity violation',
              `${describeRow(t.name, r, r._uuid)} column '${c.name}' refers to ${refTable} ${uuid}, which ${deleted ? 'this transaction deletes' : 'does not exist'}`,
              { table: t.name, column: c.name, uuid: r._uuid },
            );
          });
          if (dangling) {
            fixed ??= { ...r };
            fixed[c.name] = this.dropDangling(t, c, r[c.name], r);
          }
        }
        if (fixed) this.put(t.name, Object.freeze(fixed) as Row);
      }
    }
  }

  /** maxRows and indexes of the tables written. */
  private checkTables(): void {
    for (const tname of this.dirty.keys()) {
      const t = this.schema.tables.get(tname)!;
      const rows = this.rows(tname);
      if (rows.size > t.maxRows) {
        throw new DbError('constraint violation', `table ${tname} may hold at most ${t.maxRows} row(s), this transaction leaves ${rows.size}`, { table: tname });
      }
      for (const idx of t.indexes) {
        // Only a row inserted or with an index column rewritten can create a duplicate.
        const touched = [...this.dirty.get(tname)!].some((uuid) => {
          const now = rows.get(uuid);
          const before = this.base.get(tname)?.get(uuid);
          return now !== undefined && (before === undefined || idx.some((c) => !datumEquals(now[c], before[c])));
        });
        if (!touched) continue;
        const seen = new Map<string, string>();
        for (const r of rows.values()) {
          const key = JSON.stringify(idx.map((c) => datumJson(r[c])));
          const other = seen.get(key);
          if (other !== undefined) {
            const what = idx.map((c) => `${c}=${JSON.stringify(datumJson(r[c]))}`).join(', ');
            throw new DbError('constraint violation', `${tname} rows ${other} and ${r._uuid} both have ${what}, which must be unique`, { table: tname, uuid: r._uuid });
          }
          seen.set(key, r._uuid);
        }
      }
    }
  }

  private dropDangling(t: TableSchema, c: ColumnSchema, d: Datum, r: Row): Datum {
    const exists = (uuid: Atom, base: BaseType | undefined): boolean =>
      base?.refTable === undefined || this.rows(base.refTable).has(uuid as string);
    const where = `${describeRow(t.name, r, r._uuid)} column '${c.name}' after dropping weak references to deleted rows`;
    if (d instanceof Map) {
      const keys: Atom[] = [];
      const values: Atom[] = [];
      for (const [k, v] of d) {
        if (exists(k, c.type.key) && exists(v, c.type.value)) {
          keys.push(k);
          values.push(v);
        }
      }
      return makeDatum(c, keys, values, where);
    }
    return makeDatum(c, datumKeys(d).filter((k) => exists(k, c.type.key)), undefined, where);
  }

  /** What changed relative to the base (rows rewritten with equal values are not changes). */
  changes(): RowChange[] {
    const changes: RowChange[] = [];
    for (const [tname, uuids] of this.dirty) {
      const t = this.schema.tables.get(tname)!;
      for (const uuid of uuids) {
        const oldRow = this.base.get(tname)?.get(uuid) ?? null;
        const newRow = this.rows(tname).get(uuid) ?? null;
        if (oldRow === newRow) continue;
        if (oldRow && newRow && rowsEqual(t, oldRow, newRow)) continue;
        changes.push({ table: tname, uuid, old: oldRow, new: newRow });
      }
    }
    return changes;
  }
}

/** A table as the transaction sees it: the committed rows under this transaction's writes. */
class TableOverlay {
  /** uuid -> new row, or null for a committed row deleted. */
  private readonly writes = new Map<string, Row | null>();

  constructor(private readonly base: ReadonlyMap<string, Row>) {}

  get(uuid: string): Row | undefined {
    const w = this.writes.get(uuid);
    return w === undefined ? this.base.get(uuid) : (w ?? undefined);
  }

  has(uuid: string): boolean {
    return this.get(uuid) !== undefined;
  }

  set(uuid: string, row: Row): void {
    this.writes.set(uuid, row);
  }

  delete(uuid: string): void {
    if (this.base.has(uuid)) this.writes.set(uuid, null);
    else this.writes.delete(uuid);
  }

  get size(): number {
    let n = this.base.size;
    for (const [u, w] of this.writes) {
      const inBase = this.base.has(u);
      if (w === null && inBase) n--;
      else if (w !== null && !inBase) n++;
    }
    return n;
  }

  /** Rows in commit order: committed ones (as rewritten), then new ones. */
  *values(): IterableIterator<Row> {
    for (const [u, r] of this.base) {
      const w = this.writes.get(u);
      if (w === undefined) yield r;
      else if (w !== null) yield w;
    }
    for (const [u, w] of this.writes) if (w !== null && !this.base.has(u)) yield w;
  }

  *keys(): IterableIterator<string> {
    for (const r of this.values()) yield r._uuid;
  }
}

function sameMultiset(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const x = [...a].sort();
  const y = [...b].sort();
  return x.every((v, i) => v === y[i]);
}
