// The daemon's configuration database: rows of the Open_vSwitch schema in
// memory, changed only by atomic OVSDB-style transactions, each made durable in
// the journal before it is acknowledged, then announced to commit listeners
// (the daemon reconfigures from them).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { datumEquals, defaultDatum, type Datum } from './datum.js';
import { DbError } from './errors.js';
import type { RowDelta, SnapshotRecord } from './journal-codec.js';
import { LockFile } from './lockfile.js';
import { Journal, type JournalOptions, type OpenReport, type ReplayRecord } from './journal.js';
import { vswitchSchema, type DatabaseSchema, type VswitchRow, type VswitchTable } from './schema.js';
import { compileWhere, matches, type Condition } from './condition.js';
import { integrityProblems } from './integrity.js';
import { makeRow, tableOf, type Row, type RowChange } from './row.js';
import { Transaction, type Operation, type OperationResult } from './transaction.js';

export interface DatabaseOptions extends JournalOptions {
  /** Default: the Open_vSwitch schema. */
  schema?: DatabaseSchema;
  /** Called when a commit listener throws; the commit itself stands. Default: process.emitWarning. */
  onListenerError?: (err: unknown, event: CommitEvent) => void;
}

export interface CommitEvent {
  /** The committed transaction's id (ids only grow). */
  readonly txnId: number;
  /** Every row inserted, modified (including ephemeral columns) or deleted, with old and new values. */
  readonly changes: readonly RowChange[];
  /** Text of the transaction's "comment" operations, joined by newlines. */
  readonly comment: string;
}
export type CommitListener = (event: CommitEvent) => void;

export interface TransactResult {
  /** Id of the committed transaction; null when it changed nothing (then nothing is journaled or announced). */
  readonly txnId: number | null;
  /** One result per operation, in order. */
  readonly results: OperationResult[];
}

export interface DatabaseStats {
  readonly rows: Readonly<Record<string, number>>;
  readonly lastTxnId: number;
  readonly journalBytes: number | null;
  readonly journalRecords: number | null;
  readonly compactions: number;
  readonly lastCompactionError: string | null;
}

type MutableTables = Map<string, Map<string, Row>>;

/**
 * Rows of Open_vSwitch tables come typed per table (VswitchRow); a table of
 * another schema (tests) is a plain Row. The types describe vswitchSchema.
 */
export type RowOf<T extends string> = T extends VswitchTable ? VswitchRow<T> : Row;

export class Database {
  /** The journal's file name inside the database directory. */
  static readonly JOURNAL_FILE = 'conf.journal';

  private readonly tables: MutableTables = new Map();
  private txnId = 0;
  private closed = false;
  private readonly listeners = new Set<CommitListener>();
  private readonly waiters = new Set<{ abort: (e: DbError) => void }>();
  private readonly pending: CommitEvent[] = [];
  private notifying = false;
  private compactions = 0;
  private lastCompactionError: string | null = null;
  private journal: Journal | null = null;
  private lock: LockFile | null = null;

  private constructor(
    readonly schema: DatabaseSchema,
    private readonly options: DatabaseOptions,
  ) {
    for (const t of schema.tables.keys()) this.tables.set(t, new Map());
  }

  /**
   * Opens the database kept in directory `dir` (created if missing), replaying
   * its journal. `report` says what was replayed and whether a damaged tail
   * was cut off; the caller should log it when `report.damage` is set.
   */
  static open(dir: string, options: DatabaseOptions = {}): { db: Database; report: OpenReport } {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new DbError('I/O error', `cannot create database directory ${dir}: ${(e as Error).message}`, { cause: e });
    }
    const db = new Database(options.schema ?? vswitchSchema, options);
    const lock = LockFile.acquire(join(dir, `${Database.JOURNAL_FILE}.lock`));
    let opened: ReturnType<typeof Journal.open>;
    try {
      opened = Journal.open(join(dir, Database.JOURNAL_FILE), db.schema, options, (rec) => db.replay(rec));
    } catch (e) {
      lock.release();
      throw e;
    }
    const { journal, report } = opened;
    db.journal = journal;
    db.lock = lock;
    db.txnId = report.lastTxnId;
    return { db, report };
  }

  /** A database that is never persisted (tests, dry runs). */
  static inMemory(options: DatabaseOptions = {}): Database {
    return new Database(options.schema ?? vswitchSchema, options);
  }

  /** Id of the last committed transaction (0 if none). */
  get lastTxnId(): number {
    return this.txnId;
  }

  /**
   * Runs `ops` atomically. On success the changes are durable when this
   * returns. On failure throws DbError (with `opIndex` when an operation
   * failed) and the database is unchanged.
   */
  transact(ops: readonly Operation[]): TransactResult {
    if (this.closed) throw new DbError('closed', 'the database is closed');
    const txn = new Transaction(this.schema, this.tables);
    const results = txn.run(ops);
    const changes = txn.changes();
    if (changes.length === 0) return { txnId: null, results };
    const txnId = this.txnId + 1;
    const comment = txn.comments.join('\n');
    if (this.journal) {
      const rows = this.deltas(changes);
      if (rows.length > 0) this.journal.append({ kind: 'transaction', txnId, timeMs: this.journal.timeMs(), comment, rows });
    }
    // Durable (or not persisted at all): now it is committed.
    for (const ch of changes) {
      const m = this.tables.get(ch.table)!;
      if (ch.new === null) m.delete(ch.uuid);
      else m.set(ch.uuid, ch.new);
    }
    this.txnId = txnId;
    if (this.journal?.shouldCompact()) this.tryCompact();
    this.announce({ txnId, changes, comment });
    return { txnId, results };
  }

  /**
   * Like transact, but a "wait" operation that does not hold yet is not a
   * failure: the transaction is retried after each commit until its waits
   * hold (then it commits) or `timeoutMs` passes (then it rejects with
   * 'timed out'), like an OVSDB "wait" with a timeout. Other errors reject at once.
   */
  transactWhen(ops: readonly Operation[], timeoutMs: number): Promise<TransactResult> {
    const attempt = (): TransactResult | null => {
      try {
        return this.transact(ops);
      } catch (e) {
        if (e instanceof DbError && e.code === 'timed out') return null;
        throw e;
      }
    };
    try {
      const r = attempt();
      if (r) return Promise.resolve(r);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        retry: (): void => {
          let r: TransactResult | null;
          try {
            r = attempt();
          } catch (e) {
            done();
            reject(e);
            return;
          }
          if (r) {
            done();
            resolve(r);
          }
        },
        abort: (e: DbError): void => {
          done();
          reject(e);
        },
      };
      const unsubscribe = this.onCommit(() => waiter.retry());
      const timer = setTimeout(() => waiter.abort(new DbError('timed out', `wait did not hold within ${timeoutMs} ms`)), timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        unsubscribe();
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
    });
  }

  get<T extends string>(table: T, uuid: string): RowOf<T> | undefined {
    tableOf(this.schema, table);
    return this.tables.get(table)!.get(uuid) as RowOf<T> | undefined;
  }

  /** Every row of `table`, in insertion order. */
  list<T extends string>(table: T): RowOf<T>[] {
    tableOf(this.schema, table);
    return [...this.tables.get(table)!.values()] as RowOf<T>[];
  }

  /** Rows of `table` matching every condition, e.g. find('Bridge', [['name', '==', 'br0']]). */
  find<T extends string>(table: T, where: readonly Condition[]): RowOf<T>[] {
    const t = tableOf(this.schema, table);
    const conds = compileWhere(t, where);
    return [...this.tables.get(table)!.values()].filter((r) => matches(conds, r)) as RowOf<T>[];
  }

  /** Calls `listener` after every commit, in commit order. Returns an unsubscribe function. */
  onCommit(listener: CommitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Rewrites the journal as one snapshot now (it also happens on its own past the size threshold). */
  compact(): void {
    if (this.closed) throw new DbError('closed', 'the database is closed');
    if (!this.journal) return;
    this.journal.compact(this.snapshot());
    this.compactions++;
  }

  /** Problems with the current contents, in words; empty when sound (see integrityProblems). */
  checkIntegrity(): string[] {
    return integrityProblems(this.schema, this.tables);
  }

  stats(): DatabaseStats {
    const rows: Record<string, number> = {};
    for (const [t, m] of this.tables) rows[t] = m.size;
    return {
      rows,
      lastTxnId: this.txnId,
      journalBytes: this.journal?.sizeBytes ?? null,
      journalRecords: this.journal?.recordCount ?? null,
      compactions: this.compactions,
      lastCompactionError: this.lastCompactionError,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of [...this.waiters]) w.abort(new DbError('closed', 'the database was closed while a transaction waited'));
    this.journal?.close();
    this.journal = null;
    this.lock?.release();
    this.lock = null;
    this.listeners.clear();
  }

  // --- internals ------------------------------------------------------------------

  private tryCompact(): void {
    try {
      this.compact();
      this.lastCompactionError = null;
    } catch (e) {
      // The commit is already durable in the old journal; compaction retries on the next commit.
      this.lastCompactionError = (e as Error).message;
    }
  }

  private announce(event: CommitEvent): void {
    this.pending.push(event);
    if (this.notifying) return; // a listener committed: deliver after the current event
    this.notifying = true;
    try {
      while (this.pending.length > 0) {
        const ev = this.pending.shift()!;
        for (const l of [...this.listeners]) {
          if (!this.listeners.has(l)) continue; // unsubscribed by an earlier listener
          try {
            l(ev);
          } catch (e) {
            const report = this.options.onListenerError ?? ((err: unknown) => process.emitWarning(`config DB commit listener failed: ${String(err)}`));
            report(e, ev);
          }
        }
      }
    } finally {
      this.notifying = false;
    }
  }

  /** The durable part of `changes`: ephemeral columns are not journaled (OVSDB "ephemeral"). */
  private deltas(changes: readonly RowChange[]): RowDelta[] {
    const out: RowDelta[] = [];
    for (const ch of changes) {
      const t = this.schema.tables.get(ch.table)!;
      if (ch.new === null) {
        out.push({ table: ch.table, uuid: ch.uuid, op: 'delete', columns: new Map() });
        continue;
      }
      const columns = new Map<string, Datum>();
      for (const c of t.columns.values()) {
        if (c.ephemeral) continue;
        const v = ch.new[c.name];
        const before = ch.old === null ? defaultDatum(c) : ch.old[c.name];
        if (!datumEquals(v, before)) columns.set(c.name, v);
      }
      if (ch.old === null) out.push({ table: ch.table, uuid: ch.uuid, op: 'insert', columns });
      else if (columns.size > 0) out.push({ table: ch.table, uuid: ch.uuid, op: 'modify', columns });
    }
    return out;
  }

  private snapshot(): SnapshotRecord {
    const rows: RowDelta[] = [];
    for (const [tname, m] of this.tables) {
      const t = this.schema.tables.get(tname)!;
      for (const r of m.values()) {
        const columns = new Map<string, Datum>();
        for (const c of t.columns.values()) {
          if (!c.ephemeral && !datumEquals(r[c.name], defaultDatum(c))) columns.set(c.name, r[c.name]);
        }
        rows.push({ table: tname, uuid: r._uuid, op: 'insert', columns });
      }
    }
    return { kind: 'snapshot', txnId: this.txnId, timeMs: this.journal?.timeMs() ?? Date.now(), rows };
  }

  private replay(rec: ReplayRecord): void {
    if (rec.kind === 'snapshot') for (const m of this.tables.values()) m.clear();
    for (const d of rec.rows) {
      const t = this.schema.tables.get(d.table)!;
      const m = this.tables.get(d.table)!;
      const old = m.get(d.uuid);
      const where = `journal transaction ${rec.txnId}: ${d.op} of ${d.table} ${d.uuid}`;
      switch (d.op) {
        case 'insert':
          if (old) throw new DbError('journal corrupt', `${where}: the row already exists`);
          m.set(d.uuid, makeRow(t, d.uuid, d.columns));
          break;
        case 'modify': {
          if (!old) throw new DbError('journal corrupt', `${where}: no such row`);
          const nr: Record<string, Datum> = { ...old };
          for (const [k, v] of d.columns) nr[k] = v;
          m.set(d.uuid, Object.freeze(nr) as Row);
          break;
        }
        case 'delete':
          if (!old) throw new DbError('journal corrupt', `${where}: no such row`);
          m.delete(d.uuid);
          break;
      }
    }
    this.txnId = rec.txnId;
  }
}

export type { Condition, ConditionFunction } from './condition.js';
export type { Row, RowChange, RowInput } from './row.js';
export type { Mutation, Mutator, Operation, OperationResult } from './transaction.js';
export { describeOpenReport, type OpenReport } from './journal.js';
export { named, type Datum, type DatumInput } from './datum.js';
export type { VswitchRow, VswitchTable } from './schema.js';
export { DbError, type DbErrorCode } from './errors.js';
