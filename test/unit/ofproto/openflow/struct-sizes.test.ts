// Wire struct sizes, as the spec's OFP_ASSERT(sizeof(...)) lines state them
// (openflow.h of 1.3.5), checked on our encodings of minimal messages.
import { describe, expect, it } from 'vitest';
import { encodeMessage, type OfpMessage } from '../../../../ofproto/openflow/codec.js';
import { OFPAT, OFPIT, OFPMBT, OFPMP, OFPT } from '../../../../ofproto/openflow/constants.js';
import type { MultipartReplyBody, MultipartRequestBody } from '../../../../ofproto/openflow/multipart.js';
import type { OfpPort } from '../../../../ofproto/openflow/port.js';
import type { Action } from '../../../../ofproto/openflow/actions.js';
import type { Instruction } from '../../../../ofproto/openflow/instructions.js';

const b = { version: 4, xid: 1 };
const port: OfpPort = {
  portNo: 1,
  hwAddr: Buffer.alloc(6),
  name: 'p',
  config: 0,
  state: 0,
  curr: 0,
  advertised: 0,
  supported: 0,
  peer: 0,
  currSpeedKbps: 0,
  maxSpeedKbps: 0,
};
const size = (m: OfpMessage): number => encodeMessage(m).length;
const req = (body: MultipartRequestBody): number => size({ type: OFPT.MULTIPART_REQUEST, ...b, flags: 0, body }) - 16;
const rep = (body: MultipartReplyBody): number => size({ type: OFPT.MULTIPART_REPLY, ...b, flags: 0, body }) - 16;

describe('struct sizes', () => {
  it('messages with fixed parts', () => {
    // ofp_switch_features 32, ofp_switch_config 12, ofp_port_status 80, ofp_port_mod 40,
    // ofp_table_mod 16, ofp_role_request 24, ofp_async_config 32, ofp_queue_get_config_request 16.
    expect(size({ type: OFPT.FEATURES_REPLY, ...b, datapathId: 0n, nBuffers: 0, nTables: 0, auxiliaryId: 0, capabilities: 0, reserved: 0 })).toBe(32);
    expect(size({ type: OFPT.SET_CONFIG, ...b, flags: 0, missSendLen: 0 })).toBe(12);
    expect(size({ type: OFPT.PORT_STATUS, ...b, reason: 0, desc: port })).toBe(80);
    expect(size({ type: OFPT.PORT_MOD, ...b, portNo: 1, hwAddr: Buffer.alloc(6), config: 0, mask: 0, advertise: 0 })).toBe(40);
    expect(size({ type: OFPT.TABLE_MOD, ...b, tableId: 0, config: 0 })).toBe(16);
    expect(size({ type: OFPT.ROLE_REQUEST, ...b, role: 0, generationId: 0n })).toBe(24);
    expect(size({ type: OFPT.SET_ASYNC, ...b, packetInMask: [0, 0], portStatusMask: [0, 0], flowRemovedMask: [0, 0] })).toBe(32);
    expect(size({ type: OFPT.QUEUE_GET_CONFIG_REQUEST, ...b, port: 1 })).toBe(16);
    // ofp_error_msg 12, ofp_error_experimenter_msg 16, ofp_experimenter_header 16.
    expect(size({ type: OFPT.ERROR, ...b, errType: 1, errCode: 1, data: Buffer.alloc(0) })).toBe(12);
    expect(size({ type: OFPT.ERROR, ...b, errType: 0xffff, errCode: 1, experimenter: 1, data: Buffer.alloc(0) })).toBe(16);
    expect(size({ type: OFPT.EXPERIMENTER, ...b, experimenter: 1, expType: 1, data: Buffer.alloc(0) })).toBe(16);
  });

  it('messages with a match or a list (empty)', () => {
    // ofp_packet_in 32 (with an 8-byte empty match) + 2 pad; ofp_flow_removed 56;
    // ofp_packet_out 24; ofp_flow_mod 56; ofp_group_mod 16; ofp_meter_mod 16.
    expect(size({ type: OFPT.PACKET_IN, ...b, bufferId: 0, totalLen: 0, reason: 0, tableId: 0, cookie: 0n, match: [], data: Buffer.alloc(0) })).toBe(34);
    expect(
      size({
        type: OFPT.FLOW_REMOVED,
        ...b,
        cookie: 0n,
        priority: 0,
        reason: 0,
        tableId: 0,
        durationSec: 0,
        durationNsec: 0,
        idleTimeout: 0,
        hardTimeout: 0,
        packetCount: 0n,
        byteCount: 0n,
        match: [],
      }),
    ).toBe(56);
    expect(size({ type: OFPT.PACKET_OUT, ...b, bufferId: 0, inPort: 0, actions: [], data: Buffer.alloc(0) })).toBe(24);
    expect(
      size({
        type: OFPT.FLOW_MOD,
        ...b,
        cookie: 0n,
        cookieMask: 0n,
        tableId: 0,
        command: 0,
        idleTimeout: 0,
        hardTimeout: 0,
        priority: 0,
        bufferId: 0,
        outPort: 0,
        outGroup: 0,
        flags: 0,
        match: [],
        instructions: [],
      }),
    ).toBe(56);
    expect(size({ type: OFPT.GROUP_MOD, ...b, command: 0, groupType: 0, groupId: 0, buckets: [] })).toBe(16);
    // ofp_bucket 16; ofp_meter_band_drop / dscp_remark 16.
    expect(
      size({ type: OFPT.GROUP_MOD, ...b, command: 0, groupType: 0, groupId: 0, buckets: [{ weight: 0, watchPort: 0, watchGroup: 0, actions: [] }] }),
    ).toBe(32);
    expect(size({ type: OFPT.METER_MOD, ...b, command: 0, flags: 0, meterId: 0, bands: [] })).toBe(16);
    expect(size({ type: OFPT.METER_MOD, ...b, command: 0, flags: 0, meterId: 0, bands: [{ type: OFPMBT.DROP, rate: 0, burstSize: 0 }] })).toBe(32);
  });

  it('actions and instructions', () => {
    const actionsLen = (actions: Action[]): number =>
      size({ type: OFPT.PACKET_OUT, ...b, bufferId: 0, inPort: 0, actions, data: Buffer.alloc(0) }) - 24;
    expect(actionsLen([{ type: OFPAT.OUTPUT, port: 1, maxLen: 0 }])).toBe(16);
    expect(actionsLen([{ type: OFPAT.GROUP, groupId: 1 }])).toBe(8);
    expect(actionsLen([{ type: OFPAT.PUSH_VLAN, ethertype: 0x8100 }])).toBe(8);
    expect(actionsLen([{ type: OFPAT.EXPERIMENTER, experimenter: 1, data: Buffer.alloc(0) }])).toBe(8);
    const insLen = (instructions: Instruction[]): number =>
      size({
        type: OFPT.FLOW_MOD,
        ...b,
        cookie: 0n,
        cookieMask: 0n,
        tableId: 0,
        command: 0,
        idleTimeout: 0,
        hardTimeout: 0,
        priority: 0,
        bufferId: 0,
        outPort: 0,
        outGroup: 0,
        flags: 0,
        match: [],
        instructions,
      }) - 56;
    expect(insLen([{ type: OFPIT.GOTO_TABLE, tableId: 1 }])).toBe(8);
    expect(insLen([{ type: OFPIT.WRITE_METADATA, metadata: 0n, metadataMask: 0n }])).toBe(24);
    expect(insLen([{ type: OFPIT.CLEAR_ACTIONS, actions: [] }])).toBe(8);
    expect(insLen([{ type: OFPIT.METER, meterId: 1 }])).toBe(8);
  });

  it('multipart bodies', () => {
    expect(req({ mpType: OFPMP.FLOW, tableId: 0, outPort: 0, outGroup: 0, cookie: 0n, cookieMask: 0n, match: [] })).toBe(40);
    expect(req({ mpType: OFPMP.PORT_STATS, portNo: 0 })).toBe(8);
    expect(req({ mpType: OFPMP.QUEUE, portNo: 0, queueId: 0 })).toBe(8);
    expect(req({ mpType: OFPMP.GROUP, groupId: 0 })).toBe(8);
    expect(req({ mpType: OFPMP.METER, meterId: 0 })).toBe(8);
    expect(rep({ mpType: OFPMP.DESC, mfrDesc: '', hwDesc: '', swDesc: '', serialNum: '', dpDesc: '' })).toBe(1056);
    expect(rep({ mpType: OFPMP.AGGREGATE, packetCount: 0n, byteCount: 0n, flowCount: 0 })).toBe(24);
    expect(rep({ mpType: OFPMP.TABLE, tables: [{ tableId: 0, activeCount: 0, lookupCount: 0n, matchedCount: 0n }] })).toBe(24);
    const zero = 0n;
    expect(
      rep({
        mpType: OFPMP.PORT_STATS,
        ports: [
          {
            portNo: 0,
            rxPackets: zero,
            txPackets: zero,
            rxBytes: zero,
            txBytes: zero,
            rxDropped: zero,
            txDropped: zero,
            rxErrors: zero,
            txErrors: zero,
            rxFrameErr: zero,
            rxOverErr: zero,
            rxCrcErr: zero,
            collisions: zero,
            durationSec: 0,
            durationNsec: 0,
          },
        ],
      }),
    ).toBe(112);
    expect(rep({ mpType: OFPMP.QUEUE, queues: [{ portNo: 0, queueId: 0, txBytes: zero, txPackets: zero, txErrors: zero, durationSec: 0, durationNsec: 0 }] })).toBe(40);
    expect(
      rep({ mpType: OFPMP.GROUP, groups: [{ groupId: 0, refCount: 0, packetCount: zero, byteCount: zero, durationSec: 0, durationNsec: 0, bucketStats: [] }] }),
    ).toBe(40);
    expect(rep({ mpType: OFPMP.GROUP_DESC, groups: [{ groupType: 0, groupId: 0, buckets: [] }] })).toBe(8);
    expect(rep({ mpType: OFPMP.GROUP_FEATURES, types: 0, capabilities: 0, maxGroups: [0, 0, 0, 0], actions: [0, 0, 0, 0] })).toBe(40);
    expect(
      rep({ mpType: OFPMP.METER, meters: [{ meterId: 0, flowCount: 0, packetInCount: zero, byteInCount: zero, durationSec: 0, durationNsec: 0, bandStats: [] }] }),
    ).toBe(40);
    expect(rep({ mpType: OFPMP.METER_CONFIG, meters: [{ flags: 0, meterId: 0, bands: [] }] })).toBe(8);
    expect(rep({ mpType: OFPMP.METER_FEATURES, maxMeter: 0, bandTypes: 0, capabilities: 0, maxBands: 0, maxColor: 0 })).toBe(16);
    expect(
      rep({ mpType: OFPMP.TABLE_FEATURES, tables: [{ tableId: 0, name: '', metadataMatch: zero, metadataWrite: zero, config: 0, maxEntries: 0, properties: [] }] }),
    ).toBe(64);
    expect(rep({ mpType: OFPMP.PORT_DESC, ports: [port] })).toBe(64);
  });
});
