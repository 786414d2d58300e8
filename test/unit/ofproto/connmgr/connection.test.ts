import { describe, expect, it, vi } from 'vitest';
import { Connection, type ConnectionHost, type ConnectionOptions } from '../../../../ofproto/connmgr/connection.js';
import { OfpError } from '../../../../ofproto/openflow/errors.js';
import {
  encodeMessage,
  makeHello,
  OFPBRC,
  OFPET,
  OFPHFC,
  OFPMP,
  OFPR,
  OFPPR,
  OFPRR,
  OFPT,
  type OfpMessage,
} from '../../../../ofproto/openflow/index.js';
import { FakeOfproto } from '../../../helpers/fake-ofproto.js';
import { FakeSocket, tick } from '../../../helpers/fake-socket.js';
import { ManualTimers } from '../../../helpers/manual-timers.js';
import { sampleMessages } from '../../../helpers/of-samples.js';

interface Rig {
  conn: Connection;
  sock: FakeSocket;
  timers: ManualTimers;
  handler: FakeOfproto;
  closed: string[];
  established: number;
  logs: string[];
}

function rig(opts: Partial<ConnectionOptions> = {}, sock = new FakeSocket()): Rig {
  const timers = new ManualTimers();
  const handler = new FakeOfproto();
  const r: Rig = { conn: undefined as unknown as Connection, sock, timers, handler, closed: [], established: 0, logs: [] };
  const host: ConnectionHost = {
    handler,
    timers,
    log: (level, m) => r.logs.push(`${level}: ${m}`),
    roleRequest: () => new OfpError(OFPET.ROLE_REQUEST_FAILED, 1, 'not in this test'),
    established: () => r.established++,
    closed: (_c, reason) => r.closed.push(reason),
  };
  r.conn = new Connection(sock, { id: 1, name: 'test', service: false, inactivityProbeMs: 5000, ...opts }, host);
  r.conn.start();
  return r;
}

async function established(opts: Partial<ConnectionOptions> = {}, sock?: FakeSocket): Promise<Rig> {
  const r = rig(opts, sock);
  r.sock.feed(makeHello([1, 4], 7));
  await tick();
  expect(r.conn.state).toBe('active');
  return r;
}

const sample = (type: number): OfpMessage => sampleMessages().find((m) => m.type === type)!;
const header = (version: number, type: number, length: number, xid = 0x55): Buffer => {
  const b = Buffer.alloc(length);
  b[0] = version;
  b[1] = type;
  b.writeUInt16BE(length, 2);
  b.writeUInt32BE(xid, 4);
  return b;
};

describe('Connection: HELLO and version negotiation', () => {
  it('sends a HELLO with a 1.3 version bitmap first and becomes active on the peer HELLO', async () => {
    const r = rig();
    const hello = r.sock.sent()[0]!;
    expect(hello.type).toBe(OFPT.HELLO);
    expect(hello.version).toBe(4);
    expect(hello.type === OFPT.HELLO && hello.elements).toEqual([{ kind: 'versionBitmap', bitmaps: [0x10] }]);
    expect(r.conn.state).toBe('hello');
    r.sock.feed(makeHello([1, 4, 5], 1));
    await tick();
    expect(r.conn.state).toBe('active');
    expect(r.conn.version).toBe(4);
    expect(r.established).toBe(1);
  });

  it('accepts a bitmap-less HELLO of a higher version (min of both)', async () => {
    const r = rig();
    r.sock.feed(header(6, OFPT.HELLO, 8));
    await tick();
    expect(r.conn.state).toBe('active');
  });

  it('answers a peer sharing no version with HELLO_FAILED/INCOMPATIBLE and closes', async () => {
    const r = rig();
    r.sock.feed(makeHello([1, 2], 9));
    await tick();
    const err = r.sock.sent()[1]!;
    expect(err.type).toBe(OFPT.ERROR);
    if (err.type !== OFPT.ERROR) return;
    expect([err.errType, err.errCode]).toEqual([OFPET.HELLO_FAILED, OFPHFC.INCOMPATIBLE]);
    expect(err.data.toString()).toContain('0x01, 0x02');
    expect(r.conn.state).toBe('closed');
    expect(r.closed[0]).toMatch(/version negotiation failed/);
    expect(r.established).toBe(0);
  });

  it('rejects an OpenFlow 1.0 HELLO without bitmap', async () => {
    const r = rig();
    r.sock.feed(header(1, OFPT.HELLO, 8));
    await tick();
    expect(r.conn.state).toBe('closed');
    expect(r.sock.sent()[1]).toMatchObject({ type: OFPT.ERROR, errType: OFPET.HELLO_FAILED, errCode: OFPHFC.INCOMPATIBLE });
  });

  it('closes when the first message is not a HELLO', async () => {
    const r = rig();
    r.sock.feed({ type: OFPT.FEATURES_REQUEST, version: 4, xid: 3 });
    await tick();
    expect(r.conn.state).toBe('closed');
    expect(r.sock.sent()[1]).toMatchObject({ type: OFPT.ERROR, errType: OFPET.HELLO_FAILED, errCode: OFPHFC.EPERM });
  });

  it('gives up on a peer that never sends HELLO', async () => {
    const r = rig();
    r.timers.advance(4999);
    expect(r.conn.state).toBe('hello');
    r.timers.advance(1);
    expect(r.conn.state).toBe('closed');
    expect(r.closed[0]).toMatch(/no HELLO/);
  });

  it('processes messages that arrive in the same chunk as the HELLO', async () => {
    const r = rig();
    r.sock.feed(Buffer.concat([encodeMessage(makeHello([4], 1)), encodeMessage({ type: OFPT.FEATURES_REQUEST, version: 4, xid: 42 })]));
    await tick();
    expect(r.sock.sent()[1]).toMatchObject({ type: OFPT.FEATURES_REPLY, xid: 42, datapathId: r.handler.datapathId, nTables: 254 });
  });
});

describe('Connection: echo and inactivity probe', () => {
  it('answers ECHO_REQUEST with the same xid and payload', async () => {
    const r = await established();
    r.sock.feed({ type: OFPT.ECHO_REQUEST, version: 4, xid: 0xabc, data: Buffer.from('ping') });
    await tick();
    expect(r.sock.sent().at(-1)).toMatchObject({ type: OFPT.ECHO_REPLY, xid: 0xabc, data: Buffer.from('ping') });
    expect(r.handler.received).toHaveLength(0);
  });

  it('probes after the idle interval and disconnects after another without traffic', async () => {
    const r = await established();
    r.timers.advance(4999);
    await tick();
    expect(r.sock.sent().filter((m) => m.type === OFPT.ECHO_REQUEST)).toHaveLength(0);
    r.timers.advance(1);
    await tick();
    expect(r.sock.sent().at(-1)!.type).toBe(OFPT.ECHO_REQUEST);
    expect(r.conn.probing).toBe(true);
    r.timers.advance(4999);
    expect(r.conn.state).toBe('active');
    r.timers.advance(1);
    expect(r.conn.state).toBe('closed');
    expect(r.closed[0]).toMatch(/no response to inactivity probe after 5\.0 s/);
  });

  it('any traffic answers the probe and restarts the idle interval', async () => {
    const r = await established();
    r.timers.advance(5000);
    await tick();
    const probe = r.sock.sent().at(-1)!;
    r.timers.advance(3000);
    r.sock.feed({ type: OFPT.ECHO_REPLY, version: 4, xid: probe.xid, data: Buffer.alloc(0) });
    await tick();
    expect(r.conn.probing).toBe(false);
    r.timers.advance(4999); // idle since the reply: 4999 ms
    await tick();
    expect(r.conn.state).toBe('active');
    expect(r.sock.sent().filter((m) => m.type === OFPT.ECHO_REQUEST)).toHaveLength(1);
    r.timers.advance(1);
    await tick();
    expect(r.sock.sent().filter((m) => m.type === OFPT.ECHO_REQUEST)).toHaveLength(2);
  });

  it('inactivityProbeMs 0 disables the probe', async () => {
    const r = await established({ inactivityProbeMs: 0 });
    expect(r.timers.size).toBe(0); // the HELLO timeout is gone too
    r.timers.advance(3_600_000);
    expect(r.conn.state).toBe('active');
    expect(r.sock.sent().filter((m) => m.type === OFPT.ECHO_REQUEST)).toEqual([]);
  });
});

describe('Connection: malformed input', () => {
  it('answers an unknown type with BAD_TYPE and the offending bytes, staying up', async () => {
    const r = await established();
    const bad = header(4, 200, 12, 0x77);
    r.sock.feed(bad);
    await tick();
    expect(r.sock.sent().at(-1)).toMatchObject({ type: OFPT.ERROR, xid: 0x77, errType: OFPET.BAD_REQUEST, errCode: OFPBRC.BAD_TYPE, data: bad });
    expect(r.conn.state).toBe('active');
  });

  it('answers a truncated FLOW_MOD with the codec error and stays up', async () => {
    const r = await established();
    const fm = encodeMessage(sample(OFPT.FLOW_MOD));
    const cut = Buffer.from(fm.subarray(0, 20));
    cut.writeUInt16BE(20, 2);
    r.sock.feed(cut);
    await tick();
    const err = r.sock.sent().at(-1)!;
    expect(err.type).toBe(OFPT.ERROR);
    expect(err.type === OFPT.ERROR && err.data).toEqual(cut);
    expect(r.conn.state).toBe('active');
    expect(r.handler.received).toHaveLength(0);
  });

  it('answers a non-1.3 message with BAD_VERSION', async () => {
    const r = await established();
    r.sock.feed(header(1, OFPT.FEATURES_REQUEST, 8));
    await tick();
    expect(r.sock.sent().at(-1)).toMatchObject({ type: OFPT.ERROR, errType: OFPET.BAD_REQUEST, errCode: OFPBRC.BAD_VERSION });
    expect(r.conn.state).toBe('active');
  });

  it('closes with a clear log line when the framing is broken (length < 8)', async () => {
    const r = await established();
    r.sock.feed(Buffer.concat([encodeMessage({ type: OFPT.ECHO_REQUEST, version: 4, xid: 5, data: Buffer.alloc(0) }), header(4, 2, 8).fill(0, 2, 4)]));
    await tick();
    const sent = r.sock.sent();
    expect(sent.at(-2)).toMatchObject({ type: OFPT.ECHO_REPLY, xid: 5 }); // the good message before it still counts
    expect(sent.at(-1)).toMatchObject({ type: OFPT.ERROR, errType: OFPET.BAD_REQUEST, errCode: OFPBRC.BAD_LEN });
    expect(r.conn.state).toBe('closed');
    expect(r.logs.some((l) => /warn: test: bad OpenFlow framing, closing: OFPBRC_BAD_LEN: message length 0/.test(l))).toBe(true);
  });

  it('reassembles a message split across reads byte by byte', async () => {
    const r = await established();
    const echo = encodeMessage({ type: OFPT.ECHO_REQUEST, version: 4, xid: 9, data: Buffer.from('split') });
    for (const b of echo) {
      r.sock.feed(Buffer.from([b]));
      await tick();
    }
    expect(r.sock.sent().at(-1)).toMatchObject({ type: OFPT.ECHO_REPLY, xid: 9 });
  });

  it('survives thousands of random well-framed messages without an internal error', async () => {
    const r = await established({ inactivityProbeMs: 0 });
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const samples = sampleMessages().map((m) => encodeMessage(m));
    for (let i = 0; i < 3000; i++) {
      let msg: Buffer;
      if (i % 2 === 0) {
        // A real message with a few bytes flipped (length kept sane).
        msg = Buffer.from(samples[rand(samples.length)]!);
        for (let k = 0; k < 3; k++) msg[8 + rand(Math.max(1, msg.length - 8))] ^= 1 << rand(8);
      } else {
        msg = Buffer.alloc(8 + rand(64));
        for (let k = 0; k < msg.length; k++) msg[k] = rand(256);
        msg.writeUInt16BE(msg.length, 2);
        msg[0] = rand(4) === 0 ? rand(256) : 4;
      }
      if (msg[1] === OFPT.ECHO_REPLY || msg[1] === OFPT.HELLO) msg[1] = OFPT.ECHO_REQUEST;
      r.sock.feed(msg);
      if (i % 100 === 0) await tick();
    }
    await tick();
    expect(r.closed).toEqual([]);
    expect(r.logs.filter((l) => l.startsWith('error'))).toEqual([]);
    expect(r.conn.stats.rxMessages).toBe(3001);
  });
});

describe('Connection: dispatch', () => {
  it('hands other messages to ofproto in order; BARRIER_REPLY follows their replies', async () => {
    const r = await established();
    r.sock.feed(
      Buffer.concat([
        encodeMessage({ type: OFPT.MULTIPART_REQUEST, version: 4, xid: 1, flags: 0, body: { mpType: OFPMP.DESC } }),
        encodeMessage(sample(OFPT.FLOW_MOD)),
        encodeMessage({ type: OFPT.BARRIER_REQUEST, version: 4, xid: 2 }),
        encodeMessage({ type: OFPT.MULTIPART_REQUEST, version: 4, xid: 3, flags: 0, body: { mpType: OFPMP.PORT_DESC } }),
      ]),
    );
    await tick();
    expect(r.handler.received.map((x) => x.msg.type)).toEqual([OFPT.MULTIPART_REQUEST, OFPT.FLOW_MOD, OFPT.MULTIPART_REQUEST]);
    expect(r.sock.sent().slice(1).map((m) => [m.type, m.xid])).toEqual([
      [OFPT.MULTIPART_REPLY, 1],
      [OFPT.BARRIER_REPLY, 2],
      [OFPT.MULTIPART_REPLY, 3],
    ]);
  });

  it('answers a chunk of FLOW_MODs and BARRIERs with one write, in order, errors with their own xid', async () => {
    const r = await established();
    await tick();
    r.handler.onMessage = (_c, m) => {
      if (m.xid === 11) throw new OfpError(OFPET.FLOW_MOD_FAILED, 5, 'table full');
    };
    const chunksBefore = r.sock.chunks.length;
    const fm = (xid: number): Buffer => encodeMessage({ ...sample(OFPT.FLOW_MOD), xid });
    r.sock.feed(Buffer.concat([fm(10), encodeMessage({ type: OFPT.BARRIER_REQUEST, version: 4, xid: 20 }), fm(11), fm(12), encodeMessage({ type: OFPT.BARRIER_REQUEST, version: 4, xid: 21 })]));
    await tick();
    expect(r.sock.chunks.length - chunksBefore).toBe(1);
    expect(r.sock.sent().slice(-3).map((m) => [m.type, m.xid])).toEqual([
      [OFPT.BARRIER_REPLY, 20],
      [OFPT.ERROR, 11],
      [OFPT.BARRIER_REPLY, 21],
    ]);
  });

  it('turns an OfpError thrown by ofproto into an ERROR with the message bytes', async () => {
    const r = await established();
    r.handler.onMessage = () => {
      throw new OfpError(OFPET.FLOW_MOD_FAILED, 5, 'table full');
    };
    const fm = encodeMessage(sample(OFPT.FLOW_MOD));
    r.sock.feed(fm);
    await tick();
    expect(r.sock.sent().at(-1)).toMatchObject({ type: OFPT.ERROR, errType: OFPET.FLOW_MOD_FAILED, errCode: 5, data: fm });
    r.handler.onMessage = () => {
      throw new Error('bug');
    };
    r.sock.feed(fm);
    await tick();
    expect(r.sock.sent().at(-1)).toMatchObject({ type: OFPT.ERROR, errType: OFPET.BAD_REQUEST, errCode: OFPBRC.EPERM });
    expect(r.conn.state).toBe('active');
    expect(r.logs.some((l) => l.includes('ofproto failed on message type 14'))).toBe(true);
  });

  it('rejects modifying messages from a slave with IS_SLAVE, lets reads through', async () => {
    const r = await established();
    r.conn.setRole('slave');
    for (const t of [OFPT.FLOW_MOD, OFPT.GROUP_MOD, OFPT.PORT_MOD, OFPT.TABLE_MOD, OFPT.METER_MOD, OFPT.PACKET_OUT]) {
      const raw = encodeMessage(sample(t));
      r.sock.feed(raw);
      await tick();
      expect(r.sock.sent().at(-1), `type ${t}`).toMatchObject({ type: OFPT.ERROR, errType: OFPET.BAD_REQUEST, errCode: OFPBRC.IS_SLAVE, data: raw });
    }
    expect(r.handler.received).toHaveLength(0);
    r.sock.feed({ type: OFPT.MULTIPART_REQUEST, version: 4, xid: 1, flags: 0, body: { mpType: OFPMP.DESC } });
    await tick();
    expect(r.handler.received).toHaveLength(1);
  });
});

describe('Connection: async config', () => {
  it('applies the spec defaults per role', async () => {
    const r = await established();
    const c = r.conn;
    expect(c.wantsAsync('packet_in', OFPR.NO_MATCH)).toBe(true);
    expect(c.wantsAsync('packet_in', OFPR.ACTION)).toBe(true);
    expect(c.wantsAsync('packet_in', OFPR.INVALID_TTL)).toBe(false);
    expect(c.wantsAsync('port_status', OFPPR.MODIFY)).toBe(true);
    expect(c.wantsAsync('flow_removed', OFPRR.DELETE)).toBe(true);
    c.setRole('slave');
    expect(c.wantsAsync('packet_in', OFPR.NO_MATCH)).toBe(false);
    expect(c.wantsAsync('flow_removed', OFPRR.IDLE_TIMEOUT)).toBe(false);
    expect(c.wantsAsync('port_status', OFPPR.ADD)).toBe(true);
    c.setRole('master');
    expect(c.wantsAsync('packet_in', OFPR.NO_MATCH)).toBe(true);
  });

  it('SET_ASYNC replaces the masks and GET_ASYNC reports them', async () => {
    const r = await established();
    r.sock.feed({ type: OFPT.SET_ASYNC, version: 4, xid: 1, packetInMask: [1 << OFPR.INVALID_TTL, 0], portStatusMask: [0, 0], flowRemovedMask: [0, 1 << OFPRR.DELETE] });
    r.sock.feed({ type: OFPT.GET_ASYNC_REQUEST, version: 4, xid: 2 });
    await tick();
    expect(r.sock.sent().at(-1)).toMatchObject({ type: OFPT.GET_ASYNC_REPLY, xid: 2, packetInMask: [4, 0], portStatusMask: [0, 0], flowRemovedMask: [0, 4] });
    expect(r.conn.wantsAsync('packet_in', OFPR.NO_MATCH)).toBe(false);
    expect(r.conn.wantsAsync('packet_in', OFPR.INVALID_TTL)).toBe(true);
    r.conn.setRole('slave');
    expect(r.conn.wantsAsync('flow_removed', OFPRR.DELETE)).toBe(true);
    expect(r.handler.received).toHaveLength(0);
  });

  it('service connections get nothing until SET_CONFIG sets a nonzero miss_send_len (like OVS)', async () => {
    const r = await established({ service: true });
    expect(r.conn.missSendLen).toBe(0);
    expect(r.conn.wantsAsync('packet_in', OFPR.NO_MATCH)).toBe(false);
    expect(r.conn.wantsAsync('port_status', OFPPR.ADD)).toBe(false);
    r.sock.feed({ type: OFPT.SET_CONFIG, version: 4, xid: 1, flags: 0, missSendLen: 0xffff });
    await tick();
    expect(r.conn.missSendLen).toBe(0xffff);
    expect(r.conn.wantsAsync('packet_in', OFPR.NO_MATCH)).toBe(true);
    expect(r.handler.messagesOfType(OFPT.SET_CONFIG)).toHaveLength(1);
  });

  it('a controller connection starts with miss_send_len 128', async () => {
    const r = await established();
    expect(r.conn.missSendLen).toBe(128);
  });
});

describe('Connection: transmit limits', () => {
  const packetIn = (): OfpMessage => sample(OFPT.PACKET_IN);

  it('rate-limits packet-ins with a token bucket and counts drops', async () => {
    const r = await established({ rateLimit: { ratePerSec: 1000, burst: 100 } });
    await tick();
    const before = r.sock.sent().length;
    for (let i = 0; i < 150; i++) r.conn.send(packetIn());
    await tick();
    expect(r.sock.sent().length - before).toBe(100);
    expect(r.conn.stats.packetInRateDropped).toBe(50);
    r.timers.advance(10); // 10 ms at 1000/s: 10 tokens
    for (let i = 0; i < 20; i++) r.conn.send(packetIn());
    await tick();
    expect(r.sock.sent().length - before).toBe(110);
    // Other messages are never rate-limited.
    for (let i = 0; i < 200; i++) r.conn.send({ type: OFPT.ECHO_REQUEST, version: 4, xid: i, data: Buffer.alloc(0) });
    await tick();
    expect(r.sock.sent().length - before).toBe(310);
  });

  it('writes a burst of messages in one batch (corked until the end of the tick)', async () => {
    const r = await established();
    await tick();
    const chunksBefore = r.sock.chunks.length;
    for (let i = 0; i < 50; i++) r.conn.send({ type: OFPT.ECHO_REPLY, version: 4, xid: i, data: Buffer.alloc(10) });
    expect(r.sock.chunks.length).toBe(chunksBefore); // nothing written yet
    await tick();
    expect(r.sock.sent().filter((m) => m.type === OFPT.ECHO_REPLY)).toHaveLength(50);
  });

  it('bounds the queue of a peer that stops reading: packet-ins dropped first, counted', async () => {
    const sock = new FakeSocket(4096);
    const r = await established({ txMaxBytes: 64 * 1024, txMaxPacketIns: 50 }, sock);
    sock.autoAck = false;
    for (let i = 0; i < 2000; i++) r.conn.send(packetIn());
    expect(r.conn.stats.packetInQueueDropped).toBeGreaterThan(1900);
    expect(r.conn.txQueuedBytes).toBeLessThanOrEqual(64 * 1024);
    // Replies still fit: queued packet-ins make room for them.
    for (let i = 0; i < 100; i++) r.conn.send({ type: OFPT.ECHO_REPLY, version: 4, xid: i, data: Buffer.alloc(100) });
    expect(r.conn.state).toBe('active');
    expect(r.conn.txQueuedBytes).toBeLessThanOrEqual(64 * 1024);
    sock.release();
    await vi.waitFor(() => expect(sock.sent().filter((m) => m.type === OFPT.ECHO_REPLY)).toHaveLength(100));
    const echoes = sock.sent().filter((m) => m.type === OFPT.ECHO_REPLY);
    expect(echoes.map((m) => m.xid)).toEqual([...Array(100).keys()]);
  });

  it('a multipart reply over txMaxBytes is sent whole; reading pauses until it drains', async () => {
    const sock = new FakeSocket(4096);
    const r = await established({ txMaxBytes: 64 * 1024 }, sock);
    sock.autoAck = false;
    const desc = { mpType: OFPMP.DESC, mfrDesc: 'm', hwDesc: 'h', swDesc: 's', serialNum: 'n', dpDesc: 'd' } as const;
    for (let i = 0; i < 100; i++) r.conn.send({ type: OFPT.MULTIPART_REPLY, version: 4, xid: 7, flags: i < 99 ? 1 : 0, body: desc });
    expect(r.conn.state).toBe('active');
    expect(sock.isPaused()).toBe(true);
    sock.release();
    await vi.waitFor(() => expect(sock.sent().filter((m) => m.type === OFPT.MULTIPART_REPLY)).toHaveLength(100));
    await vi.waitFor(() => expect(sock.isPaused()).toBe(false));
  });

  it('disconnects rather than grow without bound when replies overflow', async () => {
    const sock = new FakeSocket(4096);
    const r = await established({ txMaxBytes: 64 * 1024 }, sock);
    sock.autoAck = false;
    for (let i = 0; i < 100 && r.conn.state === 'active'; i++) r.conn.send({ type: OFPT.ECHO_REPLY, version: 4, xid: i, data: Buffer.alloc(1000) });
    expect(r.conn.state).toBe('closed');
    expect(r.closed[0]).toMatch(/transmit queue over 65536 bytes/);
    r.conn.send(packetIn());
    expect(r.conn.stats.droppedAfterClose).toBe(1);
  });
});
