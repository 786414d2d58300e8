// One or more hand-built OpenFlow 1.3 messages of every type and multipart
// body, with every action, instruction, OXM field, meter band, queue property
// and table-feature property somewhere among them.
import type { OfpMessage } from '../../ofproto/openflow/codec.js';
import {
  OFPAT,
  OFPCR_ROLE,
  OFPET,
  OFPFC,
  OFPFF,
  OFPG,
  OFPGC,
  OFPGT,
  OFPIT,
  OFPMBT,
  OFPMC,
  OFPMF,
  OFPMP,
  OFPP,
  OFPPR,
  OFPR,
  OFPRR,
  OFPT,
  OFPTFPT,
  OFPVID,
  OFPXMT,
  OFP_NO_BUFFER,
} from '../../ofproto/openflow/constants.js';
import type { Action } from '../../ofproto/openflow/actions.js';
import type { Instruction } from '../../ofproto/openflow/instructions.js';
import { oxm, oxmHeader, type Oxm } from '../../ofproto/openflow/oxm.js';
import type { OfpPort } from '../../ofproto/openflow/port.js';
import type { TableFeatures } from '../../ofproto/openflow/multipart.js';

const v = 4;
const mac = (s: string): Buffer => Buffer.from(s.replace(/:/g, ''), 'hex');
const ip6 = (last: number): Buffer => {
  const b = Buffer.alloc(16);
  b[0] = 0xfe;
  b[1] = 0x80;
  b[15] = last;
  return b;
};

export const ALL_ACTIONS: Action[] = [
  { type: OFPAT.OUTPUT, port: 3, maxLen: 0xffff },
  { type: OFPAT.COPY_TTL_OUT },
  { type: OFPAT.COPY_TTL_IN },
  { type: OFPAT.SET_MPLS_TTL, ttl: 63 },
  { type: OFPAT.DEC_MPLS_TTL },
  { type: OFPAT.PUSH_VLAN, ethertype: 0x8100 },
  { type: OFPAT.POP_VLAN },
  { type: OFPAT.PUSH_MPLS, ethertype: 0x8847 },
  { type: OFPAT.POP_MPLS, ethertype: 0x0800 },
  { type: OFPAT.SET_QUEUE, queueId: 7 },
  { type: OFPAT.GROUP, groupId: 42 },
  { type: OFPAT.SET_NW_TTL, ttl: 9 },
  { type: OFPAT.DEC_NW_TTL },
  { type: OFPAT.SET_FIELD, field: oxm(OFPXMT.VLAN_VID, OFPVID.PRESENT | 10) },
  { type: OFPAT.SET_FIELD, field: oxm(OFPXMT.ETH_SRC, mac('02:00:00:00:00:01')) },
  { type: OFPAT.SET_FIELD, field: oxm(OFPXMT.IPV6_DST, ip6(2)) },
  { type: OFPAT.SET_FIELD, field: oxm(OFPXMT.TUNNEL_ID, 0x1234_5678_9abc_def0n) },
  // An OVS set_field of an NXM_NX register (class 0x0001, reg0): opaque.
  { type: OFPAT.SET_FIELD, field: { kind: 'opaque', oxmClass: 0x0001, field: 0, hasMask: false, body: Buffer.from('0000002a', 'hex') } },
  { type: OFPAT.PUSH_PBB, ethertype: 0x88e7 },
  { type: OFPAT.POP_PBB },
  // Nicira NXAST_RESUBMIT_TABLE(in_port, table 1), as ovs-ofctl encodes it.
  { type: OFPAT.EXPERIMENTER, experimenter: 0x00002320, data: Buffer.from('000efff8010000000000', 'hex').subarray(0, 8) },
];

export const ALL_INSTRUCTIONS: Instruction[] = [
  { type: OFPIT.METER, meterId: 5 },
  { type: OFPIT.APPLY_ACTIONS, actions: ALL_ACTIONS },
  { type: OFPIT.CLEAR_ACTIONS, actions: [] },
  { type: OFPIT.WRITE_ACTIONS, actions: [{ type: OFPAT.OUTPUT, port: OFPP.NORMAL, maxLen: 0 }] },
  { type: OFPIT.WRITE_METADATA, metadata: 0xffn, metadataMask: 0xffffn },
  { type: OFPIT.GOTO_TABLE, tableId: 3 },
  { type: OFPIT.EXPERIMENTER, experimenter: 0x00002320, data: Buffer.from('0102030405060708', 'hex') },
];

/** Valid matches that together use all 40 basic fields (and an opaque one). */
export const MATCHES: Oxm[][] = [
  [
    oxm(OFPXMT.IN_PORT, 1),
    oxm(OFPXMT.IN_PHY_PORT, 1),
    oxm(OFPXMT.METADATA, 0x10n, 0xf0n),
    oxm(OFPXMT.ETH_DST, mac('01:00:00:00:00:00'), mac('01:00:00:00:00:00')),
    oxm(OFPXMT.ETH_SRC, mac('02:00:00:00:0f:01')),
    oxm(OFPXMT.ETH_TYPE, 0x0800),
    oxm(OFPXMT.VLAN_VID, OFPVID.PRESENT | 100, 0x1fff),
    oxm(OFPXMT.VLAN_PCP, 5),
    oxm(OFPXMT.IP_DSCP, 46),
    oxm(OFPXMT.IP_ECN, 1),
    oxm(OFPXMT.IP_PROTO, 6),
    oxm(OFPXMT.IPV4_SRC, 0x0a000000, 0xff000000),
    oxm(OFPXMT.IPV4_DST, 0x0a000001),
    oxm(OFPXMT.TCP_SRC, 0x1000, 0xf000),
    oxm(OFPXMT.TCP_DST, 80),
    oxm(OFPXMT.TUNNEL_ID, 0xdeadbeefn, 0xffffffffn),
    { kind: 'opaque', oxmClass: 0x0001, field: 1, hasMask: true, body: Buffer.from('0000000100000001', 'hex') },
  ],
  [oxm(OFPXMT.ETH_TYPE, 0x0800), oxm(OFPXMT.IP_PROTO, 17), oxm(OFPXMT.UDP_SRC, 53), oxm(OFPXMT.UDP_DST, 5353)],
  [oxm(OFPXMT.ETH_TYPE, 0x86dd), oxm(OFPXMT.IP_PROTO, 132), oxm(OFPXMT.SCTP_SRC, 1), oxm(OFPXMT.SCTP_DST, 2)],
  [oxm(OFPXMT.ETH_TYPE, 0x0800), oxm(OFPXMT.IP_PROTO, 1), oxm(OFPXMT.ICMPV4_TYPE, 8), oxm(OFPXMT.ICMPV4_CODE, 0)],
  [
    oxm(OFPXMT.ETH_TYPE, 0x0806),
    oxm(OFPXMT.ARP_OP, 1),
    oxm(OFPXMT.ARP_SPA, 0x0a000001),
    oxm(OFPXMT.ARP_TPA, 0x0a000000, 0xffffff00),
    oxm(OFPXMT.ARP_SHA, mac('02:00:00:00:00:01')),
    oxm(OFPXMT.ARP_THA, mac('00:00:00:00:00:00'), mac('ff:ff:ff:00:00:00')),
  ],
  [
    oxm(OFPXMT.ETH_TYPE, 0x86dd),
    oxm(OFPXMT.IPV6_SRC, ip6(1), Buffer.alloc(16, 0xff)),
    oxm(OFPXMT.IPV6_DST, ip6(2)),
    oxm(OFPXMT.IPV6_FLABEL, 0x12345),
    oxm(OFPXMT.IPV6_EXTHDR, 0x004, 0x1ff),
    oxm(OFPXMT.IP_PROTO, 58),
    oxm(OFPXMT.ICMPV6_TYPE, 135),
    oxm(OFPXMT.ICMPV6_CODE, 0),
    oxm(OFPXMT.IPV6_ND_TARGET, ip6(3)),
    oxm(OFPXMT.IPV6_ND_SLL, mac('02:00:00:00:00:03')),
  ],
  [oxm(OFPXMT.ETH_TYPE, 0x86dd), oxm(OFPXMT.IP_PROTO, 58), oxm(OFPXMT.ICMPV6_TYPE, 136), oxm(OFPXMT.IPV6_ND_TLL, mac('02:00:00:00:00:04'))],
  [oxm(OFPXMT.ETH_TYPE, 0x8847), oxm(OFPXMT.MPLS_LABEL, 0xfffff), oxm(OFPXMT.MPLS_TC, 7), oxm(OFPXMT.MPLS_BOS, 1)],
  [oxm(OFPXMT.ETH_TYPE, 0x88e7), oxm(OFPXMT.PBB_ISID, 0xabcd00, 0xffff00)],
  [],
];

const port = (portNo: number, name: string): OfpPort => ({
  portNo,
  hwAddr: mac('02:00:00:00:0f:11'),
  name,
  config: 0,
  state: 4,
  curr: 0x840,
  advertised: 0,
  supported: 0,
  peer: 0,
  currSpeedKbps: 10_000_000,
  maxSpeedKbps: 0,
});

const tableFeatures: TableFeatures = {
  tableId: 0,
  name: 'classifier',
  metadataMatch: 0xffffffffffffffffn,
  metadataWrite: 0xffffffffffffffffn,
  config: 3,
  maxEntries: 1_000_000,
  properties: [
    {
      kind: 'instructions',
      type: OFPTFPT.INSTRUCTIONS,
      ids: [1, 2, 3, 4, 5, 6].map((t) => ({ type: t, data: Buffer.alloc(0) })),
    },
    { kind: 'instructions', type: OFPTFPT.INSTRUCTIONS_MISS, ids: [{ type: 0xffff, data: Buffer.from('00002320', 'hex') }] },
    { kind: 'nextTables', type: OFPTFPT.NEXT_TABLES, tableIds: [1, 2, 3] },
    { kind: 'nextTables', type: OFPTFPT.NEXT_TABLES_MISS, tableIds: [] },
    { kind: 'actions', type: OFPTFPT.WRITE_ACTIONS, ids: [0, 22, 25].map((t) => ({ type: t, data: Buffer.alloc(0) })) },
    { kind: 'actions', type: OFPTFPT.WRITE_ACTIONS_MISS, ids: [] },
    { kind: 'actions', type: OFPTFPT.APPLY_ACTIONS, ids: [{ type: 0, data: Buffer.alloc(0) }] },
    { kind: 'actions', type: OFPTFPT.APPLY_ACTIONS_MISS, ids: [{ type: 0xffff, data: Buffer.from('00002320', 'hex') }] },
    { kind: 'oxm', type: OFPTFPT.MATCH, ids: [{ header: oxmHeader(OFPXMT.IN_PORT) }, { header: oxmHeader(OFPXMT.METADATA, true) }] },
    { kind: 'oxm', type: OFPTFPT.WILDCARDS, ids: [{ header: oxmHeader(OFPXMT.IN_PORT) }] },
    { kind: 'oxm', type: OFPTFPT.WRITE_SETFIELD, ids: [{ header: oxmHeader(OFPXMT.ETH_DST) }] },
    { kind: 'oxm', type: OFPTFPT.WRITE_SETFIELD_MISS, ids: [{ header: 0xffff0004 >>> 0, experimenter: 0x00002320 }] },
    { kind: 'oxm', type: OFPTFPT.APPLY_SETFIELD, ids: [{ header: oxmHeader(OFPXMT.IPV4_DST) }] },
    { kind: 'oxm', type: OFPTFPT.APPLY_SETFIELD_MISS, ids: [] },
    { kind: 'experimenter', type: OFPTFPT.EXPERIMENTER, experimenter: 0x2320, expType: 1, data: Buffer.from('00000001', 'hex') },
    { kind: 'experimenter', type: OFPTFPT.EXPERIMENTER_MISS, experimenter: 0x2320, expType: 2, data: Buffer.alloc(0) },
  ],
};

export function sampleMessages(): OfpMessage[] {
  let xid = 100;
  const b = () => ({ version: v, xid: xid++ });
  const flowMod = (match: Oxm[], instructions: Instruction[]): OfpMessage => ({
    type: OFPT.FLOW_MOD,
    ...b(),
    cookie: 0x1234n,
    cookieMask: 0n,
    tableId: 0,
    command: OFPFC.ADD,
    idleTimeout: 10,
    hardTimeout: 20,
    priority: 1000,
    bufferId: OFP_NO_BUFFER,
    outPort: OFPP.ANY,
    outGroup: OFPG.ANY,
    flags: OFPFF.SEND_FLOW_REM | OFPFF.CHECK_OVERLAP,
    match,
    instructions,
  });
  const msgs: OfpMessage[] = [
    { type: OFPT.HELLO, ...b(), elements: [] },
    {
      type: OFPT.HELLO,
      ...b(),
      elements: [
        { kind: 'versionBitmap', bitmaps: [0x12] },
        { kind: 'opaque', type: 99, data: Buffer.from('abc') },
      ],
    },
    { type: OFPT.ERROR, ...b(), errType: OFPET.BAD_MATCH, errCode: 10, data: Buffer.from('0400000800000001', 'hex') },
    { type: OFPT.ERROR, ...b(), errType: OFPET.EXPERIMENTER, errCode: 7, experimenter: 0x2320, data: Buffer.from('xyz') },
    { type: OFPT.ECHO_REQUEST, ...b(), data: Buffer.from('ping') },
    { type: OFPT.ECHO_REPLY, ...b(), data: Buffer.alloc(0) },
    { type: OFPT.EXPERIMENTER, ...b(), experimenter: 0x2320, expType: 20, data: Buffer.from('0000000000000000', 'hex') },
    { type: OFPT.FEATURES_REQUEST, ...b() },
    {
      type: OFPT.FEATURES_REPLY,
      ...b(),
      datapathId: 0x00000000000d0f01n,
      nBuffers: 0,
      nTables: 254,
      auxiliaryId: 0,
      capabilities: 0x4f,
      reserved: 0,
    },
    { type: OFPT.GET_CONFIG_REQUEST, ...b() },
    { type: OFPT.GET_CONFIG_REPLY, ...b(), flags: 0, missSendLen: 0xffff },
    { type: OFPT.SET_CONFIG, ...b(), flags: 2, missSendLen: 128 },
    {
      type: OFPT.PACKET_IN,
      ...b(),
      bufferId: OFP_NO_BUFFER,
      totalLen: 60,
      reason: OFPR.ACTION,
      tableId: 3,
      cookie: 0xffffffffffffffffn,
      match: [oxm(OFPXMT.IN_PORT, 2), oxm(OFPXMT.METADATA, 5n), oxm(OFPXMT.TUNNEL_ID, 9n)],
      data: Buffer.alloc(60, 0xab),
    },
    {
      type: OFPT.FLOW_REMOVED,
      ...b(),
      cookie: 1n,
      priority: 5,
      reason: OFPRR.IDLE_TIMEOUT,
      tableId: 0,
      durationSec: 30,
      durationNsec: 5000,
      idleTimeout: 30,
      hardTimeout: 0,
      packetCount: 10n,
      byteCount: 1000n,
      match: MATCHES[1]!,
    },
    { type: OFPT.PORT_STATUS, ...b(), reason: OFPPR.MODIFY, desc: port(1, 'eth1') },
    {
      type: OFPT.PACKET_OUT,
      ...b(),
      bufferId: OFP_NO_BUFFER,
      inPort: OFPP.CONTROLLER,
      actions: ALL_ACTIONS,
      data: Buffer.alloc(42, 1),
    },
    { type: OFPT.PACKET_OUT, ...b(), bufferId: 77, inPort: 1, actions: [], data: Buffer.alloc(0) },
    ...MATCHES.map((m) => flowMod(m, ALL_INSTRUCTIONS)),
    {
      type: OFPT.GROUP_MOD,
      ...b(),
      command: OFPGC.ADD,
      groupType: OFPGT.FF,
      groupId: 7,
      buckets: [
        { weight: 0, watchPort: 1, watchGroup: OFPG.ANY, actions: [{ type: OFPAT.OUTPUT, port: 1, maxLen: 0 }] },
        { weight: 0, watchPort: 2, watchGroup: OFPG.ANY, actions: [] },
      ],
    },
    { type: OFPT.GROUP_MOD, ...b(), command: OFPGC.DELETE, groupType: OFPGT.ALL, groupId: OFPG.ALL, buckets: [] },
    {
      type: OFPT.PORT_MOD,
      ...b(),
      portNo: 2,
      hwAddr: mac('02:00:00:00:0f:12'),
      config: 1,
      mask: 1,
      advertise: 0,
    },
    { type: OFPT.TABLE_MOD, ...b(), tableId: 0xff, config: 3 },
    { type: OFPT.BARRIER_REQUEST, ...b() },
    { type: OFPT.BARRIER_REPLY, ...b() },
    { type: OFPT.QUEUE_GET_CONFIG_REQUEST, ...b(), port: OFPP.ANY },
    {
      type: OFPT.QUEUE_GET_CONFIG_REPLY,
      ...b(),
      port: 1,
      queues: [
        {
          queueId: 1,
          port: 1,
          properties: [
            { kind: 'minRate', rate: 100 },
            { kind: 'maxRate', rate: 1001 },
            { kind: 'experimenter', experimenter: 0x2320, data: Buffer.from('0000000100000002', 'hex') },
          ],
        },
        { queueId: 2, port: 1, properties: [] },
      ],
    },
    { type: OFPT.ROLE_REQUEST, ...b(), role: OFPCR_ROLE.MASTER, generationId: 12n },
    { type: OFPT.ROLE_REPLY, ...b(), role: OFPCR_ROLE.SLAVE, generationId: 0xffffffffffffffffn },
    { type: OFPT.GET_ASYNC_REQUEST, ...b() },
    { type: OFPT.GET_ASYNC_REPLY, ...b(), packetInMask: [3, 0], portStatusMask: [7, 7], flowRemovedMask: [15, 0] },
    { type: OFPT.SET_ASYNC, ...b(), packetInMask: [1, 1], portStatusMask: [0, 0], flowRemovedMask: [0, 15] },
    {
      type: OFPT.METER_MOD,
      ...b(),
      command: OFPMC.ADD,
      flags: OFPMF.PKTPS | OFPMF.BURST | OFPMF.STATS,
      meterId: 3,
      bands: [
        { type: OFPMBT.DROP, rate: 1000, burstSize: 100 },
        { type: OFPMBT.DSCP_REMARK, rate: 500, burstSize: 50, precLevel: 2 },
        { type: OFPMBT.EXPERIMENTER, rate: 1, burstSize: 2, experimenter: 0x2320, data: Buffer.from('0000000000000001', 'hex') },
      ],
    },
    { type: OFPT.METER_MOD, ...b(), command: OFPMC.DELETE, flags: 0, meterId: 0xffffffff, bands: [] },
  ];

  // Multipart requests.
  const req = (body: Extract<OfpMessage, { type: typeof OFPT.MULTIPART_REQUEST }>['body'], flags = 0): OfpMessage => ({
    type: OFPT.MULTIPART_REQUEST,
    ...b(),
    flags,
    body,
  });
  msgs.push(
    req({ mpType: OFPMP.DESC }),
    req({ mpType: OFPMP.FLOW, tableId: 0xff, outPort: OFPP.ANY, outGroup: OFPG.ANY, cookie: 0n, cookieMask: 0n, match: [] }),
    req({ mpType: OFPMP.AGGREGATE, tableId: 1, outPort: 2, outGroup: 3, cookie: 4n, cookieMask: 0xffn, match: MATCHES[3]! }),
    req({ mpType: OFPMP.TABLE }),
    req({ mpType: OFPMP.PORT_STATS, portNo: OFPP.ANY }),
    req({ mpType: OFPMP.QUEUE, portNo: OFPP.ANY, queueId: 0xffffffff }),
    req({ mpType: OFPMP.GROUP, groupId: OFPG.ALL }),
    req({ mpType: OFPMP.GROUP_DESC }),
    req({ mpType: OFPMP.GROUP_FEATURES }),
    req({ mpType: OFPMP.METER, meterId: 0xffffffff }),
    req({ mpType: OFPMP.METER_CONFIG, meterId: 1 }),
    req({ mpType: OFPMP.METER_FEATURES }),
    req({ mpType: OFPMP.TABLE_FEATURES, tables: [] }),
    req({ mpType: OFPMP.TABLE_FEATURES, tables: [tableFeatures] }, 1),
    req({ mpType: OFPMP.PORT_DESC }),
    req({ mpType: OFPMP.EXPERIMENTER, experimenter: 0x2320, expType: 5, data: Buffer.from('hello') }),
  );

  const rep = (body: Extract<OfpMessage, { type: typeof OFPT.MULTIPART_REPLY }>['body'], flags = 0): OfpMessage => ({
    type: OFPT.MULTIPART_REPLY,
    ...b(),
    flags,
    body,
  });
  msgs.push(
    rep({ mpType: OFPMP.DESC, mfrDesc: 'tsvs', hwDesc: 'tsvs', swDesc: '0.1.0', serialNum: 'None', dpDesc: 'br0' }),
    rep(
      {
        mpType: OFPMP.FLOW,
        flows: MATCHES.map((match, i) => ({
          tableId: i,
          durationSec: i,
          durationNsec: 1000 * i,
          priority: 100 + i,
          idleTimeout: 0,
          hardTimeout: 0,
          flags: 0,
          cookie: BigInt(i),
          packetCount: 5n,
          byteCount: 500n,
          match,
          instructions: i % 2 ? ALL_INSTRUCTIONS : [],
        })),
      },
      1,
    ),
    rep({ mpType: OFPMP.AGGREGATE, packetCount: 43n, byteCount: 10666n, flowCount: 6 }),
    rep({
      mpType: OFPMP.TABLE,
      tables: [0, 1, 2].map((t) => ({ tableId: t, activeCount: t, lookupCount: 40n, matchedCount: 30n })),
    }),
    rep({
      mpType: OFPMP.PORT_STATS,
      ports: [1, 2].map((p) => ({
        portNo: p,
        rxPackets: 1n,
        txPackets: 2n,
        rxBytes: 3n,
        txBytes: 4n,
        rxDropped: 5n,
        txDropped: 6n,
        rxErrors: 7n,
        txErrors: 8n,
        rxFrameErr: 9n,
        rxOverErr: 10n,
        rxCrcErr: 11n,
        collisions: 12n,
        durationSec: 13,
        durationNsec: 14,
      })),
    }),
    rep({
      mpType: OFPMP.QUEUE,
      queues: [{ portNo: 1, queueId: 0, txBytes: 1n, txPackets: 2n, txErrors: 3n, durationSec: 4, durationNsec: 5 }],
    }),
    rep({
      mpType: OFPMP.GROUP,
      groups: [
        {
          groupId: 1,
          refCount: 1,
          packetCount: 0n,
          byteCount: 0n,
          durationSec: 3,
          durationNsec: 547000000,
          bucketStats: [
            { packetCount: 1n, byteCount: 2n },
            { packetCount: 3n, byteCount: 4n },
          ],
        },
        { groupId: 2, refCount: 0, packetCount: 0n, byteCount: 0n, durationSec: 0, durationNsec: 0, bucketStats: [] },
      ],
    }),
    rep({
      mpType: OFPMP.GROUP_DESC,
      groups: [
        {
          groupType: OFPGT.SELECT,
          groupId: 1,
          buckets: [{ weight: 50, watchPort: OFPP.ANY, watchGroup: OFPG.ANY, actions: ALL_ACTIONS.slice(0, 3) }],
        },
        { groupType: OFPGT.INDIRECT, groupId: 2, buckets: [] },
      ],
    }),
    rep({
      mpType: OFPMP.GROUP_FEATURES,
      types: 0xf,
      capabilities: 0x7,
      maxGroups: [0xffffff00, 0xffffff00, 0xffffff00, 0xffffff00],
      actions: [0x3ff0001, 0x3ff0001, 0x3ff0001, 0x3ff0001],
    }),
    rep({
      mpType: OFPMP.METER,
      meters: [
        {
          meterId: 1,
          flowCount: 1,
          packetInCount: 3n,
          byteInCount: 468n,
          durationSec: 3,
          durationNsec: 734000000,
          bandStats: [{ packetBandCount: 0n, byteBandCount: 0n }],
        },
      ],
    }),
    rep({
      mpType: OFPMP.METER_CONFIG,
      meters: [
        { flags: OFPMF.KBPS | OFPMF.BURST, meterId: 1, bands: [{ type: OFPMBT.DROP, rate: 1000, burstSize: 100 }] },
        { flags: OFPMF.PKTPS, meterId: 2, bands: [{ type: OFPMBT.DSCP_REMARK, rate: 10, burstSize: 0, precLevel: 1 }] },
      ],
    }),
    rep({ mpType: OFPMP.METER_FEATURES, maxMeter: 262144, bandTypes: 2, capabilities: 0xf, maxBands: 8, maxColor: 0 }),
    rep({ mpType: OFPMP.TABLE_FEATURES, tables: [tableFeatures, { ...tableFeatures, tableId: 1, name: 'table1', properties: [] }] }),
    rep({ mpType: OFPMP.PORT_DESC, ports: [port(1, 'dxo1'), port(OFPP.LOCAL, 'a-fifteen-chars')] }),
    rep({ mpType: OFPMP.EXPERIMENTER, experimenter: 0x2320, expType: 5, data: Buffer.alloc(0) }),
  );
  return msgs;
}
