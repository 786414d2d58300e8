// Seeded random transactions, valid and not, against a journaled database:
// after every one the state must be sound (checkIntegrity), a failed one must
// change nothing, and reopening (through compactions) must give the same state.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Database, DbError, named, type Operation, type Row } from '../../../../vswitchd/db/database.js';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length > 0) rmSync(dirs.pop()!, { recursive: true, force: true });
});

function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function durable(db: Database): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const t of db.schema.tables.values()) {
    out[t.name] = db
      .list(t.name)
      .map((r: Row) => Object.fromEntries(Object.entries(r).filter(([k]) => k === '_uuid' || !t.columns.get(k)!.ephemeral)))
      .sort((a, b) => String(a._uuid).localeCompare(String(b._uuid)));
  }
  return out;
}

describe('random workload', () => {
  it('stays sound, atomic and replayable over 600 seeded transactions', () => {
    const dir = mkdtempSync(join(tmpdir(), `tsvs-random-${process.pid}-`));
    dirs.push(dir);
    const rand = prng(20261126);
    const pick = <T>(xs: readonly T[]): T | undefined => (xs.length === 0 ? undefined : xs[Math.floor(rand() * xs.length)]);
    let { db } = Database.open(dir, { compactBytes: 16 * 1024 });
    db.transact([{ op: 'insert', table: 'Open_vSwitch' }]);
    let seq = 0;
    let okCount = 0;
    let compactions = 0;
    let failCount = 0;
    const codes = new Set<string>();

    const newPort = (ops: Operation[], bridge: string | null): void => {
      const n = seq++;
      const ifaces = 1 + Math.floor(rand() * 2);
      const names = Array.from({ length: ifaces }, (_, k) => `i${n}_${k}`);
      ops.push({ op: 'insert', table: 'Port', uuidName: `p${n}`, row: { name: `p${n}`, interfaces: names.map((x) => named(x)), tag: rand() < 0.5 ? Math.floor(rand() * 4096) : [] } });
      for (const x of names) ops.push({ op: 'insert', table: 'Interface', uuidName: x, row: { name: x, type: pick(['guest', 'internal', 'patch'])! } });
      if (bridge) ops.push({ op: 'mutate', table: 'Bridge', where: [['_uuid', '==', bridge]], mutations: [['ports', 'insert', [named(`p${n}`)]]] });
    };

    for (let step = 0; step < 600; step++) {
      const bridges = db.list('Bridge');
      const ports = db.list('Port');
      const ops: Operation[] = [];
      const r = rand();
      if (r < 0.2 || bridges.length === 0) {
        const n = seq++;
        ops.push({ op: 'insert', table: 'Bridge', uuidName: `b${n}`, row: { name: `br${n}`, fail_mode: pick(['standalone', 'secure', []])! } });
        ops.push({ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', [named(`b${n}`)]]] });
        if (rand() < 0.3) {
          ops.push({ op: 'insert', table: 'Controller', uuidName: `c${n}`, row: { target: `tcp:127.0.0.1:${6600 + n}` } });
          ops.push({ op: 'update', table: 'Bridge', where: [['name', '==', `br${n}`]], row: { controller: [named(`c${n}`)] } });
        }
      } else if (r < 0.45) {
        newPort(ops, pick(bridges)!._uuid);
      } else if (r < 0.55 && bridges.length > 0) {
        ops.push({ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'delete', [pick(bridges)!._uuid]]] });
      } else if (r < 0.65 && ports.length > 0) {
        const p = pick(ports)!;
        ops.push({ op: 'mutate', table: 'Bridge', where: [['ports', 'includes', [p._uuid]]], mutations: [['ports', 'delete', [p._uuid]]] });
      } else if (r < 0.72 && ports.length > 0 && bridges.length > 1) {
        // Move a port between bridges: it must survive GC.
        const p = pick(ports)!;
        const to = pick(bridges)!;
        ops.push({ op: 'mutate', table: 'Bridge', where: [], mutations: [['ports', 'delete', [p._uuid]]] });
        ops.push({ op: 'mutate', table: 'Bridge', where: [['_uuid', '==', to._uuid]], mutations: [['ports', 'insert', [p._uuid]]] });
      } else if (r < 0.8 && ports.length > 0) {
        const b = pick(bridges)!;
        const sel = (b.ports as readonly string[]).filter(() => rand() < 0.5);
        ops.push({ op: 'insert', table: 'Mirror', uuidName: 'm', row: { name: `m${seq++}`, select_src_port: sel, select_dst_port: sel.slice(0, 1), output_port: pick(b.ports as readonly string[]) ?? [] } });
        ops.push({ op: 'mutate', table: 'Bridge', where: [['_uuid', '==', b._uuid]], mutations: [['mirrors', 'insert', [named('m')]]] });
      } else if (r < 0.88 && ports.length > 0) {
        // Sometimes invalid (tag out of range, or a port deleted while referenced).
        const p = pick(ports)!;
        if (rand() < 0.5) ops.push({ op: 'update', table: 'Port', where: [['_uuid', '==', p._uuid]], row: { tag: Math.floor(rand() * 5000) } });
        else ops.push({ op: 'delete', table: 'Port', where: [['_uuid', '==', p._uuid]] });
      } else if (r < 0.94) {
        ops.push({ op: 'update', table: 'Interface', where: [], row: { statistics: { rx_packets: step }, link_state: 'up' } });
        ops.push({ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] });
      } else {
        // A valid start and a failing end: nothing of it may stick.
        newPort(ops, pick(bridges)!._uuid);
        ops.push({ op: 'assert', table: 'Bridge', where: [['name', '==', 'no-such-bridge']] });
      }

      // Rows are immutable objects, so the lists themselves are a snapshot.
      const before = [...db.schema.tables.keys()].map((t) => db.list(t));
      const beforeTxn = db.lastTxnId;
      try {
        db.transact(ops);
        okCount++;
      } catch (e) {
        if (!(e instanceof DbError)) throw e;
        codes.add(e.code);
        failCount++;
        expect([...db.schema.tables.keys()].map((t) => db.list(t)), `step ${step}: failed transaction changed state`).toEqual(before);
        expect(db.lastTxnId).toBe(beforeTxn);
      }
      expect(db.checkIntegrity(), `step ${step}`).toEqual([]);

      if (step % 75 === 74) {
        const state = durable(db);
        compactions += db.stats().compactions;
        db.close();
        const reopened = Database.open(dir, { compactBytes: 16 * 1024 });
        expect(reopened.report.damage).toBeUndefined();
        db = reopened.db;
        expect(durable(db), `reopen at step ${step}`).toEqual(state);
      }
    }
    compactions += db.stats().compactions;
    expect(compactions).toBeGreaterThan(0);
    db.close();
    expect(okCount).toBeGreaterThan(300);
    expect(failCount).toBeGreaterThan(20);
    expect([...codes].sort()).toEqual(['assertion failed', 'constraint violation', 'referential integrity violation']);
  });
});
