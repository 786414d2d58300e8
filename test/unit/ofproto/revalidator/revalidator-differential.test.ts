// The revalidator against fresh translation: two identical bridges get the
// same random rule changes (ADD / MODIFY / DELETE, strict and not, in two
// tables, a group change now and then) and the same random frames. Bridge A
// keeps its megaflows across changes (revalidation re-translates, modifies or
// deletes them); bridge B flushes every megaflow before each frame, so each
// frame is translated afresh. Every frame must produce the same outputs and
// PACKET_INs on both, and at the end every rule must have the same counters.
import { describe, expect, it } from 'vitest';
import { Datapath } from '../../../../datapath/dpif.js';
import { buildEthernet } from '../../../../datapath/packet/ethernet.js';
import { buildIpv4 } from '../../../../datapath/packet/ipv4.js';
import { buildTcp } from '../../../../datapath/packet/tcp.js';
import { buildUdp } from '../../../../datapath/packet/udp.js';
import { Ofproto } from '../../../../ofproto/ofproto.js';
import type { Action } from '../../../../ofproto/openflow/actions.js';
import { OFPAT, OFPFC, OFPGC, OFPGT, OFPIT, OFPP, OFPT, OFPVID, OFPXMT as X } from '../../../../ofproto/openflow/constants.js';
import type { Instruction } from '../../../../ofproto/openflow/instructions.js';
import type { Match } from '../../../../ofproto/openflow/match.js';
import type { OfpMessage } from '../../../../ofproto/openflow/codec.js';
import { oxm } from '../../../../ofproto/openflow/oxm.js';
import { apply, FakeConn, FakeConnSet, flowMod, gotoTable, output } from '../../../helpers/ofproto-fixture.js';
import { Prng } from '../../../helpers/prng.js';
import { WirePort } from '../../../helpers/wire-port.js';

const setField = (field: number, value: number | bigint | Buffer): Action => ({ type: OFPAT.SET_FIELD, field: oxm(field, value) });

function randomMatch(rng: Prng, tableId: number): Match {
  const match: Match = [];
  if (rng.int(2)) match.push(oxm(X.IN_PORT, 1 + rng.int(3)));
  if (rng.int(3)) {
    match.push(oxm(X.ETH_TYPE, 0x800));
    if (rng.int(2)) match.push(oxm(X.IPV4_DST, 0x0a000000 | rng.int(4), [0xffffffff, 0xfffffffe][rng.int(2)]));
    if (rng.int(2)) {
      const proto = [6, 17][rng.int(2)]!;
      match.push(oxm(X.IP_PROTO, proto));
      if (rng.int(2)) match.push(oxm(proto === 6 ? X.TCP_DST : X.UDP_DST, [53, 80][rng.int(2)]!));
    }
  }
  if (rng.int(4) === 0) match.push(oxm(X.VLAN_VID, [OFPVID.NONE, OFPVID.PRESENT | 10][rng.int(2)]!));
  if (rng.int(4) === 0) match.push(oxm(X.ETH_SRC, Buffer.from([2, 0, 0, 0, 0, 1 + rng.int(2)])));
  if (tableId === 1 && rng.int(2)) match.push(oxm(X.METADATA, BigInt(rng.int(2)), 1n));
  return match;
}

function randomInstructions(rng: Prng, tableId: number, match: Match): Instruction[] {
  const ip = match.some((m) => m.field === X.ETH_TYPE);
  const acts: Action[] = [];
  for (let i = 0; i < 1 + rng.int(3); i++) {
    const k = rng.int(8);
    if (k === 0) acts.push(setField(X.ETH_DST, Buffer.from([2, 0, 0, 0, 0, 1 + rng.int(3)])));
    else if (k === 1 && ip) acts.push(setField(X.IPV4_DST, 0x0a000000 | rng.int(4)));
    else if (k === 2) acts.push(setField(X.VLAN_VID, OFPVID.PRESENT | 20));
    else if (k === 3) acts.push({ type: OFPAT.POP_VLAN });
    else if (k === 4) acts.push(output(OFPP.CONTROLLER, 64));
    else if (k === 5) acts.push({ type: OFPAT.GROUP, groupId: 1 });
    else acts.push(output([1, 2, 3, OFPP.IN_PORT, OFPP.FLOOD][rng.int(5)]!));
  }
  const instructions: Instruction[] = rng.int(6) === 0 ? [] : [apply(...acts)];
  if (tableId === 0 && rng.int(2)) instructions.push({ type: OFPIT.WRITE_METADATA, metadata: BigInt(rng.int(2)), metadataMask: 1n }, gotoTable(1));
  return instructions;
}

/** One random change: mostly FLOW_MODs of every command, sometimes the group. */
function randomChange(rng: Prng): OfpMessage {
  if (rng.int(15) === 0) {
    const ports = [1, 2, 3].filter(() => rng.int(2) === 1);
    return {
      type: OFPT.GROUP_MOD,
      version: 4,
      xid: 1,
      command: OFPGC.MODIFY,
      groupType: OFPGT.SELECT,
      groupId: 1,
      buckets: (ports.length > 0 ? ports : [1]).map((p) => ({ weight: 1, watchPort: OFPP.ANY, watchGroup: 0xffffffff, actions: [output(p)] })),
    };
  }
  const tableId = rng.int(3) === 0 ? 1 : 0;
  const match = randomMatch(rng, tableId);
  const priority = rng.int(4);
  const command = [OFPFC.ADD, OFPFC.ADD, OFPFC.ADD, OFPFC.MODIFY, OFPFC.MODIFY_STRICT, OFPFC.DELETE, OFPFC.DELETE_STRICT][rng.int(7)]!;
  return flowMod({ command, tableId, priority, match, instructions: randomInstructions(rng, tableId, match) });
}

function randomFrame(rng: Prng): Buffer {
  const src = Uint8Array.of(10, 0, 0, 9);
  const dst = Uint8Array.of(10, 0, 0, rng.int(4));
  const tcp = rng.int(2) === 0;
  const l4 = tcp ? buildTcp({ srcPort: 1000 + rng.int(2), dstPort: [53, 80][rng.int(2)]!, flags: 2 }, { src, dst }) : buildUdp({ srcPort: 1000 + rng.int(2), dstPort: [53, 80][rng.int(2)]! }, { src, dst });
  return buildEthernet({
    dst: `02:00:00:00:00:0${1 + rng.int(3)}`,
    src: `02:00:00:00:00:0${1 + rng.int(2)}`,
    vlans: rng.int(3) === 0 ? [{ vid: 10 }] : [],
    type: 0x800,
    payload: buildIpv4({ src, dst, protocol: tcp ? 6 : 17, ttl: 64, payload: l4 }),
  });
}

interface Side {
  dp: Datapath;
  of: Ofproto;
  conn: FakeConn;
  ports: WirePort[];
}

async function side(name: string, o: { revalidateBurst?: number; clock?: () => number } = {}): Promise<Side> {
  const clock = o.clock ?? (() => 1_000_000);
  const dp = new Datapath({ name, clock });
  const conns = new FakeConnSet();
  conns.controller = true;
  const conn = new FakeConn();
  conn.missSendLen = 0xffff;
  conns.conns.push(conn);
  const of = new Ofproto({
    name,
    datapath: dp,
    datapathId: 1n,
    connections: conns,
    failMode: 'secure',
    runIntervalMs: 0,
    clock,
    packetInRatePps: 1e9,
    packetInBurst: 1e9,
    revalidateBurst: o.revalidateBurst,
    revalidateRatePerSec: o.revalidateBurst === undefined ? undefined : 0,
  });
  const ports = [1, 2, 3].map((n) => new WirePort(`${name}-w${n}`, Uint8Array.of(2, 0, 0, 0, 9, n)));
  for (const p of ports) of.addPort(await dp.addPort(p));
  await dp.start();
  of.start();
  of.handleMessage(conn, {
    type: OFPT.GROUP_MOD,
    version: 4,
    xid: 1,
    command: OFPGC.ADD,
    groupType: OFPGT.SELECT,
    groupId: 1,
    buckets: [1, 2, 3].map((p) => ({ weight: 1, watchPort: OFPP.ANY, watchGroup: 0xffffffff, actions: [output(p)] })),
  });
  return { dp, of, conn, ports };
}

function observe(s: Side, port: number, frame: Buffer): string {
  for (const p of s.ports) p.sent.length = 0;
  s.conn.sent.length = 0;
  s.ports[port]!.inject([frame]);
  const pins = s.conn.take(OFPT.PACKET_IN).map((m) => `${m.reason}/${m.tableId}/${m.cookie}/${m.data.toString('hex')}`);
  return JSON.stringify([s.ports.map((p) => p.sent.map((f) => f.toString('hex'))), pins]);
}

function ruleCounters(s: Side): string[] {
  s.of.pullStats();
  return [...s.of.tables.allRules()].map((r) => `${r.tableId}/${r.priority}/${JSON.stringify(r.oxm, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}: ${r.packetCount} ${r.byteCount}`).sort();
}

describe('revalidator differential: kept megaflows behave like fresh translations', () => {
  it('random rule changes and frames: same outputs, PACKET_INs and rule counters as flushing before every frame', async () => {
    const rng = new Prng(20261126);
    let kept = 0;
    let modified = 0;
    let deleted = 0;
    for (let round = 0; round < 8; round++) {
      const a = await side(`rva${round}`);
      const b = await side(`rvb${round}`);
      // A pool of frames sent again and again, so megaflows live across many changes.
      const frames = Array.from({ length: 24 }, () => ({ port: rng.int(3), frame: randomFrame(rng) }));
      for (let step = 0; step < 120; step++) {
        const nChanges = rng.int(4) === 0 ? 0 : 1 + rng.int(3);
        for (let c = 0; c < nChanges; c++) {
          const m = randomChange(rng);
          a.of.handleMessage(a.conn, m);
          b.of.handleMessage(b.conn, m);
        }
        for (let k = 0; k < 3; k++) {
          const f = frames[rng.int(frames.length)]!;
          b.of.revalidate(); // B: fresh translation for every frame
          const fresh = observe(b, f.port, f.frame);
          const cached = observe(a, f.port, f.frame);
          expect(cached, `round ${round} step ${step}`).toBe(fresh);
        }
      }
      expect(ruleCounters(a)).toEqual(ruleCounters(b));
      expect(a.of.counters.internalErrors).toBe(0);
      kept += a.of.counters.megaflowsRevalidated - a.of.counters.megaflowsModified - a.of.counters.megaflowsDeleted;
      modified += a.of.counters.megaflowsModified;
      deleted += a.of.counters.megaflowsDeleted;
      expect(a.of.counters.megaflowFlushes).toBe(0); // all within the work budget
      for (const s of [a, b]) {
        s.of.stop();
        await s.dp.stop();
      }
    }
    // The test exercises every outcome of a re-translation.
    expect(kept).toBeGreaterThan(100);
    expect(modified).toBeGreaterThan(50);
    expect(deleted).toBeGreaterThan(20);
  });
});

describe('revalidator: coalescing, budget, idle expiry', () => {
  const to = (port: number, dst: number): OfpMessage =>
    flowMod({ priority: 10, match: [oxm(X.ETH_TYPE, 0x800), oxm(X.IPV4_DST, 0x0a000000 | dst)], instructions: [apply(output(port))] });
  const frameTo = (dst: number): Buffer =>
    buildEthernet({
      dst: '02:00:00:00:00:02',
      src: '02:00:00:00:00:01',
      type: 0x800,
      payload: buildIpv4({ src: Uint8Array.of(10, 0, 0, 9), dst: Uint8Array.of(10, 0, 0, dst), protocol: 17, payload: buildUdp({ srcPort: 1, dstPort: 2 }, { src: Uint8Array.of(10, 0, 0, 9), dst: Uint8Array.of(10, 0, 0, dst) }) }),
    });

  it('many changes, one pass; untouched tables are not re-translated; stats go to the rule that was hit', async () => {
    const s = await side('rvc');
    for (let d = 0; d < 4; d++) s.of.handleMessage(s.conn, to(2, d));
    for (let d = 0; d < 4; d++) observe(s, 0, frameTo(d));
    expect(s.dp.stats.flows).toBe(4);
    const passes = s.of.counters.revalidations;
    // 50 FLOW_MODs in table 0 (one of them redirects 10.0.0.3 to port 3), then one frame.
    for (let i = 0; i < 49; i++) s.of.handleMessage(s.conn, flowMod({ priority: 1, match: [oxm(X.ETH_TYPE, 0x86dd)], cookie: BigInt(i) }));
    s.of.handleMessage(s.conn, to(3, 3));
    expect(s.of.revalidationPending).toBe(true);
    expect(observe(s, 0, frameTo(3))).toContain('[[],[],["02'); // out port 3 at once
    expect(s.of.counters.revalidations).toBe(passes + 1);
    expect(s.of.counters.megaflowsRevalidated).toBe(4);
    expect(s.of.counters.megaflowsModified).toBe(1);
    expect(s.dp.stats.flows).toBe(4); // kept, one changed in place
    // A change in table 1, which no megaflow looked up: nothing re-translated.
    s.of.handleMessage(s.conn, flowMod({ tableId: 1, priority: 1, match: [], instructions: [apply(output(1))] }));
    s.of.revalidatePending();
    expect(s.of.counters.megaflowsRevalidated).toBe(4);
    // The frame before the change counted for the old rule (replaced: its counters carried over), the one after for the new.
    s.of.pullStats();
    const r3 = [...s.of.tables.allRules(0)].find((r) => r.priority === 10 && JSON.stringify(r.instructions).includes('"port":3'))!;
    expect(r3.packetCount).toBe(2);
    s.of.stop();
    await s.dp.stop();
  });

  it('over the work budget: flushes instead, still correct', async () => {
    const s = await side('rvb', { revalidateBurst: 2 });
    for (let d = 0; d < 4; d++) s.of.handleMessage(s.conn, to(2, d));
    for (let d = 0; d < 4; d++) observe(s, 0, frameTo(d));
    s.of.handleMessage(s.conn, to(3, 1));
    expect(observe(s, 0, frameTo(1))).toContain('[[],[],["02');
    expect(s.of.counters.megaflowFlushes).toBe(1);
    expect(s.of.counters.megaflowsRevalidated).toBe(0);
    s.of.stop();
    await s.dp.stop();
  });

  it('run() deletes megaflows idle for maxIdleMs (10 s)', async () => {
    let now = 5_000_000;
    const s = await side('rvi', { clock: () => now });
    for (let d = 0; d < 2; d++) s.of.handleMessage(s.conn, to(2, d));
    observe(s, 0, frameTo(0));
    observe(s, 0, frameTo(1));
    now += 6_000;
    observe(s, 0, frameTo(1));
    now += 5_000;
    s.of.run();
    expect(s.dp.stats.flows).toBe(1); // 10.0.0.0's flow idle 11 s, 10.0.0.1's 5 s
    expect(s.of.counters.megaflowsExpired).toBe(1);
    s.of.pullStats();
    expect([...s.of.tables.allRules()].map((r) => r.packetCount).sort()).toEqual([1, 2]);
    s.of.stop();
    await s.dp.stop();
  });
});
