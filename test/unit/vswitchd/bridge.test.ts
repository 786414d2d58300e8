import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildArp } from '../../../datapath/packet/arp.js';
import { buildEthernet } from '../../../datapath/packet/ethernet.js';
import { Bridges } from '../../../vswitchd/bridge.js';
import { Database, named, type Operation } from '../../../vswitchd/db/database.js';
import { Vlog } from '../../../vswitchd/vlog.js';

function addPortOps(bridge: string, name: string, iface: Record<string, unknown>): Operation[] {
  return [
    { op: 'insert', table: 'Interface', uuidName: 'i', row: { name, ...iface } as never },
    { op: 'insert', table: 'Port', uuidName: 'p', row: { name, interfaces: [named('i')] } },
    { op: 'mutate', table: 'Bridge', where: [['name', '==', bridge]], mutations: [['ports', 'insert', [named('p')]]] },
    { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] },
  ];
}

describe('Bridges: reconfiguration from the config DB', () => {
  let db: Database;
  let bridges: Bridges;
  let rundir: string;
  const iface = (name: string) => db.find('Interface', [['name', '==', name]])[0];

  beforeEach(async () => {
    db = Database.inMemory();
    db.transact([
      { op: 'insert', table: 'Open_vSwitch', row: { bridges: [named('b')] } },
      { op: 'insert', table: 'Bridge', uuidName: 'b', row: { name: 'br0' } },
    ]);
    rundir = mkdtempSync(join(tmpdir(), 'tsvs-bridges-'));
    bridges = new Bridges(db, new Vlog({ console: false }).module('bridge'), { statsIntervalMs: 60_000, rundir });
    await bridges.start();
  });
  afterEach(async () => {
    await bridges.stop();
    db.close();
    rmSync(rundir, { recursive: true, force: true });
  });

  it('brings guest ports up, writes back ofport/mac/link state, bumps cur_cfg, forwards', async () => {
    db.transact(addPortOps('br0', 'p1', { type: 'guest', options: { mac: '02:00:00:00:00:01', ip: '10.0.0.1/24' } }));
    db.transact(addPortOps('br0', 'p2', { type: 'guest', options: { mac: '02:00:00:00:00:02', ip: '10.0.0.2/24' }, ofport_request: 7 }));
    await bridges.idle();
    expect([iface('p1').ofport, iface('p1').mac_in_use, iface('p1').link_state, iface('p1').admin_state]).toEqual([1, '02:00:00:00:00:01', 'up', 'up']);
    expect(iface('p2').ofport).toBe(7);
    const ovs = db.list('Open_vSwitch')[0];
    expect(ovs.cur_cfg).toBe(ovs.next_cfg);
    const r = await bridges.guest('p1')!.ping('10.0.0.2', 2, { intervalMs: 0 });
    expect(r.received).toBe(2);
    expect(bridges.dumpFlows('br0')).toMatch(/in_port\(7\),eth\(src=02:00:00:00:00:02,dst=02:00:00:00:00:01\).*actions:1/);
    bridges.updateStats();
    expect((iface('p1').statistics as ReadonlyMap<string, number>).get('tx_packets')).toBeGreaterThanOrEqual(2);
  });

  it('unknown types and bad options become Interface.error with ofport -1; the rest works', async () => {
    db.transact(addPortOps('br0', 't0', { type: 'bogus' }));
    db.transact(addPortOps('br0', 'g0', { type: 'guest', options: { mac: 'nonsense' } }));
    db.transact(addPortOps('br0', 'g1', { type: 'guest', options: { mac: '02:00:00:00:00:08' } }));
    await bridges.idle();
    expect([iface('t0').ofport, iface('t0').error]).toEqual([-1, 'unsupported interface type "bogus" (tsvs-vswitchd creates system, tap, internal, guest, patch, stream and dgram interfaces)']);
    expect(iface('g0').ofport).toBe(-1);
    expect(iface('g0').error).toMatch(/nonsense/);
    expect([iface('g1').ofport, iface('g1').error, iface('g1').mtu]).toEqual([1, null, 1500]);
    // Fixing the config clears the error.
    db.transact([{ op: 'update', table: 'Interface', where: [['name', '==', 'g0']], row: { options: { mac: '02:00:00:00:00:09' } } }]);
    await bridges.idle();
    expect([iface('g0').ofport, iface('g0').error]).toEqual([2, null]);
  });

  it('a stream interface is a QEMU -netdev stream socket: a client frame reaches a guest through the bridge and the answer comes back', async () => {
    const path = join(rundir, 'vm1.sock');
    db.transact(addPortOps('br0', 'p1', { type: 'guest', options: { mac: '02:00:00:00:00:01', ip: '10.0.0.1/24' } }));
    db.transact(addPortOps('br0', 'vm1', { type: 'stream', options: { path, mac: '02:00:00:00:00:0a' } }));
    await bridges.idle();
    expect([iface('vm1').ofport, iface('vm1').error]).toEqual([2, null]);
    const sock = connect(path);
    await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
    const arp = buildEthernet({
      dst: 'ff:ff:ff:ff:ff:ff',
      src: '52:54:00:00:00:0a',
      type: 0x0806,
      payload: buildArp({ op: 1, sha: '52:54:00:00:00:0a', spa: '10.0.0.10', tpa: '10.0.0.1' }),
    });
    const len = Buffer.alloc(4);
    len.writeUInt32BE(arp.length);
    const reply = new Promise<Buffer>((resolve) => sock.once('data', (d: Buffer) => resolve(d)));
    sock.write(Buffer.concat([len, arp]));
    const got = await reply;
    sock.destroy();
    // 4-byte length, then an ARP reply (op 2) from the guest's MAC to the VM's.
    expect(got.readUInt32BE(0)).toBe(got.length - 4);
    expect(got.subarray(4, 10).toString('hex')).toBe('52540000000a');
    expect(got.readUInt16BE(4 + 12)).toBe(0x0806);
    expect(got.readUInt16BE(4 + 14 + 6)).toBe(2);
  });

  it('deleting a bridge stops its datapath', async () => {
    db.transact(addPortOps('br0', 'p1', { type: 'guest', options: { mac: '02:00:00:00:00:01' } }));
    await bridges.idle();
    expect(bridges.list().map((b) => b.name)).toEqual(['br0']);
    db.transact([{ op: 'update', table: 'Open_vSwitch', where: [], row: { bridges: [] } }]);
    await bridges.idle();
    expect(bridges.list()).toEqual([]);
    expect(bridges.dpctlShow()).toBe('');
  });
});
