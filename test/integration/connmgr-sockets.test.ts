// ConnMgr over real loopback sockets: the .mgmt socket, ptcp: services,
// roles and generation ids across connections, barrier ordering, and peers
// sending garbage.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConnMgr } from '../../ofproto/connmgr/connmgr.js';
import { formatSnapshot } from '../../ofproto/connmgr/snapshot.js';
import {
  encodeMessage,
  OFPBRC,
  OFPCR_ROLE,
  OFPET,
  OFPHFC,
  OFPMP,
  OFPR,
  OFPRRFC,
  OFPT,
  type OfpMessage,
} from '../../ofproto/openflow/index.js';
import { FakeOfproto } from '../helpers/fake-ofproto.js';
import { OfPeer } from '../helpers/of-peer.js';
import { sampleMessages } from '../helpers/of-samples.js';

let dir: string;
let mgr: ConnMgr;
let handler: FakeOfproto;
let peers: OfPeer[] = [];
let logs: string[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'connmgr-it-'));
  handler = new FakeOfproto();
  logs = [];
  mgr = new ConnMgr({ bridge: 'br0', handler, rundir: dir, log: (l, m) => logs.push(`${l}: ${m}`) });
  await mgr.start();
  await mgr.setServices(['ptcp:0']);
});

afterEach(async () => {
  for (const p of peers) p.close();
  peers = [];
  await mgr.stop();
  rmSync(dir, { recursive: true, force: true });
});

function tcpPeer(): OfPeer {
  const port = Number(mgr.boundTarget('ptcp:0')!.split(':')[1]);
  const p = new OfPeer(connect({ host: '127.0.0.1', port }));
  peers.push(p);
  return p;
}

async function upPeer(): Promise<OfPeer> {
  const p = tcpPeer();
  const up = new Promise((resolve) => mgr.once('connected', resolve));
  await p.handshake();
  await up;
  return p;
}

function role(p: OfPeer, r: number, gen: bigint): void {
  p.send({ type: OFPT.ROLE_REQUEST, version: 4, xid: p.xid(), role: r, generationId: gen });
}

describe('ConnMgr sockets', () => {
  it('creates <rundir>/<bridge>.mgmt with mode 0600 and serves OpenFlow on it', async () => {
    const path = join(dir, 'br0.mgmt');
    expect(mgr.mgmtPath).toBe(path);
    const st = statSync(path);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    const p = new OfPeer(connect(path));
    peers.push(p);
    await p.handshake();
    p.send({ type: OFPT.FEATURES_REQUEST, version: 4, xid: 77 });
    expect(await p.nextOfType(OFPT.FEATURES_REPLY)).toMatchObject({ xid: 77, datapathId: handler.datapathId });
    const conn = [...mgr.connections()][0]!;
    expect(conn.service).toBe(true);
    expect(conn.name).toMatch(/^punix:.*br0\.mgmt<-#1$/);
  });

  it('replaces a stale socket file but refuses to clobber a regular file', async () => {
    await mgr.stop();
    const m2 = new ConnMgr({ bridge: 'br0', handler, rundir: dir, log: (l, m) => logs.push(`${l}: ${m}`) });
    // A stale socket left behind: bind one and drop the server without unlinking.
    await m2.start();
    await m2.stop();
    writeFileSync(join(dir, 'br1.mgmt'), 'not a socket');
    const m3 = new ConnMgr({ bridge: 'br1', handler, rundir: dir, log: (l, m) => logs.push(`${l}: ${m}`) });
    await m3.start();
    expect(m3.serviceStatus()[0]).toMatchObject({ state: 'VOID', lastError: expect.stringMatching(/not a socket, refusing/) });
    await m3.stop();
    mgr = new ConnMgr({ bridge: 'br0', handler, rundir: dir, log: () => undefined });
    await mgr.start();
  });

  it('shows its state as JSON and text (for appctl)', async () => {
    await upPeer();
    await mgr.setControllers([`unix:${join(dir, 'no-controller.sock')}`]);
    const snap = mgr.snapshot();
    expect(snap.connections).toHaveLength(1);
    expect(snap.connections[0]).toMatchObject({ service: true, role: 'equal', version: 4, missSendLen: 0 });
    expect(snap.controllers[0]).toMatchObject({ isConnected: false });
    expect(snap.services.map((x) => x.state)).toEqual(['LISTENING', 'LISTENING']);
    const text = formatSnapshot(snap);
    expect(text).toContain(`management socket: ${join(dir, 'br0.mgmt')}`);
    expect(text).toMatch(/#\d+ ptcp:\d+:127\.0\.0\.1<-127\.0\.0\.1:\d+ service role=equal OF=0x04/);
    expect(text).toMatch(/unix:.*no-controller\.sock (CONNECTING|BACKOFF) not connected role=other/);
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
  });

  it('reports a listener that cannot bind, and rejects bad targets changing nothing', async () => {
    const port = Number(mgr.boundTarget('ptcp:0')!.split(':')[1]);
    await mgr.setServices(['ptcp:0', `ptcp:${port}`]);
    const st = mgr.serviceStatus().find((x) => x.target === `ptcp:${port}:127.0.0.1`)!;
    expect(st).toMatchObject({ state: 'VOID', lastError: expect.stringMatching(/EADDRINUSE/) });
    await expect(mgr.setServices(['tcp:127.0.0.1:1'])).rejects.toMatchObject({ code: 'ERR_CONNMGR_BAD_TARGET' });
    await expect(mgr.setControllers(['tcp:nowhere'])).rejects.toMatchObject({ code: 'ERR_CONNMGR_BAD_TARGET' });
    expect(mgr.serviceStatus()).toHaveLength(3); // mgmt + both ptcp
  });

  it('keeps established connections when the configuration is set again unchanged', async () => {
    const p = await upPeer();
    const before = [...mgr.connections()][0]!;
    await mgr.setServices(['ptcp:0']);
    await mgr.setServices(['ptcp:0']);
    expect([...mgr.connections()]).toEqual([before]);
    p.send({ type: OFPT.ECHO_REQUEST, version: 4, xid: 1, data: Buffer.alloc(0) });
    await p.nextOfType(OFPT.ECHO_REPLY);
    // Removing the listener closes its connections.
    await mgr.setServices([]);
    await p.waitClosed();
    expect(handler.events.at(-1)).toBe(`disconnected ${before.id}`);
  });

  it('a peer that stops reading costs bounded memory: packet-ins dropped, connection kept', async () => {
    const p = await upPeer();
    p.socket.pause();
    const conn = [...mgr.connections()][0]!;
    const frame = Buffer.alloc(1400, 0x5a);
    const pin: OfpMessage = { type: OFPT.PACKET_IN, version: 4, xid: 0, bufferId: 0xffffffff, totalLen: frame.length, reason: 0, tableId: 0, cookie: 0n, match: [], data: frame };
    const snap = () => mgr.snapshot().connections[0]!;
    // Enough to fill the kernel's socket buffers and then our 1 MiB.
    for (let round = 0; round < 40 && snap().stats.packetInQueueDropped === 0; round++) {
      for (let i = 0; i < 1000; i++) conn.send(pin);
      await new Promise((r) => setImmediate(r));
      expect(snap().txQueuedBytes).toBeLessThanOrEqual(1024 * 1024);
    }
    expect(snap().stats.packetInQueueDropped).toBeGreaterThan(0);
    expect(mgr.snapshot().totals.packetInQueueDropped).toBe(snap().stats.packetInQueueDropped);
    // A reply still gets through once the peer reads again.
    p.send({ type: OFPT.ECHO_REQUEST, version: 4, xid: 4242, data: Buffer.alloc(0) });
    p.socket.resume();
    expect(await p.next((m) => m.type === OFPT.ECHO_REPLY && m.xid === 4242, 15_000)).toBeDefined();
    expect([...mgr.connections()]).toContain(conn);
  });

  it('passive controller targets accept service connections; ofproto callbacks that throw are contained', async () => {
    handler.connected = () => {
      throw new Error('ofproto bug in connected()');
    };
    await mgr.setControllers(['ptcp:0']);
    const st = mgr.controllerStatus()[0]!;
    expect(st).toMatchObject({ state: 'LISTENING', isConnected: false, nConnections: 0 });
    const port = Number(st.bound!.split(':')[1]);
    expect(mgr.serviceStatus().map((x) => x.bound)).not.toContain(st.bound); // its own listener, apart from setServices'
    const p = new OfPeer(connect({ host: '127.0.0.1', port }));
    peers.push(p);
    const up = new Promise((resolve) => mgr.once('connected', resolve));
    await p.handshake();
    await up;
    expect(mgr.controllerStatus()[0]).toMatchObject({ isConnected: true, nConnections: 1 });
    expect(mgr.controllerConnected()).toBe(false); // service connections do not count
    p.send({ type: OFPT.ECHO_REQUEST, version: 4, xid: 8, data: Buffer.alloc(0) });
    await p.nextOfType(OFPT.ECHO_REPLY);
    expect(logs.some((l) => l.startsWith('error') && l.includes('ofproto bug in connected()'))).toBe(true);
  });

  it('binds ptcp: to 127.0.0.1 by default', () => {
    expect(mgr.boundTarget('ptcp:0')).toMatch(/^ptcp:\d+:127\.0\.0\.1$/);
  });

  it('closes a peer that offers only OpenFlow 1.0 with HELLO_FAILED', async () => {
    const p = tcpPeer();
    await p.handshake([1]);
    const err = await p.nextOfType(OFPT.ERROR);
    expect(err).toMatchObject({ errType: OFPET.HELLO_FAILED, errCode: OFPHFC.INCOMPATIBLE });
    await p.waitClosed();
    expect([...mgr.connections()]).toHaveLength(0);
  });

  it('one master at a time; stale generation ids fail; slaves cannot modify', async () => {
    const a = await upPeer();
    const b = await upPeer();
    role(a, OFPCR_ROLE.MASTER, 5n);
    expect(await a.nextOfType(OFPT.ROLE_REPLY)).toMatchObject({ role: OFPCR_ROLE.MASTER, generationId: 5n });
    role(b, OFPCR_ROLE.MASTER, 6n);
    expect(await b.nextOfType(OFPT.ROLE_REPLY)).toMatchObject({ role: OFPCR_ROLE.MASTER, generationId: 6n });
    // a was demoted (silently: ROLE_STATUS is OpenFlow 1.4+).
    role(a, OFPCR_ROLE.NOCHANGE, 0n);
    expect(await a.nextOfType(OFPT.ROLE_REPLY)).toMatchObject({ role: OFPCR_ROLE.SLAVE, generationId: 6n });
    const conns = [...mgr.connections()];
    expect(conns.map((c) => c.role).sort()).toEqual(['master', 'slave']);
    // A stale master claim.
    role(a, OFPCR_ROLE.MASTER, 4n);
    expect(await a.nextOfType(OFPT.ERROR)).toMatchObject({ errType: OFPET.ROLE_REQUEST_FAILED, errCode: OFPRRFC.STALE });
    // Slave: FLOW_MOD refused, nothing reaches ofproto.
    const fm = sampleMessages().find((m) => m.type === OFPT.FLOW_MOD)!;
    a.send(fm);
    expect(await a.nextOfType(OFPT.ERROR)).toMatchObject({ errType: OFPET.BAD_REQUEST, errCode: OFPBRC.IS_SLAVE });
    expect(handler.messagesOfType(OFPT.FLOW_MOD)).toHaveLength(0);
    // EQUAL ignores the generation id; wrapping ids compare by signed distance.
    role(a, OFPCR_ROLE.EQUAL, 0n);
    expect(await a.nextOfType(OFPT.ROLE_REPLY)).toMatchObject({ role: OFPCR_ROLE.EQUAL });
    role(a, OFPCR_ROLE.SLAVE, 0xffff_ffff_ffff_fff0n);
    expect(await a.nextOfType(OFPT.ERROR)).toMatchObject({ errCode: OFPRRFC.STALE });
    role(b, OFPCR_ROLE.MASTER, 7n);
    await b.nextOfType(OFPT.ROLE_REPLY);
    role(a, OFPCR_ROLE.MASTER, 0xffff_ffff_ffff_ffffn); // -1: older than 7
    expect(await a.nextOfType(OFPT.ERROR)).toMatchObject({ errCode: OFPRRFC.STALE });
    // An invalid role value is the codec's BAD_ROLE.
    const bad = Buffer.from(encodeMessage({ type: OFPT.ROLE_REQUEST, version: 4, xid: 1, role: 1, generationId: 0n }));
    bad.writeUInt32BE(9, 8);
    a.send(bad);
    expect(await a.nextOfType(OFPT.ERROR)).toMatchObject({ errType: OFPET.ROLE_REQUEST_FAILED, errCode: OFPRRFC.BAD_ROLE });
    // Async filtering follows roles: the slave no longer wants packet-ins... after SET_CONFIG (service conns).
    for (const p of [a, b]) p.send({ type: OFPT.SET_CONFIG, version: 4, xid: p.xid(), flags: 0, missSendLen: 128 });
    a.send({ type: OFPT.BARRIER_REQUEST, version: 4, xid: 99 });
    b.send({ type: OFPT.BARRIER_REQUEST, version: 4, xid: 99 });
    await a.nextOfType(OFPT.BARRIER_REPLY);
    await b.nextOfType(OFPT.BARRIER_REPLY);
    const byRole = new Map([...mgr.connections()].map((c) => [c.role, c]));
    expect(byRole.get('master')!.wantsAsync('packet_in', OFPR.NO_MATCH)).toBe(true);
    expect(byRole.get('equal')).toBeDefined(); // a is equal again
    role(a, OFPCR_ROLE.SLAVE, 8n);
    await a.nextOfType(OFPT.ROLE_REPLY);
    expect([...mgr.connections()].find((c) => c.role === 'slave')!.wantsAsync('packet_in', OFPR.NO_MATCH)).toBe(false);
  });

  it('answers BARRIER after the replies to every earlier request', async () => {
    const p = await upPeer();
    const msgs: OfpMessage[] = [];
    for (let i = 0; i < 50; i++) msgs.push({ type: OFPT.MULTIPART_REQUEST, version: 4, xid: i, flags: 0, body: { mpType: OFPMP.DESC } });
    msgs.push({ type: OFPT.BARRIER_REQUEST, version: 4, xid: 1000 });
    p.send(Buffer.concat(msgs.map((m) => encodeMessage(m))));
    await p.nextOfType(OFPT.BARRIER_REPLY);
    // Everything before the barrier reply arrived before it (the inbox keeps order).
    expect(p.inbox.filter((m) => m.type === OFPT.MULTIPART_REPLY).map((m) => m.xid)).toEqual([...Array(50).keys()]);
  });

  it('survives garbage: random bytes, bad lengths, truncated messages, half-open peers', async () => {
    const good = await upPeer();
    // Random bytes before any HELLO.
    const g1 = tcpPeer();
    g1.send(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await g1.waitClosed();
    // A bad length after the handshake.
    const g2 = await upPeer();
    const bad = Buffer.alloc(8);
    bad[0] = 4;
    bad.writeUInt16BE(4, 2);
    g2.send(bad);
    expect(await g2.nextOfType(OFPT.ERROR)).toMatchObject({ errCode: OFPBRC.BAD_LEN });
    await g2.waitClosed();
    // A truncated message followed by the peer vanishing mid-message.
    const g3 = await upPeer();
    const fm = encodeMessage(sampleMessages().find((m) => m.type === OFPT.FLOW_MOD)!);
    g3.send(fm.subarray(0, fm.length - 5));
    g3.close();
    // 200 random chunks from a handshaken peer.
    const g4 = await upPeer();
    for (let i = 0; i < 200; i++) {
      const b = Buffer.alloc(1 + Math.floor(Math.random() * 100));
      for (let k = 0; k < b.length; k++) b[k] = Math.floor(Math.random() * 256);
      if (!g4.closed) g4.send(b);
    }
    // The good peer is untouched and the manager still answers it.
    good.send({ type: OFPT.ECHO_REQUEST, version: 4, xid: 5, data: Buffer.from('still here') });
    expect(await good.nextOfType(OFPT.ECHO_REPLY)).toMatchObject({ xid: 5 });
    expect(logs.filter((l) => l.startsWith('error'))).toEqual([]);
    expect(logs.some((l) => /bad OpenFlow framing, closing: OFPBRC_BAD_LEN: message length 4 outside 8\.\.65535/.test(l))).toBe(true);
  });
});
