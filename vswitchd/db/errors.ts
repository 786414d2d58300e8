// Errors of the config DB. Codes are OVSDB's error strings (RFC 7047 §3.1,
// §5.2) where OVSDB has one, so the RPC layer can hand them to clients as is.

export type DbErrorCode =
  | 'syntax error' // malformed operation or value of the wrong type
  | 'unknown table'
  | 'unknown column'
  | 'constraint violation' // enum/range/size/index/immutable column/maxRows
  | 'referential integrity violation' // a strong reference to a missing row
  | 'duplicate uuid-name'
  | 'not found' // a uuid-name or row that does not exist
  | 'domain error' // division by zero in a mutation
  | 'range error' // integer overflow in a mutation
  | 'timed out' // a "wait" whose condition does not hold
  | 'assertion failed' // an "assert" whose row count does not hold
  | 'aborted' // an explicit "abort" operation
  | 'resources exhausted' // a transaction too large to journal
  | 'I/O error'
  | 'journal corrupt' // the journal's header or a middle record is unusable
  | 'locked' // another live process has the database open
  | 'closed'; // the database was closed

export interface DbErrorInfo {
  /** Index of the operation in the transaction that failed, if any. */
  opIndex?: number;
  table?: string;
  column?: string;
  uuid?: string;
  cause?: unknown;
}

export class DbError extends Error {
  readonly code: DbErrorCode;
  readonly opIndex?: number;
  readonly table?: string;
  readonly column?: string;
  readonly uuid?: string;

  constructor(code: DbErrorCode, message: string, info: DbErrorInfo = {}) {
    super(message, info.cause === undefined ? undefined : { cause: info.cause });
    this.name = 'DbError';
    this.code = code;
    if (info.opIndex !== undefined) this.opIndex = info.opIndex;
    if (info.table !== undefined) this.table = info.table;
    if (info.column !== undefined) this.column = info.column;
    if (info.uuid !== undefined) this.uuid = info.uuid;
  }

  /** The same error, tagged with the index of the operation that raised it. */
  atOp(opIndex: number): DbError {
    if (this.opIndex !== undefined) return this;
    const e = new DbError(this.code, `operation ${opIndex}: ${this.message}`, {
      opIndex,
      table: this.table,
      column: this.column,
      uuid: this.uuid,
      cause: this.cause,
    });
    return e;
  }
}
