// ofproto features over a real datapath: groups, meters, timeouts with a fake
// clock, PORT_MOD/PORT_STATUS, errors with the spec's codes, multipart
// replies, trace.
import { afterEach, describe, expect, it } from 'vitest';
import { GuestPort } from '../../datapath/ports/guest.js';
import type { Action } from '../../ofproto/openflow/actions.js';
import { encodeMessage, type OfpMessage } from '../../ofproto/openflow/codec.js';
import {
  OFPAT,
  OFPBAC,
  OFPBIC,
  OFPBMC,
  OFPBRC,
  OFPET,
  OFPFF,
  OFPFMFC,
  OFPG,
  OFPGC,
  OFPGT,
  OFPIT,
  OFPMBT,
  OFPMC,
  OFPMF,
  OFPMMFC,
  OFPMP,
  OFPMPF,
  OFPP,
  OFPPC,
  OFPPMFC,
  OFPPR,
  OFPRR,
  OFPSCFC,
  OFPT,
  OFPTMFC,
  OFPXMT as X,
} from '../../ofproto/openflow/constants.js';
import type { MultipartRequestBody } from '../../ofproto/openflow/multipart.js';
import { oxm } from '../../ofproto/openflow/oxm.js';
import { apply, flowMod, makeBridge, output, settle, type Bridge } from '../helpers/ofproto-fixture.js';

const bridges: Bridge[] = [];
afterEach(async () => {
  for (const b of bridges.splice(0)) await b.stop();
});
async function bridge(...args: Parameters<typeof makeBridge>): Promise<Bridge> {
  const b = await makeBridge(...args);
  bridges.push(b);
  return b;
}
const guest = (n: number): GuestPort => new GuestPort(`f${n}`, { mac: `02:00:00:00:01:${n.toString(16).padStart(2, '0')}`, ip: `10.1.0.${n}/24` });
const normal = flowMod({ priority: 0, instructions: [apply(output(OFPP.NORMAL))] });
const groupMod = (groupId: number, groupType: number, buckets: Array<{ actions: Action[]; weight?: number; watchPort?: number }>): OfpMessage => ({
  type: OFPT.GROUP_MOD,
  version: 4,
  xid: 7,
  command: OFPGC.ADD,
  groupType,
  groupId,
  buckets: buckets.map((b) => ({ weight: b.weight ?? 0, watchPort: b.watchPort ?? OFPP.ANY, watchGroup: OFPG.ANY, actions: b.actions })),
});
const toGroup = (groupId: number, match = [oxm(X.IN_PORT, 1), oxm(X.ETH_TYPE, 0x800), oxm(X.IP_PROTO, 17)]) =>
  flowMod({ priority: 10, match, instructions: [apply({ type: OFPAT.GROUP, groupId })] });
const mp = (body: MultipartRequestBody): OfpMessage => ({ type: OFPT.MULTIPART_REQUEST, version: 4, xid: 77, flags: 0, body });

describe('ofproto: groups over guests', () => {
  it('select spreads flows over buckets; group stats equal frames delivered', async () => {
    const [a, b, c] = [guest(1), guest(2), guest(3)];
    const br = await bridge('br-sel', [a, b, c]);
    br.send(normal);
    br.send(groupMod(1, OFPGT.SELECT, [{ actions: [output(2)], weight: 1 }, { actions: [output(3)], weight: 1 }]));
    br.send(toGroup(1));
    expect(br.conn.take(OFPT.ERROR)).toEqual([]);
    await a.resolve('10.1.0.2');
    const b0 = b.stats.txPackets;
    const c0 = c.stats.txPackets;
    await a.traffic({ dst: '10.1.0.2', flows: 32, packetsPerFlow: 3, dstPort: 9 });
    await settle();
    const toB = b.stats.txPackets - b0;
    const toC = c.stats.txPackets - c0;
    expect(toB + toC).toBe(96);
    expect(toB).toBeGreaterThan(10);
    expect(toC).toBeGreaterThan(10);
    br.send(mp({ mpType: OFPMP.GROUP, groupId: OFPG.ALL }));
    const [rep] = br.conn.take(OFPT.MULTIPART_REPLY);
    const g = (rep!.body as { groups: Array<{ packetCount: bigint; refCount: number; bucketStats: Array<{ packetCount: bigint }> }> }).groups[0]!;
    expect(Number(g.packetCount)).toBe(96);
    expect(g.refCount).toBe(1);
    expect(g.bucketStats.map((s) => Number(s.packetCount))).toEqual([toB, toC]);
  });

  it('all sends to every bucket; fast-failover moves when the watched port goes down (PORT_MOD → PORT_STATUS)', async () => {
    const [a, b, c] = [guest(1), guest(2), guest(3)];
    const br = await bridge('br-ff', [a, b, c]);
    br.send(normal);
    br.send(groupMod(1, OFPGT.ALL, [{ actions: [output(2)] }, { actions: [output(3)] }]));
    br.send(groupMod(2, OFPGT.FF, [{ actions: [output(2)], watchPort: 2 }, { actions: [output(3)], watchPort: 3 }]));
    br.send(toGroup(1));
    await a.resolve('10.1.0.2');
    let b0 = b.stats.txPackets;
    let c0 = c.stats.txPackets;
    await a.traffic({ dst: '10.1.0.2', flows: 4, packetsPerFlow: 2, dstPort: 9 });
    await settle();
    expect([b.stats.txPackets - b0, c.stats.txPackets - c0]).toEqual([8, 8]);
    br.send(flowMod({ command: 1, priority: 10, match: [oxm(X.IN_PORT, 1), oxm(X.ETH_TYPE, 0x800), oxm(X.IP_PROTO, 17)], instructions: [apply({ type: OFPAT.GROUP, groupId: 2 })] }));
    b0 = b.stats.txPackets;
    c0 = c.stats.txPackets;
    await a.traffic({ dst: '10.1.0.2', flows: 4, packetsPerFlow: 2, dstPort: 9 });
    await settle();
    expect([b.stats.txPackets - b0, c.stats.txPackets - c0]).toEqual([8, 0]);
    br.conn.sent.length = 0;
    br.send({ type: OFPT.PORT_MOD, version: 4, xid: 3, portNo: 2, hwAddr: Buffer.from(b.mac), config: OFPPC.PORT_DOWN, mask: OFPPC.PORT_DOWN, advertise: 0 });
    const [ps] = br.conn.take(OFPT.PORT_STATUS);
    expect(ps!.reason).toBe(OFPPR.MODIFY);
    expect(ps!.desc.config & OFPPC.PORT_DOWN).toBe(OFPPC.PORT_DOWN);
    b0 = b.stats.txPackets;
    c0 = c.stats.txPackets;
    await a.traffic({ dst: '10.1.0.2', flows: 4, packetsPerFlow: 2, dstPort: 9 });
    await settle();
    expect([b.stats.txPackets - b0, c.stats.txPackets - c0]).toEqual([0, 8]);
  });
});

describe('ofproto: meters', () => {
  it('a drop band limits a UDP flood to about rate × time + burst, in the datapath (one megaflow, no upcall per packet)', async () => {
    const [a, b] = [guest(1), guest(2)];
    const br = await bridge('br-meter', [a, b]);
    br.send(normal);
    br.send({ type: OFPT.METER_MOD, version: 4, xid: 1, command: OFPMC.ADD, flags: OFPMF.PKTPS | OFPMF.BURST | OFPMF.STATS, meterId: 1, bands: [{ type: OFPMBT.DROP, rate: 200, burstSize: 20 }] });
    br.send(flowMod({ priority: 10, match: [oxm(X.IN_PORT, 1), oxm(X.ETH_TYPE, 0x800), oxm(X.IP_PROTO, 17)], instructions: [{ type: OFPIT.METER, meterId: 1 }, apply(output(2))] }));
    expect(br.conn.take(OFPT.ERROR)).toEqual([]);
    await a.resolve('10.1.0.2');
    const t0 = Date.now();
    const { sent } = await a.traffic({ dst: '10.1.0.2', flows: 1, packetsPerFlow: 400, ratePps: 2000, dstPort: 9 });
    const secs = (Date.now() - t0) / 1000;
    await settle();
    expect(sent).toBe(400);
    const got = b.udpReceived;
    const expected = 20 + 200 * secs;
    expect(got).toBeGreaterThan(expected * 0.5);
    expect(got).toBeLessThan(expected * 1.5 + 10);
    expect(got).toBeLessThan(400);
    br.send({ type: OFPT.MULTIPART_REQUEST, version: 4, xid: 2, flags: 0, body: { mpType: OFPMP.METER, meterId: 1 } });
    const [rep] = br.conn.take(OFPT.MULTIPART_REPLY);
    const ms = (rep!.body as { meters: Array<{ packetInCount: bigint; flowCount: number; bandStats: Array<{ packetBandCount: bigint }> }> }).meters[0]!;
    expect(Number(ms.packetInCount)).toBe(400);
    expect(ms.flowCount).toBe(1);
    expect(Number(ms.bandStats[0]!.packetBandCount)).toBe(400 - got);
    const flows = br.dp.dumpFlowsText().filter((l) => l.includes('meter(1)'));
    expect(flows).toHaveLength(1);
    expect(flows[0]).toMatch(/packets:(\d+).*actions:meter\(1\),2$/);
    expect(Number(/packets:(\d+)/.exec(flows[0]!)![1])).toBeGreaterThan(390); // the first packet or so took the upcall
  });
});

describe('ofproto: timeouts with a fake clock', () => {
  it('idle and hard timeouts produce FLOW_REMOVED with the counts', async () => {
    const [a, b] = [guest(1), guest(2)];
    const br = await bridge('br-to', [a, b], { fakeClock: true });
    br.send(flowMod({ match: [oxm(X.IN_PORT, 1)], idleTimeout: 10, flags: OFPFF.SEND_FLOW_REM, cookie: 0x11n, instructions: [apply(output(2))] }));
    br.send(flowMod({ match: [oxm(X.IN_PORT, 2)], hardTimeout: 30, flags: OFPFF.SEND_FLOW_REM, cookie: 0x22n, instructions: [apply(output(1))] }));
    expect((await a.ping('10.1.0.2', 3, { intervalMs: 0, timeoutMs: 1000 })).received).toBe(3);
    br.clock.now += 8000;
    br.of.run();
    expect(br.conn.take(OFPT.FLOW_REMOVED)).toEqual([]);
    expect((await a.ping('10.1.0.2', 1, { timeoutMs: 1000 })).received).toBe(1); // traffic keeps it alive
    br.clock.now += 8000;
    br.of.run();
    expect(br.conn.take(OFPT.FLOW_REMOVED)).toEqual([]);
    br.clock.now += 10_000;
    br.of.run();
    const [idle] = br.conn.take(OFPT.FLOW_REMOVED);
    expect(idle).toMatchObject({ reason: OFPRR.IDLE_TIMEOUT, cookie: 0x11n, idleTimeout: 10, durationSec: 26 });
    expect(Number(idle!.packetCount)).toBe(a.stats.rxPackets);
    br.clock.now += 10_000;
    br.of.run();
    const [hard] = br.conn.take(OFPT.FLOW_REMOVED);
    expect(hard).toMatchObject({ reason: OFPRR.HARD_TIMEOUT, cookie: 0x22n });
    expect(Number(hard!.packetCount)).toBe(b.stats.rxPackets);
    expect(br.of.tables.ruleCount).toBe(0);
  });
});

describe('ofproto: errors carry the spec type/code and the offending bytes', () => {
  it('FLOW_MOD, PACKET_OUT, PORT_MOD, TABLE_MOD, SET_CONFIG, EXPERIMENTER', async () => {
    const [a, b] = [guest(1), guest(2)];
    const br = await bridge('br-err', [a, b]);
    const cases: Array<[OfpMessage, number, number]> = [
      [flowMod({ instructions: [apply({ type: OFPAT.GROUP, groupId: 99 })] }), OFPET.BAD_ACTION, OFPBAC.BAD_OUT_GROUP],
      [flowMod({ instructions: [{ type: OFPIT.METER, meterId: 5 }] }), OFPET.METER_MOD_FAILED, OFPMMFC.UNKNOWN_METER],
      [flowMod({ tableId: 3, instructions: [{ type: OFPIT.GOTO_TABLE, tableId: 2 }] }), OFPET.BAD_INSTRUCTION, OFPBIC.BAD_TABLE_ID],
      [flowMod({ instructions: [apply({ type: OFPAT.PUSH_PBB, ethertype: 0x8100 })] }), OFPET.BAD_ACTION, OFPBAC.BAD_ARGUMENT],
      [flowMod({ instructions: [apply({ type: OFPAT.SET_FIELD, field: oxm(X.IN_PORT, 5) })] }), OFPET.BAD_ACTION, OFPBAC.BAD_SET_TYPE],
      [flowMod({ instructions: [apply({ type: OFPAT.SET_FIELD, field: oxm(X.ETH_TYPE, 0x100) })] }), OFPET.BAD_ACTION, OFPBAC.BAD_SET_ARGUMENT],
      [flowMod({ instructions: [apply({ type: OFPAT.PUSH_VLAN, ethertype: 0x800 })] }), OFPET.BAD_ACTION, OFPBAC.BAD_ARGUMENT],
      [flowMod({ instructions: [apply(output(OFPP.TABLE))] }), OFPET.BAD_ACTION, OFPBAC.BAD_OUT_PORT],
      [flowMod({ match: [{ kind: 'opaque', oxmClass: 0x0001, field: 5, hasMask: false, body: Buffer.alloc(4) }] }), OFPET.BAD_MATCH, OFPBMC.BAD_FIELD],
      [flowMod({ tableId: 254 }), OFPET.FLOW_MOD_FAILED, OFPFMFC.BAD_TABLE_ID],
      [flowMod({ instructions: [apply({ type: OFPAT.SET_FIELD, field: oxm(X.IPV4_DST, 1) })] }), OFPET.BAD_ACTION, OFPBAC.MATCH_INCONSISTENT],
      [flowMod({ match: [oxm(X.ETH_TYPE, 0x800)], instructions: [apply({ type: OFPAT.SET_FIELD, field: oxm(X.TCP_DST, 1) })] }), OFPET.BAD_ACTION, OFPBAC.MATCH_INCONSISTENT],
      [{ type: OFPT.PACKET_OUT, version: 4, xid: 1, bufferId: 0xffffffff, inPort: OFPP.FLOOD, actions: [], data: Buffer.alloc(60) }, OFPET.BAD_REQUEST, OFPBRC.BAD_PORT],
      [{ type: OFPT.PACKET_OUT, version: 4, xid: 1, bufferId: 7, inPort: 1, actions: [], data: Buffer.alloc(60) }, OFPET.BAD_REQUEST, OFPBRC.BUFFER_UNKNOWN],
      [{ type: OFPT.PORT_MOD, version: 4, xid: 1, portNo: 9, hwAddr: Buffer.alloc(6), config: 0, mask: 0, advertise: 0 }, OFPET.PORT_MOD_FAILED, OFPPMFC.BAD_PORT],
      [{ type: OFPT.PORT_MOD, version: 4, xid: 1, portNo: 1, hwAddr: Buffer.alloc(6), config: 0, mask: 0, advertise: 0 }, OFPET.PORT_MOD_FAILED, OFPPMFC.BAD_HW_ADDR],
      [{ type: OFPT.TABLE_MOD, version: 4, xid: 1, tableId: 254, config: 0 }, OFPET.TABLE_MOD_FAILED, OFPTMFC.BAD_TABLE],
      [{ type: OFPT.SET_CONFIG, version: 4, xid: 1, flags: 1, missSendLen: 128 }, OFPET.SWITCH_CONFIG_FAILED, OFPSCFC.BAD_FLAGS],
      [{ type: OFPT.EXPERIMENTER, version: 4, xid: 1, experimenter: 0x2320, expType: 1, data: Buffer.alloc(0) }, OFPET.BAD_REQUEST, OFPBRC.BAD_EXPERIMENTER],
      [mp({ mpType: OFPMP.EXPERIMENTER, experimenter: 0x2320, expType: 1, data: Buffer.alloc(0) }), OFPET.BAD_REQUEST, OFPBRC.BAD_EXPERIMENTER],
    ];
    for (const [msg, errType, errCode] of cases) {
      br.conn.sent.length = 0;
      br.send(msg);
      const errs = br.conn.take(OFPT.ERROR);
      expect(errs.length, JSON.stringify(msg.type)).toBe(1);
      expect([errs[0]!.errType, errs[0]!.errCode], `message type ${msg.type}`).toEqual([errType, errCode]);
      expect(errs[0]!.xid).toBe(msg.xid);
      expect(errs[0]!.data.equals(encodeMessage(msg))).toBe(true);
    }
    expect(br.of.tables.ruleCount).toBe(0);
    br.send(flowMod({ match: [oxm(X.ETH_TYPE, 0x800), oxm(X.IP_PROTO, 6)], instructions: [apply({ type: OFPAT.SET_FIELD, field: oxm(X.TCP_DST, 1) })] }));
    br.send(flowMod({ match: [oxm(X.ETH_TYPE, 0x800)], instructions: [apply({ type: OFPAT.PUSH_MPLS, ethertype: 0x8847 }, { type: OFPAT.SET_FIELD, field: oxm(X.MPLS_LABEL, 5) })] }));
    expect(br.conn.take(OFPT.ERROR)).toEqual([]);
    br.send(flowMod({ command: 3, tableId: 0xff }));
    // CHECK_OVERLAP
    br.send(flowMod({ match: [oxm(X.IN_PORT, 1)] }));
    br.send(flowMod({ match: [oxm(X.ETH_TYPE, 0x800)], flags: OFPFF.CHECK_OVERLAP }));
    expect(br.conn.take(OFPT.ERROR).map((e) => [e.errType, e.errCode])).toEqual([[OFPET.FLOW_MOD_FAILED, OFPFMFC.OVERLAP]]);
  });
});

describe('ofproto: multipart replies', () => {
  it('desc, port desc, port/table/aggregate stats, group/meter features, queue, table features split at 64 KB', async () => {
    const [a, b] = [guest(1), guest(2)];
    const br = await bridge('br-mp', [a, b]);
    br.send(normal);
    await a.ping('10.1.0.2', 2, { intervalMs: 0, timeoutMs: 1000 });
    const one = (body: MultipartRequestBody) => {
      br.send(mp(body));
      const r = br.conn.take(OFPT.MULTIPART_REPLY);
      expect(br.conn.take(OFPT.ERROR)).toEqual([]);
      return r;
    };
    expect(one({ mpType: OFPMP.DESC })[0]!.body).toMatchObject({ mfrDesc: 'tsvs', dpDesc: 'br-mp' });
    const pd = one({ mpType: OFPMP.PORT_DESC })[0]!.body as { ports: Array<{ portNo: number; name: string; hwAddr: Buffer }> };
    expect(pd.ports.map((p) => [p.portNo, p.name])).toEqual([[1, 'f1'], [2, 'f2']]);
    const ps = one({ mpType: OFPMP.PORT_STATS, portNo: OFPP.ANY })[0]!.body as { ports: Array<{ portNo: number; rxPackets: bigint }> };
    expect(Number(ps.ports[0]!.rxPackets)).toBe(a.stats.rxPackets);
    const ts = one({ mpType: OFPMP.TABLE })[0]!.body as { tables: Array<{ activeCount: number; lookupCount: bigint }> };
    expect(ts.tables.length).toBe(254);
    expect(ts.tables[0]!.activeCount).toBe(1);
    const ag = one({ mpType: OFPMP.AGGREGATE, tableId: 0xff, outPort: OFPP.ANY, outGroup: OFPG.ANY, cookie: 0n, cookieMask: 0n, match: [] })[0]!.body as {
      packetCount: bigint;
      flowCount: number;
    };
    expect(ag.flowCount).toBe(1);
    expect(Number(ag.packetCount)).toBe(a.stats.rxPackets + b.stats.rxPackets);
    expect(one({ mpType: OFPMP.GROUP_FEATURES })[0]!.body).toMatchObject({ types: 15 });
    expect(one({ mpType: OFPMP.METER_FEATURES })[0]!.body).toMatchObject({ bandTypes: 6, maxBands: 8 });
    expect(one({ mpType: OFPMP.QUEUE, portNo: OFPP.ANY, queueId: 0xffffffff })[0]!.body).toMatchObject({ queues: [] });
    expect(one({ mpType: OFPMP.GROUP_DESC })[0]!.body).toMatchObject({ groups: [] });
    expect(one({ mpType: OFPMP.METER_CONFIG, meterId: 0xffffffff })[0]!.body).toMatchObject({ meters: [] });
    br.send(mp({ mpType: OFPMP.METER, meterId: 3 }));
    expect(br.conn.take(OFPT.ERROR).map((e) => [e.errType, e.errCode])).toEqual([[OFPET.METER_MOD_FAILED, OFPMMFC.UNKNOWN_METER]]);
    const tf = one({ mpType: OFPMP.TABLE_FEATURES, tables: [] });
    expect(tf.length).toBeGreaterThan(1);
    for (const [i, m] of tf.entries()) {
      expect(encodeMessage(m).length).toBeLessThanOrEqual(0xffff);
      expect((m.flags & OFPMPF.REPLY_MORE) !== 0).toBe(i < tf.length - 1);
    }
    expect(tf.flatMap((m) => (m.body as { tables: Array<{ tableId: number }> }).tables.map((t) => t.tableId))).toEqual([...Array(254).keys()]);
    br.send({ type: OFPT.QUEUE_GET_CONFIG_REQUEST, version: 4, xid: 1, port: 1 });
    expect(br.conn.take(OFPT.QUEUE_GET_CONFIG_REPLY)[0]).toMatchObject({ port: 1, queues: [] });
  });
});

describe('ofproto: table stats', () => {
  it('count every packet, cached megaflow hits included, also across a rule change that keeps the megaflows', async () => {
    const [a, b] = [guest(1), guest(2)];
    const br = await bridge('br-ts', [a, b]);
    br.send(normal);
    const tableStats = () => {
      br.send(mp({ mpType: OFPMP.TABLE }));
      const t = (br.conn.take(OFPT.MULTIPART_REPLY)[0]!.body as { tables: Array<{ lookupCount: bigint; matchedCount: bigint }> }).tables;
      return [Number(t[0]!.lookupCount), Number(t[0]!.matchedCount), Number(t[1]!.lookupCount)];
    };
    await a.ping('10.1.0.2', 5, { intervalMs: 0, timeoutMs: 1000 });
    const rx1 = a.stats.rxPackets + b.stats.rxPackets;
    expect(br.dp.cache.count).toBeGreaterThan(0);
    expect(tableStats()).toEqual([rx1, rx1, 0]);
    // A rule in table 1 changes nothing the megaflows looked up: they stay, and their hits still count.
    br.send(flowMod({ tableId: 1, match: [oxm(X.IN_PORT, 9)], instructions: [] }));
    await a.ping('10.1.0.2', 5, { intervalMs: 0, timeoutMs: 1000 });
    const rx2 = a.stats.rxPackets + b.stats.rxPackets;
    expect(rx2).toBeGreaterThan(rx1);
    expect(tableStats()).toEqual([rx2, rx2, 0]);
  });
});

describe('ofproto: ports and trace', () => {
  it('PORT_STATUS on add/delete; trace shows tables, actions and the megaflow', async () => {
    const [a, b] = [guest(1), guest(2)];
    const br = await bridge('br-tr', [a, b]);
    const c = guest(3);
    const no = await br.dp.addPort(c);
    br.of.addPort(no, { ofPort: 30 });
    expect(br.conn.take(OFPT.PORT_STATUS).map((m) => [m.reason, m.desc.portNo, m.desc.name])).toEqual([[OFPPR.ADD, 30, 'f3']]);
    br.send(flowMod({ match: [oxm(X.IN_PORT, 1), oxm(X.ETH_TYPE, 0x800)], cookie: 0x5n, instructions: [apply(output(30))] }));
    const frame = Buffer.alloc(60);
    Buffer.from('020000000102020000000101', 'hex').copy(frame, 0);
    frame.writeUInt16BE(0x0800, 12);
    frame[14] = 0x45;
    const text = br.of.trace(frame, 1);
    expect(text).toMatch(/bridge\("br-tr"\)/);
    expect(text).toMatch(/ 0\. ip,in_port=1, priority 100, cookie 0x5\n    output:30\n/);
    expect(text).toMatch(/output:30/);
    expect(text).toMatch(new RegExp(`Datapath actions: ${no}\n$`));
    expect(text).toMatch(/Megaflow: recirc_id=0,eth,ip,in_port=1\n/);
    br.of.removePort(30);
    expect(br.conn.take(OFPT.PORT_STATUS).map((m) => m.reason)).toEqual([OFPPR.DELETE]);
  });
});

describe('ofproto: large replies, TABLE_MOD, carrier changes', () => {
  it('flow stats of 3000 rules split into several replies under 64 KB', async () => {
    const [a, b] = [guest(1), guest(2)];
    const br = await bridge('br-big', [a, b]);
    for (let i = 0; i < 3000; i++) br.of.handleMessage(br.conn, flowMod({ match: [oxm(X.ETH_TYPE, 0x800), oxm(X.IPV4_DST, 0x0a000000 + i)], instructions: [apply(output(2))] }));
    expect(br.conn.take(OFPT.ERROR)).toEqual([]);
    br.send(mp({ mpType: OFPMP.FLOW, tableId: 0xff, outPort: OFPP.ANY, outGroup: OFPG.ANY, cookie: 0n, cookieMask: 0n, match: [] }));
    const replies = br.conn.take(OFPT.MULTIPART_REPLY);
    expect(replies.length).toBeGreaterThan(1);
    let n = 0;
    for (const [i, r] of replies.entries()) {
      expect(encodeMessage(r).length).toBeLessThanOrEqual(0xffff);
      expect((r.flags & OFPMPF.REPLY_MORE) !== 0).toBe(i < replies.length - 1);
      n += (r.body as { flows: unknown[] }).flows.length;
    }
    expect(n).toBe(3000);
  });

  it('TABLE_MOD is accepted and echoed in table features; carrier loss is reported by run()', async () => {
    const [a, b] = [guest(1), guest(2)];
    const br = await bridge('br-tm', [a, b]);
    br.send({ type: OFPT.TABLE_MOD, version: 4, xid: 1, tableId: 0xff, config: 3 });
    expect(br.conn.take(OFPT.ERROR)).toEqual([]);
    expect(br.of.tables.tables[7]!.config).toBe(3);
    br.of.run(); // ports were added before the datapath started: their link-up is reported first
    expect(br.conn.take(OFPT.PORT_STATUS).map((m) => [m.desc.portNo, m.desc.state])).toEqual([[1, 4], [2, 4]]); // OFPPS_LIVE
    b.stop(); // link down
    br.of.run();
    const [ps] = br.conn.take(OFPT.PORT_STATUS);
    expect(ps).toMatchObject({ reason: OFPPR.MODIFY, desc: { portNo: 2, state: 1 } }); // OFPPS_LINK_DOWN
  });
});
