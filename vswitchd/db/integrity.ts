// An independent check of a committed state (tests, diagnostics): everything
// the transaction machinery promises, verified from scratch.

import { datumEquals, datumKeys, makeDatum, toAtom } from './datum.js';
import { datumJson, describeRow, refColumnsOf, type Row, type Tables } from './row.js';
import type { Atom, BaseType, DatabaseSchema, TableSchema } from './schema.js';

/**
 * Everything wrong with a committed state, in words (empty when sound): rows
 * no strong reference keeps alive, references to missing rows, values that do
 * not fit their column, duplicate index keys, too many rows. Transactions keep
 * all of this true; this is the independent check for tests and diagnostics.
 */
export function integrityProblems(schema: DatabaseSchema, tables: Tables): string[] {
  const problems: string[] = [];
  const refCols = refColumnsOf(schema);
  const rowsOf = (t: string): ReadonlyMap<string, Row> => tables.get(t) ?? new Map();
  const marked = new Set<string>();
  const stack: [TableSchema, Row][] = [];
  for (const t of schema.tables.values()) if (t.isRoot) for (const r of rowsOf(t.name).values()) stack.push([t, r]);
  while (stack.length > 0) {
    const [t, r] = stack.pop()!;
    for (const c of refCols.get(t.name)!) {
      const visit = (uuid: Atom, b: BaseType | undefined): void => {
        if (b?.refTable === undefined) return;
        const target = rowsOf(b.refTable).get(uuid as string);
        if (!target) {
          problems.push(`${describeRow(t.name, r, r._uuid)} column '${c.name}' refers to missing ${b.refTable} ${String(uuid)}`);
        } else if (b.refType === 'strong' && !marked.has(target._uuid)) {
          marked.add(target._uuid);
          stack.push([schema.tables.get(b.refTable)!, target]);
        }
      };
      const d = r[c.name];
      if (d instanceof Map) for (const [k, v] of d) (visit(k, c.type.key), visit(v, c.type.value));
      else for (const k of datumKeys(d)) visit(k, c.type.key);
    }
  }
  for (const t of schema.tables.values()) {
    const rows = rowsOf(t.name);
    if (rows.size > t.maxRows) problems.push(`table ${t.name} has ${rows.size} rows, at most ${t.maxRows} allowed`);
    for (const r of rows.values()) {
      if (!t.isRoot && !marked.has(r._uuid)) problems.push(`${describeRow(t.name, r, r._uuid)} is not reachable from a root row`);
      for (const c of t.columns.values()) {
        try {
          const d = r[c.name];
          const keys = datumKeys(d);
          const values = d instanceof Map ? [...d.values()] : undefined;
          const again = makeDatum(c, keys.map((k) => toAtom(c.type.key, k, c.name)), values?.map((v) => toAtom(c.type.value!, v, c.name)), c.name);
          if (!datumEquals(again, d)) problems.push(`${describeRow(t.name, r, r._uuid)} column '${c.name}' is not in normal form`);
        } catch (e) {
          problems.push(`${describeRow(t.name, r, r._uuid)}: ${(e as Error).message}`);
        }
      }
    }
    for (const idx of t.indexes) {
      const seen = new Map<string, string>();
      for (const r of rows.values()) {
        const key = JSON.stringify(idx.map((c) => datumJson(r[c])));
        const other = seen.get(key);
        if (other !== undefined) problems.push(`${t.name} rows ${other} and ${r._uuid} share index (${idx.join(', ')})`);
        seen.set(key, r._uuid);
      }
    }
  }
  return problems;
}
