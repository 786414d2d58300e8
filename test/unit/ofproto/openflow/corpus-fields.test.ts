// Spot-checks decoded fields of the fixture corpus against what OVS's own
// decoder printed (`ovs-ofctl ofp-parse-pcap`, in the fixtures' .txt).
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeMessage, type MessageOf, type OfpMessage } from '../../../../ofproto/openflow/codec.js';
import {
  OFPAT,
  OFPBAC,
  OFPC,
  OFPET,
  OFPFC,
  OFPFF,
  OFPGT,
  OFPIT,
  OFPMBT,
  OFPMF,
  OFPMP,
  OFPP,
  OFPPC,
  OFPPF,
  OFPPS,
  OFPR,
  OFPT,
  OFPVID,
  OFPXMT,
} from '../../../../ofproto/openflow/constants.js';
import { helloVersions } from '../../../../ofproto/openflow/hello.js';
import type { MultipartReplyBody } from '../../../../ofproto/openflow/multipart.js';
import { oxm } from '../../../../ofproto/openflow/oxm.js';
import { loadCorpus, OF_CAPTURES } from '../../../helpers/of-corpus.js';

const ip = (s: string): number => s.split('.').reduce((a, b) => a * 256 + Number(b), 0);
const mac = (s: string): Buffer => Buffer.from(s.replace(/:/g, ''), 'hex');

let ofctl: Array<{ m: OfpMessage; direction: string }> = [];
let testctl: Array<{ m: OfpMessage; direction: string }> = [];

beforeAll(async () => {
  const a = await loadCorpus(OF_CAPTURES[0].file, OF_CAPTURES[0].port);
  ofctl = a.messages.map((x) => ({ m: decodeMessage(x.bytes), direction: x.direction }));
  const b = await loadCorpus(OF_CAPTURES[1].file, OF_CAPTURES[1].port);
  testctl = b.messages.map((x) => ({ m: decodeMessage(x.bytes), direction: x.direction }));
});

function all<T extends OfpMessage['type']>(list: typeof ofctl, type: T): Array<MessageOf<T>> {
  return list.filter((x) => x.m.type === type).map((x) => x.m as MessageOf<T>);
}

function reply<M extends MultipartReplyBody['mpType']>(list: typeof ofctl, mpType: M): Array<Extract<MultipartReplyBody, { mpType: M }>> {
  return all(list, OFPT.MULTIPART_REPLY)
    .map((m) => m.body)
    .filter((b): b is Extract<MultipartReplyBody, { mpType: M }> => b.mpType === mpType);
}

describe('ovs-ofctl capture, fields as ofp-parse-pcap printed them', () => {
  it('hellos carry a version bitmap with only 1.3', () => {
    const hellos = all(ofctl, OFPT.HELLO);
    expect(hellos.length).toBe(72);
    for (const h of hellos) expect(helloVersions(h)).toEqual([4]);
  });

  it('features reply: dpid, tables, buffers, capabilities', () => {
    const [f] = all(ofctl, OFPT.FEATURES_REPLY);
    expect(f).toMatchObject({ xid: 2, datapathId: 0xd0f01n, nTables: 254, nBuffers: 0, auxiliaryId: 0 });
    expect(f!.capabilities).toBe(OFPC.FLOW_STATS | OFPC.TABLE_STATS | OFPC.PORT_STATS | OFPC.GROUP_STATS | OFPC.QUEUE_STATS);
  });

  it('port desc reply: dxo1, dxo2, LOCAL', () => {
    const replies = reply(ofctl, OFPMP.PORT_DESC);
    expect(replies.length).toBe(4);
    // Wire order is LOCAL first; ovs-ofctl sorts by port number to print.
    const ports = [...replies[0]!.ports].sort((a, b) => a.portNo - b.portNo);
    expect(ports.map((p) => [p.portNo, p.name, p.hwAddr.toString('hex')])).toEqual([
      [1, 'dxo1', '020000000f11'],
      [2, 'dxo2', '020000000f12'],
      [OFPP.LOCAL, 'dxbrof', '020000000f00'],
    ]);
    expect(ports[0]).toMatchObject({ config: 0, state: OFPPS.LIVE, curr: OFPPF['10GB_FD'] | OFPPF.COPPER, currSpeedKbps: 10_000_000, maxSpeedKbps: 0 });
    expect(ports[2]).toMatchObject({ config: OFPPC.PORT_DOWN, state: OFPPS.LINK_DOWN });
  });

  it('get-config reply and desc reply', () => {
    expect(all(ofctl, OFPT.GET_CONFIG_REPLY)[0]).toMatchObject({ flags: 0, missSendLen: 0 });
    expect(reply(ofctl, OFPMP.DESC)[0]).toEqual({
      mpType: OFPMP.DESC,
      mfrDesc: 'Nicira, Inc.',
      hwDesc: 'Open vSwitch',
      swDesc: '3.1.0',
      serialNum: 'None',
      dpDesc: 'None',
    });
  });

  it('flow mods: matches, instructions, actions', () => {
    const mods = all(ofctl, OFPT.FLOW_MOD);
    expect(mods.length).toBe(10);
    // del-flows: DEL table:255
    expect(mods[0]).toMatchObject({ command: OFPFC.DELETE, tableId: 255, match: [], instructions: [] });
    // priority=100,in_port=1,actions=output:2
    expect(mods[1]).toMatchObject({ command: OFPFC.ADD, priority: 100, match: [oxm(OFPXMT.IN_PORT, 1)] });
    expect(mods[1]!.instructions).toEqual([{ type: OFPIT.APPLY_ACTIONS, actions: [{ type: OFPAT.OUTPUT, port: 2, maxLen: 0 }] }]);
    // priority=200,ip,nw_dst=10.99.1.200 actions=group:1
    expect(mods[3]!.match).toEqual([oxm(OFPXMT.ETH_TYPE, 0x0800), oxm(OFPXMT.IPV4_DST, ip('10.99.1.200'))]);
    expect(mods[3]!.instructions).toEqual([{ type: OFPIT.APPLY_ACTIONS, actions: [{ type: OFPAT.GROUP, groupId: 1 }] }]);
    // priority=300,udp,tp_dst=5003 actions=meter:1,goto_table:1
    expect(mods[4]!.match).toEqual([oxm(OFPXMT.ETH_TYPE, 0x0800), oxm(OFPXMT.IP_PROTO, 17), oxm(OFPXMT.UDP_DST, 5003)]);
    expect(mods[4]!.instructions).toEqual([
      { type: OFPIT.METER, meterId: 1 },
      { type: OFPIT.GOTO_TABLE, tableId: 1 },
    ]);
    // table:1 priority=10,udp cookie:0x1234 actions=set_field:10.99.1.2->ip_dst,output:2
    expect(mods[5]).toMatchObject({ tableId: 1, priority: 10, cookie: 0x1234n });
    expect(mods[5]!.instructions).toEqual([
      {
        type: OFPIT.APPLY_ACTIONS,
        actions: [
          { type: OFPAT.SET_FIELD, field: oxm(OFPXMT.IPV4_DST, ip('10.99.1.2')) },
          { type: OFPAT.OUTPUT, port: 2, maxLen: 0 },
        ],
      },
    ]);
    // priority=5,tcp,tp_dst=5001 idle:30 hard:60 send_flow_rem
    expect(mods[6]).toMatchObject({ priority: 5, idleTimeout: 30, hardTimeout: 60, flags: OFPFF.SEND_FLOW_REM });
    expect(mods[6]!.match).toEqual([oxm(OFPXMT.ETH_TYPE, 0x0800), oxm(OFPXMT.IP_PROTO, 6), oxm(OFPXMT.TCP_DST, 5001)]);
    // --strict mod-flows: MOD_STRICT ... actions=output:2,LOCAL
    expect(mods[7]).toMatchObject({ command: OFPFC.MODIFY_STRICT, priority: 100 });
    expect(mods[7]!.instructions[0]).toEqual({
      type: OFPIT.APPLY_ACTIONS,
      actions: [
        { type: OFPAT.OUTPUT, port: 2, maxLen: 0 },
        { type: OFPAT.OUTPUT, port: OFPP.LOCAL, maxLen: 0 },
      ],
    });
    expect(mods[8]).toMatchObject({ command: OFPFC.DELETE_STRICT, priority: 200 });
  });

  it('group mod: select group with two weight-50 buckets', () => {
    const [g] = all(ofctl, OFPT.GROUP_MOD);
    expect(g).toMatchObject({ command: 0, groupType: OFPGT.SELECT, groupId: 1 });
    expect(g!.buckets.map((b) => [b.weight, b.actions])).toEqual([
      [50, [{ type: OFPAT.OUTPUT, port: 1, maxLen: 0 }]],
      [50, [{ type: OFPAT.OUTPUT, port: 2, maxLen: 0 }]],
    ]);
    // dump-groups shows the same group back.
    expect(reply(ofctl, OFPMP.GROUP_DESC)[0]!.groups).toEqual([{ groupType: OFPGT.SELECT, groupId: 1, buckets: g!.buckets }]);
  });

  it('meter mod: meter=1 kbps burst, drop rate=1000 burst_size=100', () => {
    const [m] = all(ofctl, OFPT.METER_MOD);
    expect(m).toMatchObject({ command: 0, meterId: 1, flags: OFPMF.KBPS | OFPMF.BURST });
    expect(m!.bands).toEqual([{ type: OFPMBT.DROP, rate: 1000, burstSize: 100 }]);
    expect(reply(ofctl, OFPMP.METER_CONFIG)[0]!.meters).toEqual([{ flags: OFPMF.KBPS | OFPMF.BURST, meterId: 1, bands: m!.bands }]);
  });

  it('OFPT_ERROR OFPBAC_BAD_OUT_GROUP carries the offending flow mod', () => {
    const [e] = all(ofctl, OFPT.ERROR);
    expect(e).toMatchObject({ xid: 2, errType: OFPET.BAD_ACTION, errCode: OFPBAC.BAD_OUT_GROUP });
    const inner = decodeMessage(e!.data);
    expect(inner.type).toBe(OFPT.FLOW_MOD);
    const fm = inner as MessageOf<typeof OFPT.FLOW_MOD>;
    expect(fm.priority).toBe(6);
    expect(fm.instructions).toEqual([{ type: OFPIT.APPLY_ACTIONS, actions: [{ type: OFPAT.GROUP, groupId: 99 }] }]);
  });

  it('stats replies: flow, aggregate, table, port, group, group features, meter, meter features, queue', () => {
    const flows = reply(ofctl, OFPMP.FLOW);
    expect(flows.map((f) => f.flows.length)).toEqual([6, 1, 5]);
    const f1 = flows[0]!.flows.find((f) => f.cookie === 0x1234n)!;
    expect(f1).toMatchObject({ tableId: 1, priority: 10, packetCount: 1n, byteCount: 156n, durationSec: 1 });
    expect(flows[0]!.flows[1]).toMatchObject({ idleTimeout: 30, hardTimeout: 60, flags: OFPFF.SEND_FLOW_REM });
    expect(reply(ofctl, OFPMP.AGGREGATE)[0]).toMatchObject({ packetCount: 43n, byteCount: 10666n, flowCount: 6 });
    const tables = reply(ofctl, OFPMP.TABLE)[0]!.tables;
    expect(tables.length).toBe(254);
    expect(tables[0]).toEqual({ tableId: 0, activeCount: 5, lookupCount: 40n, matchedCount: 40n });
    expect(tables[1]).toEqual({ tableId: 1, activeCount: 1, lookupCount: 3n, matchedCount: 3n });
    const ports = reply(ofctl, OFPMP.PORT_STATS)[0]!.ports;
    expect(ports.map((p) => p.portNo)).toEqual([OFPP.LOCAL, 1, 2]);
    expect(ports[1]).toMatchObject({ rxPackets: 20n, rxBytes: 5099n, txPackets: 20n, txBytes: 5099n, durationSec: 4 });
    const groups = reply(ofctl, OFPMP.GROUP)[0]!.groups;
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({ groupId: 1, refCount: 1, packetCount: 0n, durationSec: 3 });
    expect(groups[0]!.bucketStats).toHaveLength(2);
    const gf = reply(ofctl, OFPMP.GROUP_FEATURES)[0]!;
    expect(gf).toMatchObject({ types: 0xf, capabilities: 0x7, maxGroups: [0xffffff00, 0xffffff00, 0xffffff00, 0xffffff00] });
    expect(gf.actions[0]! & (1 << OFPAT.OUTPUT)).not.toBe(0);
    const ms = reply(ofctl, OFPMP.METER)[0]!.meters;
    expect(ms).toHaveLength(1);
    expect(ms[0]).toMatchObject({ meterId: 1, flowCount: 1, packetInCount: 3n, byteInCount: 468n, durationSec: 3 });
    expect(ms[0]!.bandStats).toEqual([{ packetBandCount: 0n, byteBandCount: 0n }]);
    expect(reply(ofctl, OFPMP.METER_FEATURES)[0]).toEqual({
      mpType: OFPMP.METER_FEATURES,
      maxMeter: 262144,
      bandTypes: 1 << OFPMBT.DROP,
      capabilities: OFPMF.KBPS | OFPMF.PKTPS | OFPMF.BURST | OFPMF.STATS,
      maxBands: 8,
      maxColor: 0,
    });
    expect(reply(ofctl, OFPMP.QUEUE)[0]!.queues).toEqual([]);
  });

  it('requests: flow stats table=1, port stats ANY, queue ANY/ALL', () => {
    const reqs = all(ofctl, OFPT.MULTIPART_REQUEST).map((m) => m.body);
    const flowReqs = reqs.filter((b) => b.mpType === OFPMP.FLOW);
    expect(flowReqs.map((b) => (b as { tableId: number }).tableId)).toEqual([255, 1, 255]);
    expect(reqs.find((b) => b.mpType === OFPMP.PORT_STATS)).toEqual({ mpType: OFPMP.PORT_STATS, portNo: OFPP.ANY });
    expect(reqs.find((b) => b.mpType === OFPMP.QUEUE)).toEqual({ mpType: OFPMP.QUEUE, portNo: OFPP.ANY, queueId: 0xffffffff });
  });

  it('packet-out, port-mod down/up, echo', () => {
    const [po] = all(ofctl, OFPT.PACKET_OUT);
    expect(po).toMatchObject({ inPort: OFPP.CONTROLLER, bufferId: 0xffffffff });
    expect(po!.actions).toEqual([{ type: OFPAT.OUTPUT, port: 2, maxLen: 0 }]);
    expect(po!.data.toString('hex')).toBe('ffffffffffff020000000f0008060001080006040001020000000f000a6301fe0000000000000a630102');
    const pm = all(ofctl, OFPT.PORT_MOD);
    expect(pm.map((m) => [m.portNo, m.hwAddr.toString('hex'), m.config, m.mask])).toEqual([
      [2, '020000000f12', OFPPC.PORT_DOWN, OFPPC.PORT_DOWN],
      [2, '020000000f12', 0, OFPPC.PORT_DOWN],
    ]);
    expect(all(ofctl, OFPT.ECHO_REQUEST)[0]!.data.length).toBe(0);
  });
});

describe('ovs-testcontroller capture', () => {
  it('set-config miss_send_len=128 and the table-miss flow to CONTROLLER:128', () => {
    expect(all(testctl, OFPT.SET_CONFIG)[0]).toMatchObject({ flags: 0, missSendLen: 128 });
    const mods = all(testctl, OFPT.FLOW_MOD);
    expect(mods.length).toBe(32);
    expect(mods[0]).toMatchObject({ priority: 0, match: [] });
    expect(mods[0]!.instructions).toEqual([
      { type: OFPIT.APPLY_ACTIONS, actions: [{ type: OFPAT.OUTPUT, port: OFPP.CONTROLLER, maxLen: 128 }] },
    ]);
  });

  it('packet-ins: in_port in the match, no_match, unbuffered', () => {
    const pins = all(testctl, OFPT.PACKET_IN);
    expect(pins.length).toBe(33);
    expect(pins[0]).toMatchObject({ reason: OFPR.NO_MATCH, totalLen: 98, bufferId: 0xffffffff, cookie: 0n, tableId: 0 });
    expect(pins[0]!.match).toEqual([oxm(OFPXMT.IN_PORT, 1)]);
    expect(pins[0]!.data.length).toBe(98);
  });

  it('learned arp flow: exact match with vlan_tci=0x0000/0x1fff, idle 60', () => {
    const mods = all(testctl, OFPT.FLOW_MOD);
    const arp = mods[1]!;
    expect(arp).toMatchObject({ priority: 1, idleTimeout: 60 });
    const byField = new Map(arp.match.map((f) => [f.kind === 'basic' ? f.field : -1, f]));
    expect(byField.get(OFPXMT.IN_PORT)).toEqual(oxm(OFPXMT.IN_PORT, 1));
    expect(byField.get(OFPXMT.VLAN_VID)).toEqual(oxm(OFPXMT.VLAN_VID, OFPVID.NONE));
    expect(byField.get(OFPXMT.ETH_SRC)).toEqual(oxm(OFPXMT.ETH_SRC, mac('02:00:00:00:0f:01')));
    expect(byField.get(OFPXMT.ETH_DST)).toEqual(oxm(OFPXMT.ETH_DST, mac('02:00:00:00:0f:02')));
    expect(byField.get(OFPXMT.ETH_TYPE)).toEqual(oxm(OFPXMT.ETH_TYPE, 0x0806));
    expect(byField.get(OFPXMT.ARP_SPA)).toEqual(oxm(OFPXMT.ARP_SPA, ip('10.99.1.1')));
    expect(byField.get(OFPXMT.ARP_TPA)).toEqual(oxm(OFPXMT.ARP_TPA, ip('10.99.1.2')));
    expect(byField.get(OFPXMT.ARP_OP)).toEqual(oxm(OFPXMT.ARP_OP, 2));
    expect(arp.instructions).toEqual([{ type: OFPIT.APPLY_ACTIONS, actions: [{ type: OFPAT.OUTPUT, port: 2, maxLen: 0 }] }]);
  });

  it('packet-outs flood the first packets', () => {
    const pos = all(testctl, OFPT.PACKET_OUT);
    expect(pos.length).toBe(33);
    expect(pos[0]).toMatchObject({ inPort: 1 });
    expect(pos[0]!.actions).toEqual([{ type: OFPAT.OUTPUT, port: OFPP.FLOOD, maxLen: 0 }]);
    expect(pos[0]!.data.length).toBe(98);
  });
});
