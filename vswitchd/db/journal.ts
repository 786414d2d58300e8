// The config DB's append-only journal file: a header record, then one framed,
// checksummed record per committed transaction, fsync'd before the commit is
// acknowledged. Opening replays it and cuts away a torn or corrupt tail (and
// reports what was cut); compaction rewrites it as a snapshot, atomically.

import { closeSync, existsSync, fdatasyncSync, fsyncSync, ftruncateSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { crc32c } from '../../datapath/packet/crc32c.js';
import { DbError } from './errors.js';
import {
  DEFAULT_MAX_RECORD_BYTES,
  decodePayload,
  encodeRecord,
  frame,
  FRAME_HEADER_BYTES,
  JOURNAL_FORMAT_VERSION,
  JOURNAL_MAGIC,
  toRecord,
  type JournalHeader,
  type SnapshotRecord,
  type TransactionRecord,
} from './journal-codec.js';
import type { DatabaseSchema } from './schema.js';

export interface JournalOptions {
  /** Compact when the file grows beyond this many bytes (and twice its last compacted size). Default 4 MiB. */
  compactBytes?: number;
  /** Compact when the file holds more than this many transaction records. Default 10,000. */
  compactRecords?: number;
  /** Largest record accepted on write and trusted on read. Default 64 MiB. */
  maxRecordBytes?: number;
  /** Wall clock for record time stamps (ms since the epoch). */
  nowMs?: () => number;
}

/** What opening the journal found. */
export interface OpenReport {
  readonly path: string;
  /** True when there was no journal and an empty one was created. */
  readonly created: boolean;
  /** Records replayed after the header (snapshot and transactions). */
  readonly recordsKept: number;
  /** Transaction id of the last record replayed (0 for an empty database). */
  readonly lastTxnId: number;
  readonly bytesKept: number;
  /** Bytes cut from the end of the file; 0 when the journal was intact. */
  readonly bytesDiscarded: number;
  /** Where the damage starts and why it is damage; absent when intact. */
  readonly damage?: { readonly offset: number; readonly reason: string };
  /** A temp file from an interrupted compaction was found and removed. */
  readonly removedTempFile: boolean;
}

export type ReplayRecord = TransactionRecord | SnapshotRecord;

/** One line for the daemon's log, e.g. "…/conf.journal: replayed 12 records up to txn 40; cut 37 bytes at offset 5120: …". */
export function describeOpenReport(r: OpenReport): string {
  let s = r.created ? `${r.path}: created an empty database` : `${r.path}: replayed ${r.recordsKept} records up to txn ${r.lastTxnId} (${r.bytesKept} bytes)`;
  if (r.damage) s += `; cut ${r.bytesDiscarded} damaged bytes at offset ${r.damage.offset}: ${r.damage.reason}`;
  if (r.removedTempFile) s += '; removed the temp file of an interrupted compaction';
  return s;
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, buf: Uint8Array, position: number): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off, position + off);
}

function ioError(what: string, path: string, e: unknown): DbError {
  return new DbError('I/O error', `${what} ${path}: ${(e as Error).message}`, { cause: e });
}

export class Journal {
  private fd: number;
  private endBytes: number;
  private records: number;
  /** Size right after the last compaction (or open); compaction waits for growth past 2x. */
  private baseBytes: number;
  /** Set when a failed write could not be undone: the file's tail is unknown. */
  private broken: Error | null = null;
  private readonly compactBytes: number;
  private readonly compactRecords: number;
  private readonly maxRecordBytes: number;
  private readonly nowMs: () => number;

  private constructor(
    readonly path: string,
    private readonly schema: DatabaseSchema,
    fd: number,
    endBytes: number,
    records: number,
    options: JournalOptions,
  ) {
    this.fd = fd;
    this.endBytes = endBytes;
    this.records = records;
    this.baseBytes = endBytes;
    this.compactBytes = options.compactBytes ?? 4 * 1024 * 1024;
    this.compactRecords = options.compactRecords ?? 10_000;
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    this.nowMs = options.nowMs ?? Date.now;
  }

  /**
   * Opens (or creates) the journal at `path`, handing every record after the
   * header to `apply` in order. A torn or corrupt tail is cut off and reported.
   */
  static open(path: string, schema: DatabaseSchema, options: JournalOptions, apply: (rec: ReplayRecord) => void): { journal: Journal; report: OpenReport } {
    const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    const tmp = `${path}.tmp`;
    let removedTempFile = false;
    if (existsSync(tmp)) {
      unlinkSync(tmp); // an interrupted compaction; the journal itself is intact
      removedTempFile = true;
    }
    let created = false;
    if (!existsSync(path)) {
      const { fd, dirSyncError } = Journal.replaceFile(path, schema, [], options.nowMs ?? Date.now);
      closeSync(fd);
      if (dirSyncError) throw ioError('cannot sync the directory of', path, dirSyncError);
      created = true;
    }
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch (e) {
      throw ioError('cannot read journal', path, e);
    }

    // The header must be intact: it is written atomically, so damage there is not a torn append.
    const header = Journal.readFrame(data, 0, maxRecordBytes);
    const notJournal = (why: string): DbError =>
      new DbError('journal corrupt', `${path} is not a tsvs config journal or its header is damaged (${why}); move it away to start with an empty database`);
    if ('reason' in header) throw notJournal(header.reason);
    const headerRaw = decodeOrNull(header.payload);
    const headerRec = headerRaw === null ? null : toRecord(schema, headerRaw);
    if (!headerRec || headerRec.kind !== 'header' || headerRec.magic !== JOURNAL_MAGIC) throw notJournal('no header record');
    if (headerRec.formatVersion !== JOURNAL_FORMAT_VERSION) {
      throw new DbError('journal corrupt', `${path} has journal format ${headerRec.formatVersion}; this tsvs reads format ${JOURNAL_FORMAT_VERSION}`);
    }
    if (headerRec.schemaName !== schema.name) {
      throw new DbError('journal corrupt', `${path} holds database ${headerRec.schemaName}, expected ${schema.name}`);
    }

    let offset = header.next;
    let recordsKept = 0;
    let lastTxnId = 0;
    let damage: { offset: number; reason: string } | undefined;
    while (offset < data.length) {
      const f = Journal.readFrame(data, offset, maxRecordBytes);
      if ('reason' in f) {
        damage = { offset, reason: f.reason };
        break;
      }
      const raw = decodeOrNull(f.payload);
      if (raw === null) {
        damage = { offset, reason: 'payload does not decode as a journal record' };
        break;
      }
      const rec = toRecord(schema, raw);
      if (rec === null || rec.kind === 'header') {
        damage = { offset, reason: rec === null ? 'empty record' : 'a second header record' };
        break;
      }
      if (rec.txnId <= lastTxnId && recordsKept > 0) {
        throw new DbError('journal corrupt', `${path}: record at offset ${offset} has transaction id ${rec.txnId}, not above ${lastTxnId}`);
      }
      apply(rec);
      lastTxnId = rec.txnId;
      recordsKept++;
      offset = f.next;
    }

    const bytesDiscarded = data.length - offset;
    let fd: number;
    try {
      fd = openSync(path, 'r+');
      if (bytesDiscarded > 0) {
        ftruncateSync(fd, offset);
        fsyncSync(fd);
      }
    } catch (e) {
      throw ioError('cannot open journal', path, e);
    }
    const journal = new Journal(path, schema, fd, offset, recordsKept, options);
    const report: OpenReport = { path, created, recordsKept, lastTxnId, bytesKept: offset, bytesDiscarded, removedTempFile, ...(damage ? { damage } : {}) };
    return { journal, report };
  }

  /** Reads the frame at `offset`: its payload and the next offset, or why it is not a whole, intact frame. */
  static readFrame(data: Buffer, offset: number, maxRecordBytes: number): { payload: Buffer; next: number } | { reason: string } {
    const left = data.length - offset;
    if (left < FRAME_HEADER_BYTES) return { reason: `${left} bytes left, too short for a record header (${FRAME_HEADER_BYTES})` };
    const len = data.readUInt32BE(offset);
    if (len > maxRecordBytes) return { reason: `record length ${len} exceeds the ${maxRecordBytes}-byte limit` };
    if (len > left - FRAME_HEADER_BYTES) return { reason: `record of ${len} bytes is cut short: ${left - FRAME_HEADER_BYTES} bytes in the file` };
    const payload = data.subarray(offset + FRAME_HEADER_BYTES, offset + FRAME_HEADER_BYTES + len);
    const want = data.readUInt32BE(offset + 4);
    const got = crc32c(payload);
    if (want !== got) return { reason: `CRC-32C mismatch (record says ${want.toString(16)}, payload has ${got.toString(16)})` };
    return { payload, next: offset + FRAME_HEADER_BYTES + len };
  }

  private static header(schema: DatabaseSchema, nowMs: () => number): JournalHeader {
    return { kind: 'header', magic: JOURNAL_MAGIC, formatVersion: JOURNAL_FORMAT_VERSION, schemaName: schema.name, schemaVersion: schema.version, createdMs: nowMs() };
  }

  /**
   * Writes header + records to path.tmp, fsyncs it and renames it over path.
   * If that throws, nothing changed. Otherwise returns the new file's open fd
   * and size, and whether the directory fsync (which makes the rename durable)
   * failed: then the caller must not trust appends to survive a crash.
   */
  private static replaceFile(
    path: string,
    schema: DatabaseSchema,
    records: readonly Uint8Array[],
    nowMs: () => number,
  ): { fd: number; size: number; dirSyncError: Error | null } {
    const tmp = `${path}.tmp`;
    const buf = Buffer.concat([frame(encodeRecord(schema, Journal.header(schema, nowMs))), ...records.map(frame)]);
    let fd = -1;
    try {
      fd = openSync(tmp, 'w+', 0o600);
      writeAll(fd, buf, 0);
      fsyncSync(fd);
      renameSync(tmp, path);
    } catch (e) {
      if (fd >= 0) closeSync(fd);
      try {
        unlinkSync(tmp);
      } catch {
        // never created
      }
      throw ioError('cannot write', `${basename(path)}.tmp`, e);
    }
    try {
      fsyncDir(dirname(path));
    } catch (e) {
      return { fd, size: buf.length, dirSyncError: e as Error };
    }
    return { fd, size: buf.length, dirSyncError: null };
  }

  get sizeBytes(): number {
    return this.endBytes;
  }

  get recordCount(): number {
    return this.records;
  }

  timeMs(): number {
    return this.nowMs();
  }

  /** Appends one transaction and makes it durable. On failure the file is as before and DbError is thrown. */
  append(rec: TransactionRecord): void {
    if (this.broken) throw new DbError('I/O error', `journal ${this.path} is in an unknown state after a failed write or sync (${this.broken.message}); restart to recover`);
    const payload = encodeRecord(this.schema, rec);
    if (payload.length > this.maxRecordBytes) {
      throw new DbError('resources exhausted', `transaction needs a ${payload.length}-byte journal record, above the ${this.maxRecordBytes}-byte limit; split it`);
    }
    const buf = frame(payload);
    let written = false;
    try {
      writeAll(this.fd, buf, this.endBytes);
      written = true;
      fdatasyncSync(this.fd);
    } catch (e) {
      // Cut the record off again so a restart does not replay a commit we refused.
      try {
        ftruncateSync(this.fd, this.endBytes);
        fsyncSync(this.fd);
      } catch (e2) {
        this.broken = e2 as Error;
      }
      // A failed write (ENOSPC) may be retried once space is back; after a failed
      // fsync the kernel may have dropped dirty pages, so trust nothing more.
      if (written) this.broken ??= e as Error;
      throw ioError('cannot append to journal', this.path, e);
    }
    this.endBytes += buf.length;
    this.records++;
  }

  shouldCompact(): boolean {
    return (this.endBytes > this.compactBytes && this.endBytes > 2 * this.baseBytes) || this.records > this.compactRecords;
  }

  /** Replaces the journal with header + `snapshot`, atomically. */
  compact(snapshot: SnapshotRecord): void {
    if (this.broken) throw new DbError('I/O error', `journal ${this.path} is in an unknown state; restart to recover`);
    const payload = encodeRecord(this.schema, snapshot);
    if (payload.length > this.maxRecordBytes) {
      throw new DbError('resources exhausted', `snapshot needs ${payload.length} bytes, above the ${this.maxRecordBytes}-byte record limit`);
    }
    const { fd, size, dirSyncError } = Journal.replaceFile(this.path, this.schema, [payload], this.nowMs);
    // The old fd points at the replaced file's inode; from now on append to the new one.
    const old = this.fd;
    this.fd = fd;
    this.endBytes = size;
    this.baseBytes = size;
    this.records = 1;
    try {
      closeSync(old);
    } catch {
      // nothing pending on it
    }
    if (dirSyncError) {
      // Until the rename is durable, a crash could bring back the old file and lose later appends.
      this.broken = dirSyncError;
      throw ioError('cannot sync the directory of', this.path, dirSyncError);
    }
  }

  close(): void {
    if (this.fd >= 0) {
      const fd = this.fd;
      this.fd = -1;
      try {
        closeSync(fd);
      } catch {
        // nothing is pending on it: every append was fsync'd
      }
    }
  }
}

function decodeOrNull(payload: Uint8Array): Record<string, unknown> | null {
  try {
    return decodePayload(payload);
  } catch {
    return null;
  }
}
