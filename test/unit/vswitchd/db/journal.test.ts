import { spawnSync } from 'node:child_process';
import { appendFileSync, closeSync, copyFileSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { crc32c } from '../../../../datapath/packet/crc32c.js';
import { Database, DbError, describeOpenReport, named, type Datum, type Row } from '../../../../vswitchd/db/database.js';
import { encodeRecord, frame } from '../../../../vswitchd/db/journal-codec.js';
import { JOURNAL_PROTO } from '../../../../vswitchd/db/journal-proto.js';
import { vswitchSchema } from '../../../../vswitchd/db/schema.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), `tsvs-journal-${process.pid}-`));
  dirs.push(d);
  return d;
}
afterEach(() => {
  while (dirs.length > 0) rmSync(dirs.pop()!, { recursive: true, force: true });
});

const journalOf = (dir: string): string => join(dir, Database.JOURNAL_FILE);

/** Every table's rows without ephemeral columns (those are not persisted). */
function durable(db: Database): Record<string, Record<string, unknown>[]> {
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const t of db.schema.tables.values()) {
    out[t.name] = db
      .list(t.name)
      .map((r: Row) => Object.fromEntries(Object.entries(r).filter(([k]) => k === '_uuid' || !t.columns.get(k)!.ephemeral)))
      .sort((a, b) => String(a._uuid).localeCompare(String(b._uuid)));
  }
  return out;
}

/** A few transactions of every kind; returns the state after each. */
function workload(db: Database, n = 6): ReturnType<typeof durable>[] {
  const states: ReturnType<typeof durable>[] = [];
  db.transact([
    { op: 'insert', table: 'Open_vSwitch', row: { bridges: [named('br0')], ovs_version: '3.3.0', other_config: { a: '1' } } },
    { op: 'insert', table: 'Bridge', uuidName: 'br0', row: { name: 'br0', ports: [named('p0')], protocols: ['OpenFlow13'], controller: [named('c')] } },
    { op: 'insert', table: 'Controller', uuidName: 'c', row: { target: 'tcp:127.0.0.1:6653', inactivity_probe: 5000 } },
    { op: 'insert', table: 'Port', uuidName: 'p0', row: { name: 'br0', interfaces: [named('i0')] } },
    { op: 'insert', table: 'Interface', uuidName: 'i0', row: { name: 'br0', type: 'internal', ofport_request: 65279 } },
  ]);
  states.push(durable(db));
  for (let i = 1; i <= n; i++) {
    db.transact([
      { op: 'insert', table: 'Port', uuidName: 'p', row: { name: `p${i}`, interfaces: [named('i')], tag: i, trunks: [i, i + 100] } },
      { op: 'insert', table: 'Interface', uuidName: 'i', row: { name: `p${i}`, type: 'guest', options: { mac: `02:00:00:00:00:0${i % 10}` }, mtu_request: 1500 } },
      { op: 'mutate', table: 'Bridge', where: [['name', '==', 'br0']], mutations: [['ports', 'insert', [named('p')]]] },
      { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] },
      { op: 'comment', comment: `add-port br0 p${i}` },
    ]);
    states.push(durable(db));
    if (i % 3 === 0) {
      db.transact([
        { op: 'mutate', table: 'Bridge', where: [['name', '==', 'br0']], mutations: [['ports', 'delete', db.find('Port', [['name', '==', `p${i - 1}`]]).map((r) => r._uuid)]] },
        { op: 'update', table: 'Bridge', where: [], row: { fail_mode: i % 2 ? 'secure' : 'standalone', external_ids: { n: String(i) } } },
        { op: 'update', table: 'Open_vSwitch', where: [], row: { cur_cfg: i, ovs_version: [] } },
      ]);
      states.push(durable(db));
    }
  }
  return states;
}

describe('journal format', () => {
  it('journal.proto and the embedded schema are the same text', () => {
    const file = readFileSync(resolve(__dirname, '../../../../vswitchd/db/journal.proto'), 'utf8');
    expect(JOURNAL_PROTO).toBe(file);
  });

  it('CRC-32C matches the standard check value', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('starts with a header record', () => {
    const dir = tempDir();
    const { db, report } = Database.open(dir);
    db.close();
    expect(report).toMatchObject({ created: true, recordsKept: 0, lastTxnId: 0, bytesDiscarded: 0 });
    const data = readFileSync(journalOf(dir));
    const len = data.readUInt32BE(0);
    expect(data.length).toBe(8 + len);
    expect(data.readUInt32BE(4)).toBe(crc32c(data.subarray(8)));
    expect(data.subarray(8).toString('latin1')).toContain('tsvs-configdb');
  });
});

describe('journal replay', () => {
  it('reopening gives back the committed state', () => {
    const dir = tempDir();
    const { db } = Database.open(dir);
    const states = workload(db);
    const last = db.lastTxnId;
    db.close();
    const { db: db2, report } = Database.open(dir);
    expect(report).toMatchObject({ created: false, recordsKept: last, lastTxnId: last, bytesDiscarded: 0 });
    expect(report.damage).toBeUndefined();
    expect(durable(db2)).toEqual(states.at(-1));
    expect(db2.checkIntegrity()).toEqual([]);
    // and keeps going from there
    const r = db2.transact([{ op: 'update', table: 'Open_vSwitch', where: [], row: { external_ids: { x: 'y' } } }]);
    expect(r.txnId).toBe(last + 1);
    const after = durable(db2);
    db2.close();
    const { db: db3 } = Database.open(dir);
    expect(durable(db3)).toEqual(after);
    db3.close();
  });

  it('does not journal ephemeral columns', () => {
    const dir = tempDir();
    const { db } = Database.open(dir);
    workload(db, 1);
    const size = statSync(journalOf(dir)).size;
    const r = db.transact([{ op: 'update', table: 'Interface', where: [], row: { statistics: { rx_packets: 5 }, link_state: 'up' } }]);
    expect(r.txnId).toBe(3);
    expect(statSync(journalOf(dir)).size).toBe(size);
    db.close();
    const { db: db2 } = Database.open(dir);
    expect(db2.list('Interface').map((i) => i.link_state)).toEqual([null, null]);
    db2.close();
  });

  it('refuses a transaction too large for one record, changing nothing', () => {
    const dir = tempDir();
    const { db } = Database.open(dir, { maxRecordBytes: 2048 });
    workload(db, 1);
    const before = durable(db);
    const big = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, 'v'.repeat(20)]));
    let err: unknown;
    try {
      db.transact([{ op: 'update', table: 'Bridge', where: [], row: { external_ids: big } }]);
    } catch (e) {
      err = e;
    }
    expect((err as DbError).code).toBe('resources exhausted');
    expect(durable(db)).toEqual(before);
    db.close();
  });
});

describe('damaged journals', () => {
  /** A journal with several transactions; returns its bytes, where the last record starts, and states. */
  function build(): { data: Buffer; lastStart: number; before: ReturnType<typeof durable>; after: ReturnType<typeof durable>; records: number } {
    const dir = tempDir();
    const { db } = Database.open(dir);
    const states = workload(db, 4);
    const lastStart = statSync(journalOf(dir)).size;
    db.transact([
      { op: 'insert', table: 'Port', uuidName: 'p', row: { name: 'last', interfaces: [named('i')], other_config: { x: 'y' } } },
      { op: 'insert', table: 'Interface', uuidName: 'i', row: { name: 'last', type: 'guest' } },
      { op: 'mutate', table: 'Bridge', where: [], mutations: [['ports', 'insert', [named('p')]]] },
    ]);
    const records = db.lastTxnId;
    const after = durable(db);
    db.close();
    return { data: readFileSync(journalOf(dir)), lastStart, before: states.at(-1)!, after, records };
  }

  let scratch = '';
  function openBytes(bytes: Buffer) {
    scratch ||= tempDir();
    writeFileSync(journalOf(scratch), bytes);
    const { db, report } = Database.open(scratch);
    const state = durable(db);
    db.close();
    const sizeAfter = statSync(journalOf(scratch)).size;
    return { report, state, sizeAfter };
  }
  afterEach(() => {
    scratch = '';
  });

  it('a torn tail at every byte of the last record keeps all earlier transactions and is reported', () => {
    const { data, lastStart, before, after, records } = build();
    expect(openBytes(data).state).toEqual(after);
    for (let cut = lastStart; cut < data.length; cut++) {
      const { report, state, sizeAfter } = openBytes(data.subarray(0, cut));
      expect(state, `cut at ${cut}`).toEqual(before);
      expect(report.recordsKept).toBe(records - 1);
      expect(report.lastTxnId).toBe(records - 1);
      expect(report.bytesKept).toBe(lastStart);
      expect(report.bytesDiscarded).toBe(cut - lastStart);
      expect(sizeAfter).toBe(lastStart);
      if (cut > lastStart) {
        expect(report.damage?.offset).toBe(lastStart);
        expect(report.damage?.reason).toMatch(cut - lastStart < 8 ? /too short for a record header/ : /cut short/);
      } else {
        expect(report.damage).toBeUndefined();
      }
    }
  });

  it('a corrupted byte anywhere in the last record keeps all earlier transactions and is reported', () => {
    const { data, lastStart, before, records } = build();
    for (let at = lastStart; at < data.length; at++) {
      const bad = Buffer.from(data);
      bad[at] ^= 0x5a;
      const { report, state, sizeAfter } = openBytes(bad);
      expect(state, `byte ${at}`).toEqual(before);
      expect(report.recordsKept).toBe(records - 1);
      expect(report.bytesDiscarded).toBe(data.length - lastStart);
      expect(report.damage?.reason).toMatch(/CRC-32C mismatch|cut short|exceeds/);
      expect(sizeAfter).toBe(lastStart);
    }
  });

  it('a huge length field is corruption, not an allocation', () => {
    const { data, after, records } = build();
    const tail = Buffer.alloc(16);
    tail.writeUInt32BE(0xfffffff0, 0);
    const { report, state } = openBytes(Buffer.concat([data, tail]));
    expect(state).toEqual(after);
    expect(report.recordsKept).toBe(records);
    expect(report.damage?.reason).toMatch(/record length 4294967280 exceeds the 67108864-byte limit/);
  });

  it('a zero-filled tail (preallocated blocks after a crash) is cut', () => {
    const { data, after } = build();
    const { report, state } = openBytes(Buffer.concat([data, Buffer.alloc(4096)]));
    expect(state).toEqual(after);
    expect(report.bytesDiscarded).toBe(4096);
    expect(report.damage?.reason).toBe('empty record');
  });

  it('describes the damage in one log line', () => {
    const { data, lastStart } = build();
    const { report } = openBytes(data.subarray(0, lastStart + 20));
    expect(describeOpenReport(report)).toMatch(
      new RegExp(`conf\\.journal: replayed \\d+ records up to txn \\d+ \\(${lastStart} bytes\\); cut 20 damaged bytes at offset ${lastStart}: record of \\d+ bytes is cut short: 12 bytes in the file$`),
    );
  });

  it('appends after a cut tail land where the tail was', () => {
    const { data, lastStart, before } = build();
    const dir = tempDir();
    writeFileSync(journalOf(dir), data.subarray(0, lastStart + 11));
    const { db, report } = Database.open(dir);
    expect(report.bytesDiscarded).toBe(11);
    db.transact([{ op: 'update', table: 'Bridge', where: [], row: { datapath_type: 'netdev' } }]);
    const now = durable(db);
    expect(now).not.toEqual(before);
    db.close();
    const { db: db2, report: r2 } = Database.open(dir);
    expect(r2.damage).toBeUndefined();
    expect(durable(db2)).toEqual(now);
    db2.close();
  });

  it('refuses a damaged header or a file that is not a journal', () => {
    const { data } = build();
    const bad = Buffer.from(data);
    bad[10] ^= 1;
    const dir = tempDir();
    writeFileSync(journalOf(dir), bad);
    expect(() => Database.open(dir)).toThrow(expect.objectContaining({ code: 'journal corrupt' }));
    writeFileSync(journalOf(dir), 'hello world, I am not a journal\n');
    expect(() => Database.open(dir)).toThrow(/is not a tsvs config journal/);
    expect(readFileSync(journalOf(dir), 'utf8')).toBe('hello world, I am not a journal\n');
  });

  it('checkIntegrity reports what a bad but well-formed journal left behind', () => {
    const { data } = build();
    const rec = encodeRecord(vswitchSchema, {
      kind: 'transaction',
      txnId: 1000,
      timeMs: 0,
      comment: '',
      rows: [
        { table: 'Port', uuid: '11111111-2222-4333-8444-555555555555', op: 'insert', columns: new Map<string, Datum>([['name', 'stray'], ['interfaces', ['11111111-2222-4333-8444-666666666666']]]) },
      ],
    });
    const dir = tempDir();
    writeFileSync(journalOf(dir), Buffer.concat([data, frame(rec)]));
    const { db } = Database.open(dir);
    expect(db.checkIntegrity()).toEqual([
      'Port stray (11111111-2222-4333-8444-555555555555) is not reachable from a root row',
    ]);
    db.close();
  });

  it('refuses (and does not truncate) a checksummed record that does not fit the database', () => {
    const { data } = build();
    const rec = encodeRecord(vswitchSchema, {
      kind: 'transaction',
      txnId: 1000,
      timeMs: 0,
      comment: '',
      rows: [{ table: 'Bridge', uuid: '11111111-2222-4333-8444-555555555555', op: 'delete', columns: new Map() }],
    });
    const dir = tempDir();
    writeFileSync(journalOf(dir), Buffer.concat([data, frame(rec)]));
    expect(() => Database.open(dir)).toThrow(/journal transaction 1000: delete of Bridge 11111111-.*: no such row/);
    expect(statSync(journalOf(dir)).size).toBe(data.length + 8 + rec.length);
  });
});

describe('compaction', () => {
  it('rewrites the journal as a snapshot past the size threshold and keeps the state', () => {
    const dir = tempDir();
    const { db } = Database.open(dir, { compactBytes: 4096 });
    workload(db, 40);
    const stats = db.stats();
    expect(stats.compactions).toBeGreaterThan(0);
    expect(stats.lastCompactionError).toBe(null);
    const plain = tempDir();
    const { db: uncompacted } = Database.open(plain, { compactBytes: Infinity });
    workload(uncompacted, 40);
    uncompacted.close();
    expect(statSync(journalOf(dir)).size).toBeLessThan(statSync(journalOf(plain)).size / 2);
    const state = durable(db);
    const last = db.lastTxnId;
    db.close();
    const { db: db2, report } = Database.open(dir);
    expect(report.damage).toBeUndefined();
    expect(report.lastTxnId).toBe(last);
    expect(report.recordsKept).toBeLessThan(last);
    expect(durable(db2)).toEqual(state);
    db2.close();
  });

  it('explicit compaction, then more transactions, then reopen', () => {
    const dir = tempDir();
    const { db } = Database.open(dir);
    workload(db, 5);
    const big = statSync(journalOf(dir)).size;
    db.compact();
    expect(statSync(journalOf(dir)).size).toBeLessThan(big);
    expect(db.stats().journalRecords).toBe(1);
    db.transact([{ op: 'update', table: 'Port', where: [['name', '==', 'p1']], row: { tag: 99 } }]);
    const state = durable(db);
    db.close();
    const { db: db2, report } = Database.open(dir);
    expect(report.recordsKept).toBe(2);
    expect(durable(db2)).toEqual(state);
    db2.close();
  });

  it('removes the temp file of an interrupted compaction and keeps the journal', () => {
    const dir = tempDir();
    const { db } = Database.open(dir);
    workload(db, 2);
    const state = durable(db);
    db.close();
    copyFileSync(journalOf(dir), `${journalOf(dir)}.tmp`);
    appendFileSync(`${journalOf(dir)}.tmp`, 'half a snapshot');
    const { db: db2, report } = Database.open(dir);
    expect(report.removedTempFile).toBe(true);
    expect(existsSync(`${journalOf(dir)}.tmp`)).toBe(false);
    expect(durable(db2)).toEqual(state);
    db2.close();
  });
});

describe('ownership and failures', () => {
  it('one process at a time: a live holder blocks, a dead one does not', () => {
    const dir = tempDir();
    const { db } = Database.open(dir);
    expect(() => Database.open(dir)).toThrow(expect.objectContaining({ code: 'locked', message: expect.stringContaining(`process ${process.pid}`) }));
    db.close();
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(join(dir, `${Database.JOURNAL_FILE}.lock`), `${dead}\n`);
    const { db: db2 } = Database.open(dir);
    db2.close();
    expect(existsSync(join(dir, `${Database.JOURNAL_FILE}.lock`))).toBe(false);
    // Our own pid, left by an earlier incarnation (a container's pid 1): stale too.
    writeFileSync(join(dir, `${Database.JOURNAL_FILE}.lock`), `${process.pid}\n`);
    const { db: db3 } = Database.open(dir);
    expect(() => Database.open(dir)).toThrow(expect.objectContaining({ code: 'locked' }));
    db3.close();
  });

  it('a failed journal write is not a commit', () => {
    const dir = tempDir();
    const { db } = Database.open(dir);
    workload(db, 1);
    const before = durable(db);
    const last = db.lastTxnId;
    let events = 0;
    db.onCommit(() => events++);
    // Swap its fd for a read-only one: the write fails (EBADF) as on a full disk.
    const j = (db as unknown as { journal: { fd: number } }).journal;
    const readOnly = openSync(journalOf(dir), 'r');
    closeSync(j.fd);
    j.fd = readOnly;
    const attempt = () => db.transact([{ op: 'update', table: 'Bridge', where: [], row: { datapath_type: 'netdev' } }]);
    expect(attempt).toThrow(expect.objectContaining({ code: 'I/O error' }));
    expect(attempt).toThrow(/unknown state after a failed write/);
    expect(durable(db)).toEqual(before);
    expect(db.lastTxnId).toBe(last);
    expect(events).toBe(0);
    db.close();
    const { db: db2 } = Database.open(dir);
    expect(durable(db2)).toEqual(before);
    db2.close();
  });
});
