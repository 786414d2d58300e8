// Journal records <-> protobuf payloads (journal.proto), and the framing
// [u32 BE length][u32 BE CRC-32C(payload)][payload] around each payload.

import protobuf from 'protobufjs';
import { crc32c } from '../../datapath/packet/crc32c.js';
import { datumKeys, makeDatum, type Datum } from './datum.js';
import { DbError } from './errors.js';
import { JOURNAL_PROTO } from './journal-proto.js';
import type { Atom, BaseType, ColumnSchema, DatabaseSchema } from './schema.js';

export const JOURNAL_MAGIC = 'tsvs-configdb';
export const JOURNAL_FORMAT_VERSION = 1;
export const FRAME_HEADER_BYTES = 8;
/** A length field beyond this is corruption, not a reason to allocate. */
export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024;

export interface RowDelta {
  readonly table: string;
  readonly uuid: string;
  readonly op: 'insert' | 'modify' | 'delete';
  /** insert: non-default durable columns; modify: changed durable columns. */
  readonly columns: ReadonlyMap<string, Datum>;
}

export interface JournalHeader {
  readonly kind: 'header';
  readonly magic: string;
  readonly formatVersion: number;
  readonly schemaName: string;
  readonly schemaVersion: string;
  readonly createdMs: number;
}
export interface TransactionRecord {
  readonly kind: 'transaction';
  readonly txnId: number;
  readonly timeMs: number;
  readonly comment: string;
  readonly rows: readonly RowDelta[];
}
export interface SnapshotRecord {
  readonly kind: 'snapshot';
  readonly txnId: number;
  readonly timeMs: number;
  readonly rows: readonly RowDelta[];
}
export type JournalRecord = JournalHeader | TransactionRecord | SnapshotRecord;

const root = protobuf.parse(JOURNAL_PROTO, { keepCase: true }).root;
const RecordType = root.lookupType('tsvs.configdb.Record');
const OPS = ['insert', 'modify', 'delete'] as const;

// --- encode -------------------------------------------------------------------------

function uuidBytes(u: string): Buffer {
  return Buffer.from(u.replace(/-/g, ''), 'hex');
}

function bytesUuid(b: Uint8Array): string {
  if (b.length !== 16) throw new Error(`uuid has ${b.length} bytes, expected 16`);
  const h = Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function encodeAtom(base: BaseType, a: Atom): Record<string, unknown> {
  switch (base.type) {
    case 'integer': return { integer: a };
    case 'real': return { real: a };
    case 'boolean': return { boolean: a };
    case 'string': return { string: a };
    case 'uuid': return { uuid: uuidBytes(a as string) };
  }
}

function encodeRows(schema: DatabaseSchema, rows: readonly RowDelta[]): unknown[] {
  return rows.map((r) => {
    const t = schema.tables.get(r.table)!;
    const columns: unknown[] = [];
    for (const [name, d] of r.columns) {
      const c = t.columns.get(name)!;
      const col: Record<string, unknown> = { name, keys: datumKeys(d).map((a) => encodeAtom(c.type.key, a)) };
      if (d instanceof Map) col.values = [...d.values()].map((a) => encodeAtom(c.type.value!, a));
      columns.push(col);
    }
    return { table: r.table, uuid: uuidBytes(r.uuid), op: OPS.indexOf(r.op), columns };
  });
}

export function encodeRecord(schema: DatabaseSchema, rec: JournalRecord): Uint8Array {
  let msg: Record<string, unknown>;
  switch (rec.kind) {
    case 'header':
      msg = {
        header: {
          magic: rec.magic,
          format_version: rec.formatVersion,
          schema_name: rec.schemaName,
          schema_version: rec.schemaVersion,
          created_ms: rec.createdMs,
        },
      };
      break;
    case 'transaction':
      msg = { transaction: { txn_id: rec.txnId, time_ms: rec.timeMs, comment: rec.comment, rows: encodeRows(schema, rec.rows) } };
      break;
    case 'snapshot':
      msg = { snapshot: { txn_id: rec.txnId, time_ms: rec.timeMs, rows: encodeRows(schema, rec.rows) } };
      break;
  }
  return RecordType.encode(RecordType.fromObject(msg)).finish();
}

/** One frame: length, CRC-32C, payload. */
export function frame(payload: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  b.writeUInt32BE(payload.length, 0);
  b.writeUInt32BE(crc32c(payload), 4);
  b.set(payload, FRAME_HEADER_BYTES);
  return b;
}

// --- decode -------------------------------------------------------------------------

/** Protobuf-level decode; throws on bytes that are not a Record. */
export function decodePayload(payload: Uint8Array): Record<string, unknown> {
  const m = RecordType.decode(payload);
  return RecordType.toObject(m, { longs: Number, arrays: true, oneofs: true, defaults: true }) as Record<string, unknown>;
}

type Obj = Record<string, unknown>;

function decodeAtom(base: BaseType, raw: Obj, where: string): Atom {
  const which = raw.value as string | undefined;
  const want = base.type;
  if (which !== want) throw new Error(`${where}: atom is ${which ?? 'empty'}, column wants ${want}`);
  return want === 'uuid' ? bytesUuid(raw.uuid as Uint8Array) : (raw[want] as Atom);
}

function decodeRows(schema: DatabaseSchema, rows: Obj[]): RowDelta[] {
  return rows.map((r) => {
    const t = schema.tables.get(r.table as string);
    if (!t) throw new Error(`unknown table '${String(r.table)}'`);
    const op = OPS[r.op as number];
    if (op === undefined) throw new Error(`unknown row op ${String(r.op)}`);
    const uuid = bytesUuid(r.uuid as Uint8Array);
    const columns = new Map<string, Datum>();
    for (const c of r.columns as Obj[]) {
      const col: ColumnSchema | undefined = t.columns.get(c.name as string);
      const where = `${t.name}.${String(c.name)} of ${uuid}`;
      if (!col) throw new Error(`${where}: unknown column`);
      const keys = (c.keys as Obj[]).map((a) => decodeAtom(col.type.key, a, where));
      const values = col.type.value ? (c.values as Obj[]).map((a) => decodeAtom(col.type.value!, a, where)) : undefined;
      if (values && values.length !== keys.length) throw new Error(`${where}: ${keys.length} keys but ${values.length} values`);
      columns.set(col.name, makeDatum(col, keys, values, where));
    }
    return { table: t.name, uuid, op, columns };
  });
}

/**
 * Turns a decoded payload into a record of this schema. Throws DbError('journal
 * corrupt') when a checksummed record does not fit the schema: that is not a
 * torn write, so the journal must not be truncated over it.
 */
export function toRecord(schema: DatabaseSchema, raw: Obj): JournalRecord | null {
  try {
    switch (raw.kind) {
      case 'header': {
        const h = raw.header as Obj;
        return {
          kind: 'header',
          magic: h.magic as string,
          formatVersion: h.format_version as number,
          schemaName: h.schema_name as string,
          schemaVersion: h.schema_version as string,
          createdMs: h.created_ms as number,
        };
      }
      case 'transaction': {
        const x = raw.transaction as Obj;
        return { kind: 'transaction', txnId: x.txn_id as number, timeMs: x.time_ms as number, comment: x.comment as string, rows: decodeRows(schema, x.rows as Obj[]) };
      }
      case 'snapshot': {
        const x = raw.snapshot as Obj;
        return { kind: 'snapshot', txnId: x.txn_id as number, timeMs: x.time_ms as number, rows: decodeRows(schema, x.rows as Obj[]) };
      }
      default:
        return null; // an empty record: see the caller
    }
  } catch (e) {
    throw new DbError('journal corrupt', `journal record does not fit schema ${schema.name} ${schema.version}: ${(e as Error).message}`, { cause: e });
  }
}
