import { describe, expect, expectTypeOf, it } from 'vitest';
import { Database, DbError, named, type CommitEvent, type Operation, type Row } from '../../../../vswitchd/db/database.js';

/** Open_vSwitch root row plus bridge br0 with ports p1 (iface p1) and p2 (iface p2). */
function setup(): { db: Database; ovs: string; br0: string } {
  const db = Database.inMemory();
  const r = db.transact([
    { op: 'insert', table: 'Open_vSwitch', uuidName: 'ovs', row: { bridges: [named('br0')] } },
    { op: 'insert', table: 'Bridge', uuidName: 'br0', row: { name: 'br0', ports: [named('p1'), named('p2')], fail_mode: 'secure' } },
    { op: 'insert', table: 'Port', uuidName: 'p1', row: { name: 'p1', interfaces: named('i1'), tag: 10 } },
    { op: 'insert', table: 'Port', uuidName: 'p2', row: { name: 'p2', interfaces: [named('i2')], trunks: [20, 30] } },
    { op: 'insert', table: 'Interface', uuidName: 'i1', row: { name: 'p1', type: 'guest' } },
    { op: 'insert', table: 'Interface', uuidName: 'i2', row: { name: 'p2', type: 'guest', options: { peer: 'x' } } },
  ]);
  return { db, ovs: r.results[0].uuid!, br0: r.results[1].uuid! };
}

function fail(db: Database, ops: Operation[]): DbError {
  try {
    db.transact(ops);
  } catch (e) {
    if (e instanceof DbError) return e;
    throw e;
  }
  throw new Error('transaction unexpectedly succeeded');
}

function dump(db: Database): Record<string, Row[]> {
  const out: Record<string, Row[]> = {};
  for (const t of db.schema.tables.keys()) out[t] = db.list(t);
  return out;
}

const byName = (db: Database, table: string, name: string): Row => {
  const rows = db.find(table, [['name', '==', name]]);
  expect(rows).toHaveLength(1);
  return rows[0];
};

describe('Database transactions', () => {
  it('inserts rows that refer to each other by uuid-name, in any order', () => {
    const { db, ovs, br0 } = setup();
    expect(db.lastTxnId).toBe(1);
    expect(db.get('Open_vSwitch', ovs)!.bridges).toEqual([br0]);
    const bridge = db.get('Bridge', br0)!;
    expect(bridge.fail_mode).toBe('secure');
    expect(bridge.ports).toEqual([byName(db, 'Port', 'p1')._uuid, byName(db, 'Port', 'p2')._uuid].sort());
    expect(byName(db, 'Port', 'p1').interfaces).toEqual([byName(db, 'Interface', 'p1')._uuid]);
    expect(byName(db, 'Port', 'p1').tag).toBe(10);
    expect(byName(db, 'Port', 'p2').tag).toBe(null);
    expect(byName(db, 'Interface', 'p2').options).toEqual(new Map([['peer', 'x']]));
    expect(byName(db, 'Interface', 'p2').ofport).toBe(null);
    expect(db.get('Open_vSwitch', ovs)!.next_cfg).toBe(0);
  });

  it('types vswitch rows per table', () => {
    const { db } = setup();
    const b = db.list('Bridge')[0];
    expectTypeOf(b.fail_mode).toEqualTypeOf<'standalone' | 'secure' | null>();
    expectTypeOf(b.protocols).toEqualTypeOf<readonly ('OpenFlow10' | 'OpenFlow11' | 'OpenFlow12' | 'OpenFlow13' | 'OpenFlow14' | 'OpenFlow15')[]>();
    expectTypeOf(b.ports).toEqualTypeOf<readonly string[]>();
    expectTypeOf(b.name).toEqualTypeOf<string>();
    expectTypeOf(db.find('Port', [])[0].tag).toEqualTypeOf<number | null>();
    expectTypeOf(db.get('Interface', db.list('Interface')[0]._uuid)!.options).toEqualTypeOf<ReadonlyMap<string, string>>();
    expectTypeOf(db.list('Open_vSwitch')[0].next_cfg).toEqualTypeOf<number>();
    expectTypeOf(db.list('Interface')[0].ingress_policing_rate).toEqualTypeOf<number>();
    expect(b.fail_mode).toBe('secure');
    expect(b.protocols).toEqual([]);
  });

  it('rejects undefined and duplicate uuid-names', () => {
    const { db } = setup();
    const e1 = fail(db, [{ op: 'mutate', table: 'Bridge', where: [], mutations: [['ports', 'insert', [named('nope')]]] }]);
    expect(e1.code).toBe('not found');
    expect(e1.message).toMatch(/uuid-name 'nope'/);
    const e2 = fail(db, [
      { op: 'insert', table: 'Interface', uuidName: 'x', row: { name: 'a' } },
      { op: 'insert', table: 'Interface', uuidName: 'x', row: { name: 'b' } },
    ]);
    expect(e2.code).toBe('duplicate uuid-name');
    expect(e2.opIndex).toBe(1);
  });

  it('garbage-collects ports and interfaces a bridge drops, and whole bridges', () => {
    const { db, ovs, br0 } = setup();
    const p1 = byName(db, 'Port', 'p1')._uuid;
    db.transact([{ op: 'mutate', table: 'Bridge', where: [['_uuid', '==', br0]], mutations: [['ports', 'delete', [p1]]] }]);
    expect(db.list('Port').map((r) => r.name)).toEqual(['p2']);
    expect(db.list('Interface').map((r) => r.name)).toEqual(['p2']);
    db.transact([{ op: 'mutate', table: 'Open_vSwitch', where: [['_uuid', '==', ovs]], mutations: [['bridges', 'delete', [br0]]] }]);
    expect(db.list('Bridge')).toEqual([]);
    expect(db.list('Port')).toEqual([]);
    expect(db.list('Interface')).toEqual([]);
    expect(db.list('Open_vSwitch')).toHaveLength(1);
    expect(db.checkIntegrity()).toEqual([]);
  });

  it('drops a non-root row nothing refers to at commit', () => {
    const db = Database.inMemory();
    const r = db.transact([{ op: 'insert', table: 'Bridge', row: { name: 'lonely' } }]);
    expect(r.txnId).toBe(null);
    expect(db.list('Bridge')).toEqual([]);
  });

  it('refuses strong references to missing rows and deleting referenced rows', () => {
    const { db, br0 } = setup();
    const before = dump(db);
    const e1 = fail(db, [{ op: 'insert', table: 'Port', uuidName: 'p', row: { name: 'p3', interfaces: ['12345678-1234-4234-8234-123456789abc'] } },
      { op: 'mutate', table: 'Bridge', where: [], mutations: [['ports', 'insert', [named('p')]]] }]);
    expect(e1.code).toBe('referential integrity violation');
    expect(e1.message).toMatch(/Port p3 \(.*\) column 'interfaces' refers to Interface 12345678-.* which does not exist/);
    const e2 = fail(db, [{ op: 'delete', table: 'Port', where: [['name', '==', 'p1']] }]);
    expect(e2.code).toBe('referential integrity violation');
    expect(e2.message).toContain(`Bridge br0 (${br0}) column 'ports'`);
    expect(e2.message).toContain('this transaction deletes');
    expect(dump(db)).toEqual(before);
  });

  it('removes weak references to deleted rows', () => {
    const { db, br0 } = setup();
    const p1 = byName(db, 'Port', 'p1')._uuid;
    const p2 = byName(db, 'Port', 'p2')._uuid;
    db.transact([
      { op: 'insert', table: 'Mirror', uuidName: 'm', row: { name: 'm0', select_src_port: [p1, p2], output_port: p2 } },
      { op: 'mutate', table: 'Bridge', where: [['_uuid', '==', br0]], mutations: [['mirrors', 'insert', [named('m')]]] },
    ]);
    db.transact([{ op: 'mutate', table: 'Bridge', where: [], mutations: [['ports', 'delete', [p2]]] }]);
    const m = byName(db, 'Mirror', 'm0');
    expect(m.select_src_port).toEqual([p1]);
    expect(m.output_port).toBe(null);
  });

  it('checks types, enums, ranges, sizes, immutable columns, indexes and maxRows', () => {
    const { db, br0 } = setup();
    const before = dump(db);
    const cases: [Operation[], string, RegExp][] = [
      [[{ op: 'update', table: 'Port', where: [['name', '==', 'p1']], row: { tag: 4096 } }], 'constraint violation', /Port\.tag: 4096 is outside the range 0\.\.4095/],
      [[{ op: 'update', table: 'Bridge', where: [], row: { fail_mode: 'open' } }], 'constraint violation', /"open" is not one of "secure", "standalone"/],
      [[{ op: 'update', table: 'Port', where: [], row: { vlan_mode: 'hybrid' } }], 'constraint violation', /vlan_mode/],
      [[{ op: 'update', table: 'Port', where: [], row: { bond_mode: 'round-robin' } }], 'constraint violation', /bond_mode/],
      [[{ op: 'update', table: 'Port', where: [], row: { tag: 'ten' } }], 'syntax error', /expected an integer, got "ten"/],
      [[{ op: 'update', table: 'Port', where: [], row: { interfaces: [] } }], 'constraint violation', /needs 1\.\.unlimited elements, got 0/],
      [[{ op: 'update', table: 'Bridge', where: [], row: { name: 'br1' } }], 'constraint violation', /Bridge\.name cannot be changed/],
      [[{ op: 'update', table: 'Interface', where: [], row: { ofport_request: 0 } }], 'constraint violation', /ofport_request/],
      [[{ op: 'insert', table: 'Open_vSwitch' }], 'constraint violation', /at most 1 row/],
      [[{ op: 'insert', table: 'Bridge', uuidName: 'b', row: { name: 'br0' } },
        { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', [named('b')]]] }], 'constraint violation', /both have name="br0", which must be unique/],
      [[{ op: 'insert', table: 'Brige', row: {} }], 'unknown table', /no table "Brige"/],
      [[{ op: 'update', table: 'Bridge', where: [], row: { colour: 'red' } }], 'unknown column', /Bridge has no column "colour"/],
      [[{ op: 'update', table: 'Bridge', where: [['name', '~=' as '==', 'x']], row: {} }], 'syntax error', /unknown function/],
      [[{ op: 'frobnicate' } as unknown as Operation], 'syntax error', /unknown operation "frobnicate"/],
      [[{ op: 'abort' }], 'aborted', /aborted/],
    ];
    for (const [ops, code, msg] of cases) {
      const e = fail(db, ops);
      expect(e.code, JSON.stringify(ops)).toBe(code);
      expect(e.message).toMatch(msg);
    }
    expect(fail(db, [{ op: 'comment', comment: 'x' }, { op: 'update', table: 'Port', where: [], row: { tag: -1 } }]).opIndex).toBe(1);
    expect(dump(db)).toEqual(before);
    expect(db.get('Bridge', br0)!.name).toBe('br0');
    expect(db.lastTxnId).toBe(1);
  });

  it('changes nothing and announces nothing when any operation fails', () => {
    const { db } = setup();
    const events: CommitEvent[] = [];
    db.onCommit((e) => events.push(e));
    const before = dump(db);
    const e = fail(db, [
      { op: 'insert', table: 'Bridge', uuidName: 'b1', row: { name: 'br1' } },
      { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', [named('b1')]], ['next_cfg', '+=', 1]] },
      { op: 'update', table: 'Port', where: [['name', '==', 'p1']], row: { tag: 20 } },
      { op: 'delete', table: 'Port', where: [['name', '==', 'p2']] }, // still referenced by br0
    ]);
    expect(e.code).toBe('referential integrity violation');
    expect(dump(db)).toEqual(before);
    expect(db.lastTxnId).toBe(1);
    expect(events).toEqual([]);
  });
});

describe('conditions, wait and assert', () => {
  it('selects with ==, !=, <, >, includes, excludes and _uuid', () => {
    const { db, br0 } = setup();
    const names = (where: Parameters<Database['find']>[1]) => db.find('Port', where).map((r) => r.name).sort();
    expect(names([['tag', '==', 10]])).toEqual(['p1']);
    expect(names([['tag', '==', []]])).toEqual(['p2']);
    expect(names([['tag', '!=', 10]])).toEqual(['p2']);
    expect(names([['tag', '<', 11]])).toEqual(['p1']);
    expect(names([['tag', '>', 10]])).toEqual([]);
    expect(names([['trunks', 'includes', [20]]])).toEqual(['p2']);
    expect(names([['trunks', 'includes', [20, 40]]])).toEqual([]);
    expect(names([['trunks', 'excludes', [40]]])).toEqual(['p1', 'p2']);
    expect(names([['trunks', 'excludes', [30]]])).toEqual(['p1']);
    expect(names([['trunks', '==', [30, 20]]])).toEqual(['p2']);
    expect(db.find('Interface', [['options', 'includes', { peer: 'x' }]]).map((r) => r.name)).toEqual(['p2']);
    expect(db.find('Interface', [['options', 'includes', { peer: 'y' }]])).toEqual([]);
    expect(db.find('Bridge', [['_uuid', '==', br0]]).map((r) => r.name)).toEqual(['br0']);
    expect(db.find('Bridge', [['fail_mode', '==', 'standalone']])).toEqual([]);
    const sel = db.transact([{ op: 'select', table: 'Port', where: [['name', '==', 'p1']], columns: ['tag'] }]);
    expect(sel.txnId).toBe(null);
    expect(sel.results[0].rows).toEqual([{ _uuid: byName(db, 'Port', 'p1')._uuid, tag: 10 }]);
    expect(() => db.find('Port', [['name', '<', 3]])).toThrow(/needs an integer or real column/);
  });

  it('wait fails with "timed out" unless rows are as expected', () => {
    const { db } = setup();
    db.transact([{ op: 'wait', table: 'Bridge', where: [['name', '==', 'br0']], columns: ['fail_mode'], until: '==', rows: [{ fail_mode: 'secure' }] }]);
    const e = fail(db, [{ op: 'wait', table: 'Bridge', where: [], columns: ['fail_mode'], until: '==', rows: [{ fail_mode: 'standalone' }], timeout: 0 }]);
    expect(e.code).toBe('timed out');
    db.transact([{ op: 'wait', table: 'Bridge', where: [], columns: ['name'], until: '!=', rows: [{ name: 'br9' }] }]);
  });

  it('assert guards a transaction on how many rows match', () => {
    const { db } = setup();
    db.transact([{ op: 'assert', table: 'Bridge', where: [['name', '==', 'br0']] }]);
    const e = fail(db, [
      { op: 'assert', table: 'Bridge', where: [['name', '==', 'br1']], min: 0, max: 0 },
      { op: 'assert', table: 'Port', where: [['name', '==', 'p1']], max: 0, message: 'port p1 already exists' },
    ]);
    expect(e.code).toBe('assertion failed');
    expect(e.message).toBe('operation 1: port p1 already exists');
  });
});

describe('mutate', () => {
  it('inserts into and deletes from sets and maps', () => {
    const { db } = setup();
    const w = [['name', '==', 'p2']] as const;
    db.transact([{ op: 'mutate', table: 'Port', where: [...w], mutations: [['trunks', 'insert', [10, 30]], ['trunks', 'delete', [20]]] }]);
    expect(byName(db, 'Port', 'p2').trunks).toEqual([10, 30]);
    db.transact([{ op: 'mutate', table: 'Interface', where: [...w], mutations: [['options', 'insert', { peer: 'ignored', remote_ip: '1.2.3.4' }]] }]);
    expect(byName(db, 'Interface', 'p2').options).toEqual(new Map([['peer', 'x'], ['remote_ip', '1.2.3.4']]));
    db.transact([{ op: 'mutate', table: 'Interface', where: [...w], mutations: [['options', 'delete', { peer: 'not-x' }]] }]);
    expect((byName(db, 'Interface', 'p2').options as Map<string, string>).has('peer')).toBe(true);
    db.transact([{ op: 'mutate', table: 'Interface', where: [...w], mutations: [['options', 'delete', ['peer']]] }]);
    expect(byName(db, 'Interface', 'p2').options).toEqual(new Map([['remote_ip', '1.2.3.4']]));
    db.transact([{ op: 'mutate', table: 'Port', where: [...w], mutations: [['tag', 'insert', [5]]] }]);
    expect(byName(db, 'Port', 'p2').tag).toBe(5);
    expect(fail(db, [{ op: 'mutate', table: 'Port', where: [...w], mutations: [['tag', 'insert', [6]]] }]).code).toBe('constraint violation');
    expect(fail(db, [{ op: 'mutate', table: 'Port', where: [...w], mutations: [['interfaces', 'delete', byName(db, 'Port', 'p2').interfaces]] }]).code).toBe('constraint violation');
  });

  it('does arithmetic on integers and checks the result', () => {
    const { db } = setup();
    const r = db.transact([{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] }]);
    expect(r.results[0].count).toBe(1);
    db.transact([{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 5], ['next_cfg', '*=', 3], ['next_cfg', '-=', 4], ['next_cfg', '/=', 4], ['next_cfg', '%=', 2]] }]);
    expect(db.list('Open_vSwitch')[0].next_cfg).toBe(1); // ((1 + 5) * 3 - 4) / 4 = 3 (truncated), 3 % 2 = 1
    db.transact([{ op: 'mutate', table: 'Port', where: [['name', '==', 'p2']], mutations: [['trunks', '+=', 100]] }]);
    expect(byName(db, 'Port', 'p2').trunks).toEqual([120, 130]);
    expect(fail(db, [{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '/=', 0]] }]).code).toBe('domain error');
    expect(fail(db, [{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', Number.MAX_SAFE_INTEGER]], }, { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', Number.MAX_SAFE_INTEGER]] }]).code).toBe('range error');
    expect(fail(db, [{ op: 'mutate', table: 'Port', where: [['name', '==', 'p1']], mutations: [['tag', '+=', 5000]] }]).code).toBe('constraint violation');
    expect(fail(db, [{ op: 'mutate', table: 'Port', where: [['name', '==', 'p2']], mutations: [['trunks', '*=', 0]] }]).message).toMatch(/made two elements equal/);
    expect(fail(db, [{ op: 'mutate', table: 'Bridge', where: [], mutations: [['name', 'insert', ['x']]] }]).code).toBe('constraint violation');
  });
});

describe('commit listeners', () => {
  it('see each commit once, in order, with old and new rows', () => {
    const { db } = setup();
    const seen: string[] = [];
    db.onCommit((e) => {
      seen.push(`${e.txnId}:${e.changes.map((c) => `${c.table}${c.old ? '' : '+'}${c.new ? '' : '-'}`).join(',')}`);
      // The daemon writes cur_cfg after reconfiguring: a commit from inside a listener.
      const ovs = db.list('Open_vSwitch')[0];
      if (ovs.cur_cfg !== ovs.next_cfg) db.transact([{ op: 'update', table: 'Open_vSwitch', where: [], row: { cur_cfg: ovs.next_cfg } }]);
    });
    const second: number[] = [];
    const off = db.onCommit((e) => second.push(e.txnId));
    db.transact([{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] }, { op: 'delete', table: 'Bridge', where: [] }, { op: 'update', table: 'Open_vSwitch', where: [], row: { bridges: [] } }]);
    expect(seen).toEqual(['2:Open_vSwitch,Bridge-,Port-,Port-,Interface-,Interface-', '3:Open_vSwitch']);
    expect(second).toEqual([2, 3]);
    expect(db.list('Open_vSwitch')[0].cur_cfg).toBe(1);
    off();
    db.transact([{ op: 'update', table: 'Open_vSwitch', where: [], row: { external_ids: { a: 'b' } } }]);
    expect(second).toEqual([2, 3]);
  });

  it('a throwing listener does not undo the commit', () => {
    const errors: unknown[] = [];
    const db = Database.inMemory({ onListenerError: (e) => errors.push(e) });
    let after = 0;
    db.onCommit(() => {
      throw new Error('boom');
    });
    db.onCommit(() => after++);
    const r = db.transact([{ op: 'insert', table: 'Open_vSwitch' }]);
    expect(r.txnId).toBe(1);
    expect(db.list('Open_vSwitch')).toHaveLength(1);
    expect(after).toBe(1);
    expect(String(errors[0])).toMatch(/boom/);
  });

  it('a no-op transaction is not a commit', () => {
    const { db } = setup();
    let n = 0;
    db.onCommit(() => n++);
    const r = db.transact([{ op: 'update', table: 'Bridge', where: [], row: { fail_mode: 'secure' } }]);
    expect(r).toEqual({ txnId: null, results: [{ count: 1 }] });
    expect(n).toBe(0);
    expect(db.lastTxnId).toBe(1);
    db.close();
    expect(() => db.transact([])).toThrow(DbError);
  });
});

describe('transactWhen', () => {
  // OVSDB's idiom for "until some row matches": no columns, no rows, until '!='.
  const curCfgAtLeast = (n: number): Operation => ({ op: 'wait', table: 'Open_vSwitch', where: [['cur_cfg', '>=', n]], columns: [], until: '!=', rows: [] });

  it('commits once its wait holds, after a later commit', async () => {
    const { db } = setup();
    db.transact([{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] }]);
    let settled = false;
    const p = db.transactWhen([curCfgAtLeast(1), { op: 'update', table: 'Bridge', where: [], row: { external_ids: { applied: 'yes' } } }], 1000).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(settled).toBe(false);
    db.transact([{ op: 'update', table: 'Bridge', where: [], row: { datapath_type: 'netdev' } }]); // not yet
    await new Promise((r) => setTimeout(r, 5));
    expect(settled).toBe(false);
    db.transact([{ op: 'update', table: 'Open_vSwitch', where: [], row: { cur_cfg: 1 } }]);
    const r = await p;
    expect(r.txnId).toBe(5);
    expect(db.list('Bridge')[0].external_ids).toEqual(new Map([['applied', 'yes']]));
  });

  it('commits at once when the wait already holds, and rejects other errors at once', async () => {
    const { db } = setup();
    await expect(db.transactWhen([curCfgAtLeast(0), { op: 'update', table: 'Port', where: [], row: { tag: 7 } }], 10)).resolves.toMatchObject({ txnId: 2 });
    await expect(db.transactWhen([{ op: 'update', table: 'Port', where: [], row: { tag: 7000 } }], 1000)).rejects.toMatchObject({ code: 'constraint violation' });
  });

  it('times out, and gives up when the database closes', async () => {
    const { db } = setup();
    await expect(db.transactWhen([curCfgAtLeast(1)], 20)).rejects.toMatchObject({ code: 'timed out' });
    const p = db.transactWhen([curCfgAtLeast(1)], 10_000);
    db.close();
    await expect(p).rejects.toMatchObject({ code: 'closed' });
  });
});
