// Bridges with device ports (system, tap, internal) over fake devices, the
// bridge's LOCAL port, missing devices and their retry, Port VLAN config
// through NORMAL, and Controller row options.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DpifError } from '../../../datapath/dpif-error.js';
import { STAT_NAMES, type NativeIoStats } from '../../../datapath/native/index.js';
import { PacketBatch } from '../../../datapath/packet-batch.js';
import { InternalPort } from '../../../datapath/ports/internal.js';
import type { NativeIo } from '../../../datapath/ports/native-io-port.js';
import { SystemPort } from '../../../datapath/ports/system.js';
import { TapPort } from '../../../datapath/ports/tap.js';
import { OFPP } from '../../../ofproto/openflow/constants.js';
import { Bridges } from '../../../vswitchd/bridge.js';
import { Database, named, type Operation } from '../../../vswitchd/db/database.js';
import { Vlog } from '../../../vswitchd/vlog.js';

class FakeDevice implements NativeIo {
  closed = false;
  mtu = 1500;
  mac = Uint8Array.from([2, 0xaa, 0, 0, 0, 1]);
  carrier = true;
  sent = 0;
  private readonly counters = Object.fromEntries(STAT_NAMES.map((n) => [n, 0])) as NativeIoStats;
  constructor(readonly name: string) {}
  start(): void {}
  stop(): void {}
  sendBatch(b: PacketBatch): number {
    this.sent += b.count;
    return b.count;
  }
  get stats(): NativeIoStats {
    return { ...this.counters };
  }
  close(): void {
    this.closed = true;
  }
}

/** Devices by name: system ports need one to exist; tap/internal "create" theirs. */
class FakeHost {
  readonly existing = new Set<string>();
  readonly open = new Map<string, FakeDevice>();
  readonly created: string[] = [];
  private openDev(name: string, create: boolean): FakeDevice {
    if (!create && !this.existing.has(name)) throw Object.assign(new Error(`interface ${name}: No such device`), { code: 'ENODEV' });
    if (this.open.has(name) && !this.open.get(name)!.closed) throw Object.assign(new Error(`TAP ${name}: TUNSETIFF: Device or resource busy`), { code: 'EBUSY' });
    const d = new FakeDevice(name);
    this.open.set(name, d);
    if (create) this.created.push(name);
    return d;
  }
  readonly factory = (spec: { name: string; type: string }) => {
    if (spec.type === 'system') return new SystemPort(spec.name, { opener: (n) => this.openDev(n, false) });
    if (spec.type === 'tap') return new TapPort(spec.name, { opener: (n) => this.openDev(n, true) });
    if (spec.type === 'internal') return new InternalPort(spec.name, { opener: (n) => this.openDev(n, true) });
    throw new DpifError('EINVAL', `bad type ${spec.type}`);
  };
  /** Devices currently open (TAPs tsvs created still exist). */
  live(): string[] {
    return [...this.open].filter(([, d]) => !d.closed).map(([n]) => n).sort();
  }
}

function addPortOps(bridge: string, name: string, iface: Record<string, unknown>, port: Record<string, unknown> = {}): Operation[] {
  return [
    { op: 'insert', table: 'Interface', uuidName: 'i', row: { name, ...iface } as never },
    { op: 'insert', table: 'Port', uuidName: 'p', row: { name, interfaces: [named('i')], ...port } as never },
    { op: 'mutate', table: 'Bridge', where: [['name', '==', bridge]], mutations: [['ports', 'insert', [named('p')]]] },
    { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] },
  ];
}

describe('Bridges: system, tap and internal interfaces, VLANs, controllers', () => {
  let db: Database;
  let bridges: Bridges;
  let rundir: string;
  let host: FakeHost;
  const iface = (name: string) => db.find('Interface', [['name', '==', name]])[0];

  beforeEach(async () => {
    db = Database.inMemory();
    // As `tsvs-vsctl add-br br0` leaves it: a Port and an internal Interface named like the bridge.
    db.transact([
      { op: 'insert', table: 'Open_vSwitch', row: { bridges: [named('b')] } },
      { op: 'insert', table: 'Interface', uuidName: 'i', row: { name: 'br0', type: 'internal' } },
      { op: 'insert', table: 'Port', uuidName: 'p', row: { name: 'br0', interfaces: [named('i')] } },
      { op: 'insert', table: 'Bridge', uuidName: 'b', row: { name: 'br0', ports: [named('p')] } },
    ]);
    rundir = mkdtempSync(join(tmpdir(), 'tsvs-bridges-'));
    host = new FakeHost();
    bridges = new Bridges(db, new Vlog({ console: false }).module('bridge'), {
      statsIntervalMs: 60_000,
      rundir,
      devicePorts: host.factory,
      deviceExists: (n) => host.existing.has(n),
    });
    await bridges.start();
  });
  afterEach(async () => {
    await bridges.stop();
    db.close();
    rmSync(rundir, { recursive: true, force: true });
  });

  it("the bridge's internal interface is a device named like it, on OpenFlow port LOCAL (ofport 65534)", () => {
    expect(host.live()).toEqual(['br0']);
    expect([iface('br0').ofport, iface('br0').error, iface('br0').mac_in_use, iface('br0').link_state, iface('br0').admin_state, iface('br0').mtu])
      .toEqual([65534, null, '02:aa:00:00:00:01', 'up', 'up', 1500]);
    expect(bridges.list()[0].of.ofPortOf('br0')).toBe(OFPP.LOCAL);
    expect(bridges.dpctlShow()).toContain('port 0: br0 (internal)');
  });

  it('internalDevices false: internal interfaces are device-less ports (LOCAL still exists)', async () => {
    const db2 = Database.inMemory();
    db2.transact([
      { op: 'insert', table: 'Open_vSwitch', row: { bridges: [named('b')] } },
      { op: 'insert', table: 'Interface', uuidName: 'i', row: { name: 'brx', type: 'internal' } },
      { op: 'insert', table: 'Port', uuidName: 'p', row: { name: 'brx', interfaces: [named('i')] } },
      { op: 'insert', table: 'Bridge', uuidName: 'b', row: { name: 'brx', ports: [named('p')] } },
    ]);
    const h2 = new FakeHost();
    const b2 = new Bridges(db2, new Vlog({ console: false }).module('bridge'), { rundir, devicePorts: h2.factory, internalDevices: false });
    await b2.start();
    try {
      const row = db2.find('Interface', [['name', '==', 'brx']])[0];
      expect([row.ofport, row.error, row.link_state]).toEqual([65534, null, 'up']);
      expect(h2.created).toEqual([]);
      expect(b2.dpctlShow()).toContain('port 0: brx (internal)');
    } finally {
      await b2.stop();
      db2.close();
    }
  });

  it('NORMAL floods to the LOCAL port (datapath port 0) too', async () => {
    db.transact(addPortOps('br0', 'g1', { type: 'guest', options: { mac: '02:00:00:00:00:01', ip: '10.0.0.1/24' } }));
    await bridges.idle();
    expect(iface('g1').ofport).toBe(1);
    await bridges.guest('g1')!.ping('10.0.0.2', 1, { intervalMs: 0, timeoutMs: 20 });
    expect(host.open.get('br0')!.sent).toBeGreaterThan(0);
    expect(bridges.dumpFlows('br0')).toMatch(/in_port\(1\).*actions:.*\b0\b/);
  });

  it('system ports attach existing devices; a missing one is an error like OVS, the rest works, and it is retried when it appears', async () => {
    host.existing.add('veth1');
    db.transact(addPortOps('br0', 'veth1', {}));
    db.transact(addPortOps('br0', 'veth2', { type: 'system' }));
    db.transact(addPortOps('br0', 'tap7', { type: 'tap' }));
    db.transact(addPortOps('br0', 'int1', { type: 'internal' }));
    await bridges.idle();
    expect([iface('veth1').ofport, iface('veth1').error]).toEqual([1, null]);
    expect([iface('veth2').ofport, iface('veth2').error]).toEqual([-1, 'could not open network device veth2 (No such device)']);
    expect([iface('int1').ofport, iface('tap7').ofport]).toEqual([2, 3]);
    expect(host.created.sort()).toEqual(['br0', 'int1', 'tap7']);
    // The device shows up: the next statistics tick notices and reconfigures.
    host.existing.add('veth2');
    bridges.retryMissingDevices();
    await bridges.idle();
    expect([iface('veth2').ofport, iface('veth2').error]).toEqual([4, null]);
    // Statistics come from the device.
    bridges.updateStats();
    expect((iface('veth1').statistics as ReadonlyMap<string, number>).get('rx_packets')).toBe(0);
  });

  it('refreshLinks picks up an MTU changed outside the switch: port batches resized, Interface.mtu updated', async () => {
    host.existing.add('veth5');
    db.transact(addPortOps('br0', 'veth5', {}));
    await bridges.idle();
    const port = bridges.list()[0].dp.ports().find((p) => p.name === 'veth5') as SystemPort;
    expect([port.frameMax, iface('veth5').mtu]).toEqual([1522, 1500]);
    host.open.get('veth5')!.mtu = 9000;
    bridges.refreshLinks();
    bridges.updateStats();
    expect([port.frameMax, port.batchResizes, iface('veth5').mtu]).toEqual([9022, 1, 9000]);
    // A device that cannot be read (e.g. a TAP moved into a namespace) is skipped; the others are still refreshed.
    Object.defineProperty(host.open.get('br0')!, 'mtu', { get: () => { throw new Error('gone'); } });
    host.open.get('veth5')!.mtu = 1500;
    bridges.refreshLinks();
    expect(port.frameMax).toBe(1522);
  });

  it('a TAP name already in use is an error for that interface only', async () => {
    db.transact(addPortOps('br0', 'tapx', { type: 'tap' }));
    await bridges.idle();
    db.transact([
      { op: 'insert', table: 'Bridge', uuidName: 'b1', row: { name: 'br1' } },
      { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', [named('b1')]]] },
    ]);
    db.transact(addPortOps('br1', 'tapx2', { type: 'tap' }));
    await bridges.idle();
    // Same Interface name on two bridges is impossible in the DB; a clash with an open device is:
    host.open.set('tapy', new FakeDevice('tapy'));
    db.transact(addPortOps('br1', 'tapy', { type: 'tap' }));
    await bridges.idle();
    expect(iface('tapy').error).toBe('could not open network device tapy (Device or resource busy)');
    expect([iface('tapx').error, iface('tapx2').error]).toEqual([null, null]);
  });

  it('del-port and del-br delete the devices tsvs created; daemon stop deletes the rest', async () => {
    db.transact(addPortOps('br0', 'tap1', { type: 'tap' }));
    db.transact(addPortOps('br0', 'tap2', { type: 'tap' }));
    await bridges.idle();
    expect(host.live()).toEqual(['br0', 'tap1', 'tap2']);
    db.transact([
      { op: 'mutate', table: 'Bridge', where: [['name', '==', 'br0']], mutations: [['ports', 'delete', [db.find('Port', [['name', '==', 'tap1']])[0]._uuid]]] },
      { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] },
    ]);
    await bridges.idle();
    expect(host.live()).toEqual(['br0', 'tap2']);
    db.transact([
      { op: 'insert', table: 'Bridge', uuidName: 'b1', row: { name: 'br1' } },
      { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', [named('b1')]]] },
    ]);
    db.transact(addPortOps('br1', 'tap3', { type: 'tap' }));
    await bridges.idle();
    expect(host.live()).toEqual(['br0', 'tap2', 'tap3']);
    db.transact([{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'delete', [db.find('Bridge', [['name', '==', 'br1']])[0]._uuid]]] }]);
    await bridges.idle();
    expect(host.live()).toEqual(['br0', 'tap2']);
    await bridges.stop();
    expect(host.live()).toEqual([]);
  });

  it('Port tag/trunks/vlan_mode drive NORMAL: same access VLAN reaches, another does not, trunks carry tagged guests, changes apply', async () => {
    const g = (mac: string, ip: string, vlan?: number) => ({ type: 'guest', options: { mac, ip, ...(vlan !== undefined ? { vlan: String(vlan) } : {}) } });
    db.transact(addPortOps('br0', 'a1', g('02:00:00:00:00:01', '10.0.0.1/24'), { tag: 10 }));
    db.transact(addPortOps('br0', 'a2', g('02:00:00:00:00:02', '10.0.0.2/24'), { tag: 10 }));
    db.transact(addPortOps('br0', 'a3', g('02:00:00:00:00:03', '10.0.0.3/24'), { tag: 20 }));
    db.transact(addPortOps('br0', 't1', g('02:00:00:00:00:04', '10.0.0.4/24', 10), { trunks: [10, 30] }));
    db.transact(addPortOps('br0', 't2', g('02:00:00:00:00:05', '10.0.0.5/24', 20), { trunks: [10, 30] }));
    await bridges.idle();
    const ping = (from: string, to: string) => bridges.guest(from)!.ping(to, 1, { intervalMs: 0, timeoutMs: 100 }).then((r) => r.received);
    expect(await ping('a1', '10.0.0.2')).toBe(1);
    expect(await ping('a1', '10.0.0.3')).toBe(0);
    expect(await ping('a1', '10.0.0.4')).toBe(1); // tagged 10 on the trunk
    expect(await ping('a3', '10.0.0.5')).toBe(0); // VLAN 20 is not on the trunk
    // Reconfigure: a3 joins VLAN 10; the trunk takes 20 too.
    db.transact([
      { op: 'update', table: 'Port', where: [['name', '==', 'a3']], row: { tag: 10 } },
      { op: 'update', table: 'Port', where: [['name', '==', 't2']], row: { trunks: [20] } },
      { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] },
    ]);
    await bridges.idle();
    expect(await ping('a1', '10.0.0.3')).toBe(1);
    expect(bridges.list()[0].of.ofproto.port(bridges.list()[0].of.ofPortOf('a3')!)!.vlan).toEqual({ tag: 10 });
    // native-untagged: untagged frames join the native VLAN 10.
    db.transact([
      { op: 'update', table: 'Port', where: [['name', '==', 'a2']], row: { tag: 10, trunks: [30], vlan_mode: 'native-untagged' } },
      { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] },
    ]);
    await bridges.idle();
    expect(await ping('a2', '10.0.0.1')).toBe(1);
    // dot1q-tunnel is not implemented: an error on the interface, nothing else changes.
    db.transact([
      { op: 'update', table: 'Port', where: [['name', '==', 'a2']], row: { vlan_mode: 'dot1q-tunnel' } },
      { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] },
    ]);
    await bridges.idle();
    expect([iface('a2').ofport, iface('a2').error]).toEqual([-1, 'port a2: vlan_mode dot1q-tunnel is not supported by tsvs']);
    expect(await ping('a1', '10.0.0.3')).toBe(1);
  });

  it('Controller rows: max_backoff, inactivity_probe and rate limits reach the connection manager; a change re-applies', async () => {
    db.transact([
      { op: 'insert', table: 'Controller', uuidName: 'c', row: { target: 'tcp:127.0.0.1:1', max_backoff: 2000, inactivity_probe: 0, connection_mode: 'out-of-band', controller_rate_limit: 200 } },
      { op: 'update', table: 'Bridge', where: [['name', '==', 'br0']], row: { controller: [named('c')] } },
      { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] },
    ]);
    await bridges.idle();
    expect(JSON.parse(bridges.list()[0].controllers)).toEqual([{ target: 'tcp:127.0.0.1:1', maxBackoffMs: 2000, inactivityProbeMs: 0, rateLimit: 200 }]);
    db.transact([{ op: 'update', table: 'Controller', where: [], row: { max_backoff: 4000 } }, { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] }]);
    await bridges.idle();
    expect(JSON.parse(bridges.list()[0].controllers)[0].maxBackoffMs).toBe(4000);
  });
});
