// The datapath's cached behaviour equals a fresh translation: for random
// OpenFlow rules and random frames, install the megaflow of frame p, send a
// frame q that hits it, and compare what q produced (frames per port,
// PACKET_INs) with what q produces after a flush, i.e. freshly translated.
import { describe, expect, it } from 'vitest';
import { Datapath } from '../../datapath/dpif.js';
import { buildEthernet } from '../../datapath/packet/ethernet.js';
import { buildIpv4 } from '../../datapath/packet/ipv4.js';
import { buildTcp } from '../../datapath/packet/tcp.js';
import { buildUdp } from '../../datapath/packet/udp.js';
import { Ofproto } from '../../ofproto/ofproto.js';
import type { Action } from '../../ofproto/openflow/actions.js';
import { OFPAT, OFPGC, OFPGT, OFPIT, OFPP, OFPT, OFPVID, OFPXMT as X } from '../../ofproto/openflow/constants.js';
import type { Instruction } from '../../ofproto/openflow/instructions.js';
import type { Match } from '../../ofproto/openflow/match.js';
import { oxm } from '../../ofproto/openflow/oxm.js';
import { apply, FakeConn, FakeConnSet, flowMod, gotoTable, output } from '../helpers/ofproto-fixture.js';
import { Prng } from '../helpers/prng.js';
import { WirePort } from '../helpers/wire-port.js';

const setField = (field: number, value: number | bigint | Buffer): Action => ({ type: OFPAT.SET_FIELD, field: oxm(field, value) });

function randomRule(rng: Prng): { tableId: number; priority: number; match: Match; instructions: Instruction[] } {
  const tableId = rng.int(3) === 0 ? 1 : 0;
  const match: Match = [];
  if (rng.int(2)) match.push(oxm(X.IN_PORT, 1 + rng.int(3)));
  let ip = false;
  let proto = 0;
  if (rng.int(3)) {
    ip = true;
    match.push(oxm(X.ETH_TYPE, 0x800));
    if (rng.int(2)) match.push(oxm(X.IPV4_DST, 0x0a000000 | rng.int(4), [0xffffffff, 0xfffffffe][rng.int(2)]));
    if (rng.int(2)) {
      proto = [6, 17][rng.int(2)]!;
      match.push(oxm(X.IP_PROTO, proto));
      if (rng.int(2)) match.push(oxm(proto === 6 ? X.TCP_DST : X.UDP_DST, [53, 80][rng.int(2)]!));
    }
  }
  if (rng.int(4) === 0) match.push(oxm(X.VLAN_VID, [OFPVID.NONE, OFPVID.PRESENT | 10][rng.int(2)]!));
  if (rng.int(4) === 0) match.push(oxm(X.ETH_SRC, Buffer.from([2, 0, 0, 0, 0, 1 + rng.int(2)])));
  if (tableId === 1 && rng.int(2)) match.push(oxm(X.METADATA, BigInt(rng.int(2)), 1n));
  const acts: Action[] = [];
  for (let i = 0; i < 1 + rng.int(3); i++) {
    const k = rng.int(9);
    if (k === 0) acts.push(setField(X.ETH_DST, Buffer.from([2, 0, 0, 0, 0, 1 + rng.int(3)])));
    else if (k === 1 && ip) acts.push(setField(X.IPV4_DST, 0x0a000000 | rng.int(4)));
    else if (k === 2) acts.push(setField(X.VLAN_VID, OFPVID.PRESENT | 20));
    else if (k === 3) acts.push({ type: OFPAT.POP_VLAN });
    else if (k === 4 && ip) acts.push({ type: OFPAT.DEC_NW_TTL });
    else if (k === 5) acts.push(output(OFPP.CONTROLLER, 64));
    else if (k === 6) acts.push({ type: OFPAT.GROUP, groupId: 1 });
    else if (k === 7 && proto === 17) acts.push(setField(X.UDP_SRC, 7));
    else acts.push(output([1, 2, 3, OFPP.IN_PORT, OFPP.FLOOD][rng.int(5)]!));
  }
  const instructions: Instruction[] = [apply(...acts)];
  if (tableId === 0 && rng.int(2)) instructions.push({ type: OFPIT.WRITE_METADATA, metadata: BigInt(rng.int(2)), metadataMask: 1n }, gotoTable(1));
  return { tableId, priority: rng.int(4), match, instructions };
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
    payload: buildIpv4({ src, dst, protocol: tcp ? 6 : 17, ttl: [1, 64][rng.int(2)], payload: l4 }),
  });
}

describe('megaflow differential through a real datapath', () => {
  it('a frame that hits the megaflow of another behaves exactly like a fresh translation', async () => {
    const rng = new Prng(4242);
    let hits = 0;
    for (let round = 0; round < 12; round++) {
      const dp = new Datapath({ name: `diff${round}` });
      const conns = new FakeConnSet();
      conns.controller = true;
      const conn = new FakeConn();
      conn.missSendLen = 0xffff;
      conns.conns.push(conn);
      const of = new Ofproto({ name: `diff${round}`, datapath: dp, datapathId: 1n, connections: conns, failMode: 'secure', runIntervalMs: 0 });
      const ports = [1, 2, 3].map((n) => new WirePort(`w${n}`, Uint8Array.of(2, 0, 0, 0, 9, n)));
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
      for (let i = 0; i < 20; i++) of.handleMessage(conn, flowMod(randomRule(rng)));
      conn.sent.length = 0; // errors for inconsistent random rules are fine
      const observe = (inPort: WirePort, f: Buffer): string => {
        for (const p of ports) p.sent.length = 0;
        conn.sent.length = 0;
        inPort.inject([f]);
        const pins = conn.take(OFPT.PACKET_IN).map((m) => `${m.reason}/${m.tableId}/${m.cookie}/${m.data.toString('hex')}`);
        return JSON.stringify([ports.map((p) => p.sent.map((f) => f.toString('hex'))), pins]);
      };
      for (let i = 0; i < 150; i++) {
        of.revalidate();
        const pIn = ports[rng.int(3)]!;
        observe(pIn, randomFrame(rng)); // installs p's megaflow
        const qIn = rng.int(2) ? pIn : ports[rng.int(3)]!;
        const q = randomFrame(rng);
        const before = dp.stats.megaflowHits + dp.stats.emcHits;
        const cached = observe(qIn, q);
        if (dp.stats.megaflowHits + dp.stats.emcHits === before) continue; // q missed: nothing to compare
        hits++;
        of.revalidate();
        const fresh = observe(qIn, q);
        expect(cached, `round ${round} case ${i}`).toBe(fresh);
      }
      of.stop();
      await dp.stop();
    }
    expect(hits).toBeGreaterThan(150); // 181 with this seed
  });
});
