import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RpcClient, RpcError } from '../../../../ctl/rpc-client.js';
import { Database } from '../../../../vswitchd/db/database.js';
import { AppctlRegistry } from '../../../../vswitchd/rpc/appctl.js';
import { encodeFrame, FrameDecoder } from '../../../../vswitchd/rpc/framing.js';
import { decodeResponse, encodeRequest } from '../../../../vswitchd/rpc/messages.js';
import { RpcServer } from '../../../../vswitchd/rpc/server.js';

describe('RPC server', () => {
  let dir: string;
  let db: Database;
  let server: RpcServer;
  let path: string;
  const clients: RpcClient[] = [];
  const connect = async (): Promise<RpcClient> => {
    const c = await RpcClient.connect(path);
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsvs-rpc-'));
    path = join(dir, 'tsvs-vswitchd.ctl');
    db = Database.inMemory();
    db.transact([{ op: 'insert', table: 'Open_vSwitch' }]);
    const appctl = new AppctlRegistry();
    appctl.registerAppctl('echo', 'WORDS...', 0, 10, (args) => args.join(' ') + '\n');
    server = new RpcServer({ path, db, appctl, version: 'test', maxFrameBytes: 64 * 1024 });
    await server.start();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server.stop();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the socket with mode 0600', () => {
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('transacts, lists, finds and gets; errors come back with their code', async () => {
    const c = await connect();
    const ops = [{ op: 'insert', table: 'Bridge', uuidName: 'b', row: { name: 'br0', external_ids: { $map: [['a', 'b']] } } },
      { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', [{ namedUuid: 'b' }]]] }];
    const r = await c.request({ transact: { ops_json: JSON.stringify(ops) } });
    const uuid = (r.result as { results: { uuid: string }[] }).results[0].uuid;
    const rows = (await c.request({ find: { table: 'Bridge', where_json: JSON.stringify([['name', '==', 'br0']]) } })).result as Record<string, unknown>[];
    expect(rows).toHaveLength(1);
    expect(rows[0]['external_ids']).toEqual(new Map([['a', 'b']]));
    expect(((await c.request({ get: { table: 'Bridge', uuid } })).result as { name: string }).name).toBe('br0');
    await expect(c.request({ transact: { ops_json: JSON.stringify([{ op: 'insert', table: 'Nope' }]) } })).rejects.toMatchObject({ code: 'unknown table' });
    await expect(c.request({ transact: { ops_json: '[]', expect_txn_id: 1 } })).rejects.toMatchObject({ code: 'try again' });
    await expect(c.request({ transact: { ops_json: '{' } })).rejects.toBeInstanceOf(RpcError);
  });

  it('runs appctl commands and refuses unknown ones', async () => {
    const c = await connect();
    expect((await c.request({ appctl: { command: 'echo', args: ['a', 'b'] } })).output).toBe('a b\n');
    expect((await c.request({ appctl: { command: 'list-commands' } })).output).toContain('echo WORDS...');
    await expect(c.request({ appctl: { command: 'nope' } })).rejects.toMatchObject({ code: 'command failed' });
  });

  it('wait_for_cfg resolves when cur_cfg reaches next_cfg, or times out', async () => {
    const c = await connect();
    const p = c.request({ wait_for_cfg: { next_cfg: 1, timeout_ms: 5000 } });
    setTimeout(() => db.transact([{ op: 'update', table: 'Open_vSwitch', where: [], row: { cur_cfg: 1 } }]), 20);
    expect((await p).result).toEqual({ cur_cfg: 1 });
    await expect(c.request({ wait_for_cfg: { next_cfg: 5, timeout_ms: 30 } })).rejects.toMatchObject({ code: 'timed out' });
  });

  it('disconnects a client that sends garbage or an oversize frame; others carry on', async () => {
    const good = await connect();
    for (const bytes of [encodeFrame(Buffer.from([0xff, 0xff, 0xff])), Buffer.from([0xff, 0xff, 0xff, 0xff])]) {
      const bad = createConnection(path);
      const closed = new Promise<void>((r) => bad.on('close', () => r()));
      bad.on('error', () => {});
      bad.write(bytes);
      await closed;
    }
    expect(server.stats.protocolErrors).toBe(2);
    expect(((await good.request({ version: {} })).result as { version: string }).version).toBe('test');
  });

  it('serves concurrent clients with pipelined requests', async () => {
    const cs = await Promise.all([connect(), connect(), connect()]);
    const all = await Promise.all(cs.flatMap((c, i) => Array.from({ length: 20 }, (_, j) =>
      c.request({ transact: { ops_json: JSON.stringify([{ op: 'insert', table: 'QoS', row: { type: `q${i}-${j}` } }]) } }))));
    expect(all).toHaveLength(60);
    expect(db.lastTxnId).toBe(61);
  });

  it('answers requests that arrive a byte at a time, two per write, or pipelined in one write', async () => {
    const sock = createConnection(path);
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const dec = new FrameDecoder();
    const answers: number[] = [];
    sock.on('data', (d: Buffer) => { for (const p of dec.push(d)) answers.push(decodeResponse(p).id); });
    const f = (id: number): Buffer => encodeFrame(encodeRequest({ id, version: {} }));
    const one = f(1);
    for (let i = 0; i < one.length; i++) {
      sock.write(one.subarray(i, i + 1));
      await new Promise((r) => setImmediate(r));
    }
    sock.write(Buffer.concat([f(2), f(3), f(4).subarray(0, 3)]));
    await new Promise((r) => setTimeout(r, 20));
    sock.write(f(4).subarray(3));
    await new Promise((r) => setTimeout(r, 50));
    expect(answers.sort()).toEqual([1, 2, 3, 4]);
    sock.destroy();
  });

  it('an answer too big for a frame becomes an error answer', async () => {
    const big = 'x'.repeat(40_000);
    db.transact([{ op: 'update', table: 'Open_vSwitch', where: [], row: { external_ids: { a: big, b: big } } }]);
    const c = await connect();
    await expect(c.request({ list: { table: 'Open_vSwitch' } })).rejects.toMatchObject({ code: 'resources exhausted' });
    expect(((await c.request({ version: {} })).result as { version: string }).version).toBe('test');
  });

  it('refuses a socket a live server answers on, replaces a stale one', async () => {
    const other = new RpcServer({ path, db, appctl: new AppctlRegistry(), version: 'x' });
    await expect(other.start()).rejects.toThrow('another daemon is already listening');
    await server.stop();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path, ''); // a leftover file from a crash
    server = new RpcServer({ path, db, appctl: new AppctlRegistry(), version: 'test' });
    await server.start();
    expect(((await (await connect()).request({ version: {} })).result as { version: string }).version).toBe('test');
  });
});
