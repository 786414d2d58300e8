// Multipart replies too big for one message are split with REPLY_MORE.
import { describe, expect, it } from 'vitest';
import {
  decodeMessage,
  encodeMessage,
  OFPMP,
  OFPMPF,
  OFPT,
  OfpError,
  splitMultipartReply,
  type FlowStats,
  type MultipartReplyMsg,
} from '../../../../ofproto/openflow/index.js';
import { ALL_INSTRUCTIONS, MATCHES } from '../../../helpers/of-samples.js';

const flow = (i: number): FlowStats => ({
  tableId: 0,
  durationSec: i,
  durationNsec: 0,
  priority: i & 0xffff,
  idleTimeout: 0,
  hardTimeout: 0,
  flags: 0,
  cookie: BigInt(i),
  packetCount: 0n,
  byteCount: 0n,
  match: MATCHES[i % MATCHES.length]!,
  instructions: i % 3 ? [] : ALL_INSTRUCTIONS,
});

describe('splitMultipartReply', () => {
  it('splits 3000 flow stats into messages under 64 KiB, REPLY_MORE on all but the last', () => {
    const m: MultipartReplyMsg = { type: OFPT.MULTIPART_REPLY, version: 4, xid: 9, flags: 0, body: { mpType: OFPMP.FLOW, flows: [] } };
    m.body = { mpType: OFPMP.FLOW, flows: Array.from({ length: 3000 }, (_, i) => flow(i)) };
    expect(() => encodeMessage(m)).toThrow(OfpError);
    const parts = splitMultipartReply(m);
    expect(parts.length).toBeGreaterThan(1);
    const flows: FlowStats[] = [];
    parts.forEach((p, i) => {
      const bytes = encodeMessage(p);
      expect(bytes.length).toBeLessThanOrEqual(0xffff);
      const back = decodeMessage(bytes) as MultipartReplyMsg;
      expect(back.xid).toBe(9);
      expect(back.flags & OFPMPF.REPLY_MORE).toBe(i < parts.length - 1 ? 1 : 0);
      if (back.body.mpType === OFPMP.FLOW) flows.push(...back.body.flows);
    });
    expect(flows).toEqual(m.body.mpType === OFPMP.FLOW ? m.body.flows : []);
  });

  it('honours a smaller limit and leaves single-record bodies alone', () => {
    const ports = Array.from({ length: 10 }, (_, i) => ({
      portNo: i,
      hwAddr: Buffer.alloc(6),
      name: `p${i}`,
      config: 0,
      state: 0,
      curr: 0,
      advertised: 0,
      supported: 0,
      peer: 0,
      currSpeedKbps: 0,
      maxSpeedKbps: 0,
    }));
    const m: MultipartReplyMsg = { type: OFPT.MULTIPART_REPLY, version: 4, xid: 1, flags: 0, body: { mpType: OFPMP.PORT_DESC, ports } };
    // 16 header + 3 * 64 = 208.
    const parts = splitMultipartReply(m, 208);
    expect(parts.map((p) => (p.body.mpType === OFPMP.PORT_DESC ? p.body.ports.length : -1))).toEqual([3, 3, 3, 1]);
    expect(() => splitMultipartReply(m, 70)).toThrow(/exceeds/);
    const agg: MultipartReplyMsg = { ...m, body: { mpType: OFPMP.AGGREGATE, packetCount: 0n, byteCount: 0n, flowCount: 0 } };
    expect(splitMultipartReply(agg)).toEqual([agg]);
  });
});
