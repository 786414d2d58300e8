// Where clauses (RFC 7047 §5.1 "condition"): [column, function, value] triples,
// compiled once against the table's schema, then matched against rows.

import { DbError } from './errors.js';
import { datumKeys, parseElements, toAtom, type DatumInput, type NameResolver } from './datum.js';
import { columnOf, type Row } from './row.js';
import type { Atom, BaseType, ColumnSchema, TableSchema } from './schema.js';

export type ConditionFunction = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'includes' | 'excludes';
/** [column, function, value]; `_uuid` may be used as a column. */
export type Condition = readonly [column: string, fn: ConditionFunction, value: DatumInput];

export function unconstrained(b: BaseType): BaseType {
  return { type: b.type };
}

export interface CompiledCondition {
  col: ColumnSchema;
  fn: ConditionFunction;
  keys: Atom[];
  values?: Atom[];
  num?: number;
}

export function compileWhere(table: TableSchema, where: readonly Condition[] | undefined, resolve?: NameResolver): CompiledCondition[] {
  if (where === undefined) return [];
  if (!Array.isArray(where)) throw new DbError('syntax error', `'where' must be a list of [column, function, value] conditions`);
  return where.map((cond, i) => {
    if (!Array.isArray(cond) || cond.length !== 3) throw new DbError('syntax error', `condition ${i}: expected [column, function, value], got ${JSON.stringify(cond)}`);
    const [cname, fn, value] = cond as unknown as Condition;
    const col = columnOf(table, cname, true);
    const where = `condition on ${table.name}.${col.name}`;
    switch (fn) {
      case '<':
      case '<=':
      case '>':
      case '>=': {
        const t = col.type.key.type;
        if ((t !== 'integer' && t !== 'real') || (col.kind !== 'scalar' && col.kind !== 'optional')) {
          throw new DbError('syntax error', `${where}: '${fn}' needs an integer or real column with at most one value`);
        }
        const a = toAtom(unconstrained(col.type.key), Array.isArray(value) && value.length === 1 ? value[0] : value, where);
        return { col, fn, keys: [], num: a as number };
      }
      case '==':
      case '!=':
      case 'includes':
      case 'excludes': {
        const loose: ColumnSchema = {
          ...col,
          type: { ...col.type, key: unconstrained(col.type.key), value: col.type.value && unconstrained(col.type.value) },
        };
        const { keys, values } = parseElements(loose, value, where, resolve);
        return { col, fn, keys, values };
      }
      default:
        throw new DbError('syntax error', `${where}: unknown function ${JSON.stringify(fn)} (use ==, !=, <, <=, >, >=, includes, excludes)`);
    }
  });
}

function matchOne(c: CompiledCondition, row: Row): boolean {
  const d = row[c.col.name];
  if (c.num !== undefined) {
    if (d === null) return false;
    const x = d as number;
    switch (c.fn) {
      case '<': return x < c.num;
      case '<=': return x <= c.num;
      case '>': return x > c.num;
      default: return x >= c.num;
    }
  }
  const has = (k: Atom, v: Atom | undefined): boolean => {
    if (d instanceof Map) return d.has(k) && (v === undefined || d.get(k) === v);
    return datumKeys(d).includes(k);
  };
  const n = d instanceof Map ? d.size : datumKeys(d).length;
  switch (c.fn) {
    case '==':
    case '!=': {
      const eq = n === c.keys.length && c.keys.every((k, i) => has(k, c.values?.[i]));
      return c.fn === '==' ? eq : !eq;
    }
    case 'includes':
      return c.keys.every((k, i) => has(k, c.values?.[i]));
    default: // excludes
      return c.keys.every((k, i) => !has(k, c.values?.[i]));
  }
}

export function matches(conds: readonly CompiledCondition[], row: Row): boolean {
  for (const c of conds) if (!matchOne(c, row)) return false;
  return true;
}
