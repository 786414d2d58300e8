// OpenFlowBridge: Datapath + Ofproto + ConnMgr wired together, driven over
// its own ptcp: listener and .mgmt socket by a scripted OpenFlow peer.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { GuestPort } from '../../datapath/ports/guest.js';
import { datapathIdFromName, OpenFlowBridge } from '../../ofproto/bridge.js';
import { OFPP, OFPPR, OFPT } from '../../ofproto/openflow/index.js';
import { apply, flowMod, output } from '../helpers/ofproto-fixture.js';
import { OfPeer } from '../helpers/of-peer.js';

const dir = mkdtempSync(join(tmpdir(), 'ofbridge-'));
const bridges: OpenFlowBridge[] = [];
const peers: OfPeer[] = [];

function guests(): [GuestPort, GuestPort] {
  return [new GuestPort('g1', { mac: '02:00:00:00:00:01', ip: '10.0.0.1/24' }), new GuestPort('g2', { mac: '02:00:00:00:00:02', ip: '10.0.0.2/24' })];
}

async function bridge(o: Partial<ConstructorParameters<typeof OpenFlowBridge>[0]> = {}): Promise<{ br: OpenFlowBridge; g1: GuestPort; g2: GuestPort }> {
  const br = new OpenFlowBridge({ name: `br${bridges.length}`, rundir: dir, services: ['ptcp:0:127.0.0.1'], ...o });
  bridges.push(br);
  const [g1, g2] = guests();
  await br.start();
  expect(await br.addPort(g1)).toBe(1);
  expect(await br.addPort(g2)).toBe(2);
  return { br, g1, g2 };
}

async function peerOf(path: string | number): Promise<OfPeer> {
  const s = typeof path === 'number' ? connect(path, '127.0.0.1') : connect(path);
  const p = new OfPeer(s);
  peers.push(p);
  await p.handshake();
  return p;
}

afterEach(async () => {
  for (const p of peers.splice(0)) p.close();
  for (const b of bridges.splice(0)) await b.stop();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('OpenFlowBridge', () => {

  it('standalone without a controller: guests ping (fail-open NORMAL)', async () => {
    const { br, g1 } = await bridge();
    expect(br.ofproto.failOpen()).toBe(true);
    const r = await g1.ping('10.0.0.2', 2, { intervalMs: 0, timeoutMs: 1000 });
    expect(r.received).toBe(2);
  });

  it('secure: no flows → no ping; a FLOW_MOD over ptcp: → ping; switching to standalone → fail-open', async () => {
    const { br, g1 } = await bridge({ failMode: 'secure' });
    expect((await g1.ping('10.0.0.2', 1, { timeoutMs: 200 })).received).toBe(0);
    const port = br.boundPort('ptcp:0:127.0.0.1')!;
    expect(port).toBeGreaterThan(0);
    const p = await peerOf(port);
    p.send(flowMod({ xid: p.xid(), match: [], priority: 1, instructions: [apply(output(OFPP.NORMAL))] }));
    p.send({ type: OFPT.BARRIER_REQUEST, version: 4, xid: p.xid() });
    await p.nextOfType(OFPT.BARRIER_REPLY);
    expect(br.ofproto.tables.ruleCount).toBe(1);
    expect((await g1.ping('10.0.0.2', 1, { timeoutMs: 1000 })).received).toBe(1);
    // A service connection is not a controller: still no fail-open in secure mode, yes in standalone.
    p.send({ type: OFPT.FLOW_MOD, ...flowMod({ xid: p.xid(), command: 3 /* DELETE */, tableId: 0xff }) });
    p.send({ type: OFPT.BARRIER_REQUEST, version: 4, xid: p.xid() });
    await p.nextOfType(OFPT.BARRIER_REPLY);
    expect((await g1.ping('10.0.0.2', 1, { timeoutMs: 200 })).received).toBe(0);
    br.setFailMode('standalone');
    expect((await g1.ping('10.0.0.2', 1, { timeoutMs: 1000 })).received).toBe(1);
  });

  it('the .mgmt socket answers FEATURES with the name-derived datapath id; port add/remove sends PORT_STATUS', async () => {
    const { br } = await bridge({ name: 'brm' });
    expect(br.mgmtPath).toBe(join(dir, 'brm.mgmt'));
    const p = await peerOf(br.mgmtPath);
    p.send({ type: OFPT.FEATURES_REQUEST, version: 4, xid: p.xid() });
    const f = await p.nextOfType(OFPT.FEATURES_REPLY);
    expect(f).toMatchObject({ datapathId: datapathIdFromName('brm') });
    // As in OVS, a service connection gets async messages only once it sets a miss_send_len.
    p.send({ type: OFPT.SET_CONFIG, version: 4, xid: p.xid(), flags: 0, missSendLen: 128 });
    p.send({ type: OFPT.BARRIER_REQUEST, version: 4, xid: p.xid() });
    await p.nextOfType(OFPT.BARRIER_REPLY);
    const g3 = new GuestPort('g3', { mac: '02:00:00:00:00:03', ip: '10.0.0.3/24' });
    expect(await br.addPort(g3, { ofPort: 7 })).toBe(7);
    expect(br.ofPortOf('g3')).toBe(7);
    expect(await p.next((m) => m.type === OFPT.PORT_STATUS && m.reason === OFPPR.ADD)).toMatchObject({ desc: { portNo: 7, name: 'g3' } });
    await br.removePort('g3');
    expect(await p.next((m) => m.type === OFPT.PORT_STATUS && m.reason === OFPPR.DELETE)).toMatchObject({ desc: { portNo: 7 } });
    expect(br.datapath.port('g3')).toBeUndefined();
    expect(g3.carrier).toBe(false);
    await expect(br.removePort('g3')).rejects.toThrow(/no port g3/);
  });

  it('stop() frees everything: sockets closed, .mgmt file removed, ports stopped; twice is fine', async () => {
    const { br, g1 } = await bridge({ name: 'brs' });
    const port = br.boundPort('ptcp:0:127.0.0.1')!;
    const p = await peerOf(port);
    expect(existsSync(br.mgmtPath)).toBe(true);
    await br.stop();
    await p.waitClosed();
    expect(existsSync(br.mgmtPath)).toBe(false);
    expect(g1.carrier).toBe(false);
    await br.stop();
    await expect(br.start()).rejects.toThrow(/stopped/);
    const refused = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(false)));
      s.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  });

  it('a bad controller target rejects start() and leaves nothing running', async () => {
    const br = new OpenFlowBridge({ name: 'brbad', rundir: dir, controllers: ['bogus:1'] });
    bridges.push(br);
    await expect(br.start()).rejects.toThrow();
    expect(existsSync(join(dir, 'brbad.mgmt'))).toBe(false);
  });
});
