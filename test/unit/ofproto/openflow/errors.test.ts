// Error mapping: malformed input yields an OfpError with the spec's
// type/code (and the offending bytes), never another exception.
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../../../ofproto/openflow/codec.js';
import { OFPBRC, OFPET, OFPMP, OFPT, OFPXMT } from '../../../../ofproto/openflow/constants.js';
import { OfpError } from '../../../../ofproto/openflow/errors.js';
import { MessageFramer } from '../../../../ofproto/openflow/header.js';
import { oxm, type Oxm } from '../../../../ofproto/openflow/oxm.js';

/** A message from hex pieces, header length filled in. */
function msg(type: number, ...hex: string[]): Buffer {
  const body = Buffer.from(hex.join('').replace(/\s+/g, ''), 'hex');
  const b = Buffer.alloc(8 + body.length);
  b[0] = 4;
  b[1] = type;
  b.writeUInt16BE(b.length, 2);
  b.writeUInt32BE(0x1234, 4);
  body.copy(b, 8);
  return b;
}

function expectError(buf: Buffer, code: string, type?: number): OfpError {
  let caught: unknown;
  try {
    decodeMessage(buf);
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${code}`).toBeInstanceOf(OfpError);
  const e = caught as OfpError;
  expect(e.code).toBe(code);
  expect(e.cause).toBeUndefined();
  if (type !== undefined) expect(e.type).toBe(type);
  expect(e.data.equals(buf)).toBe(true);
  return e;
}

/** Flow-mod fixed part: ADD, priority 1, no buffer, any port/group. */
const FM_FIXED = '0000000000000000 0000000000000000 00 00 0000 0000 0001 ffffffff ffffffff ffffffff 0000 0000';

/** A match struct from raw OXM hex, padded. */
function matchHex(oxmHex: string, type = 1): string {
  const body = Buffer.from(oxmHex.replace(/\s+/g, ''), 'hex');
  const len = 4 + body.length;
  const b = Buffer.alloc((len + 7) & ~7);
  b.writeUInt16BE(type, 0);
  b.writeUInt16BE(len, 2);
  body.copy(b, 4);
  return b.toString('hex');
}

/** A flow-mod whose match is `fields` (encoded without any checks) and apply-actions `actionsHex`. */
function flowMod(fields: Oxm[], actionsHex?: string): Buffer {
  const m = encodeMessage({
    type: OFPT.FLOW_MOD,
    version: 4,
    xid: 1,
    cookie: 0n,
    cookieMask: 0n,
    tableId: 0,
    command: 0,
    idleTimeout: 0,
    hardTimeout: 0,
    priority: 1,
    bufferId: 0xffffffff,
    outPort: 0xffffffff,
    outGroup: 0xffffffff,
    flags: 0,
    match: fields,
    instructions: [],
  });
  if (actionsHex === undefined) return m;
  const acts = Buffer.from(actionsHex.replace(/\s+/g, ''), 'hex');
  const ins = Buffer.alloc(8);
  ins.writeUInt16BE(4, 0);
  ins.writeUInt16BE(8 + acts.length, 2);
  const out = Buffer.concat([m, ins, acts]);
  out.writeUInt16BE(out.length, 2);
  return out;
}

/** A raw basic-class TLV (no validation), via the opaque form. */
function rawOxm(field: number, bodyHex: string, hasMask = false): Oxm {
  return { kind: 'opaque', oxmClass: 0x8000, field, hasMask, body: Buffer.from(bodyHex.replace(/\s+/g, ''), 'hex') };
}

describe('header and framing errors', () => {
  it('short buffer, length mismatch, bad version, unknown type', () => {
    expectError(Buffer.from('040000', 'hex'), 'OFPBRC_BAD_LEN', OFPET.BAD_REQUEST);
    const hello = msg(OFPT.HELLO);
    expectError(Buffer.concat([hello, Buffer.alloc(1)]), 'OFPBRC_BAD_LEN');
    const fr = msg(OFPT.FEATURES_REQUEST);
    fr[0] = 1;
    expectError(fr, 'OFPBRC_BAD_VERSION');
    // HELLO of another version still decodes (version negotiation needs it).
    const h1 = msg(OFPT.HELLO);
    h1[0] = 1;
    expect(decodeMessage(h1).version).toBe(1);
    expectError(msg(30), 'OFPBRC_BAD_TYPE');
    expectError(msg(200, '00'), 'OFPBRC_BAD_TYPE');
  });

  it('fixed-size messages: truncated or with trailing bytes', () => {
    expectError(msg(OFPT.FEATURES_REPLY, '00'.repeat(23)), 'OFPBRC_BAD_LEN');
    expectError(msg(OFPT.BARRIER_REQUEST, '00'), 'OFPBRC_BAD_LEN');
    expectError(msg(OFPT.SET_CONFIG, '0000'), 'OFPBRC_BAD_LEN');
    expectError(msg(OFPT.PORT_MOD, '00'.repeat(33)), 'OFPBRC_BAD_LEN');
    expectError(msg(OFPT.ROLE_REQUEST, '00'.repeat(17)), 'OFPBRC_BAD_LEN');
    expectError(msg(OFPT.FLOW_MOD, '00'.repeat(30)), 'OFPBRC_BAD_LEN');
    expectError(msg(OFPT.HELLO, '0001 0002'), 'OFPBRC_BAD_LEN');
    expectError(msg(OFPT.HELLO, '0001 0010 00000010'), 'OFPBRC_BAD_LEN');
  });

  it('multipart: unknown type, short bodies, bad record lengths', () => {
    expectError(msg(OFPT.MULTIPART_REQUEST, '000e 0000 00000000'), 'OFPBRC_BAD_MULTIPART');
    expectError(msg(OFPT.MULTIPART_REPLY, '1234 0000 00000000'), 'OFPBRC_BAD_MULTIPART');
    expectError(msg(OFPT.MULTIPART_REQUEST, '0004 0000 00000000 ffffffff'), 'OFPBRC_BAD_LEN');
    expectError(msg(OFPT.MULTIPART_REQUEST, '0000 0000 00000000 00'), 'OFPBRC_BAD_LEN');
    // flow stats record claiming 8 bytes (< 56).
    expectError(msg(OFPT.MULTIPART_REPLY, '0001 0000 00000000 0008 000000000000'), 'OFPBRC_BAD_LEN');
    // table features with length < 64.
    expectError(msg(OFPT.MULTIPART_REQUEST, '000c 0000 00000000 0010', '00'.repeat(14)), 'OFPTFFC_BAD_LEN');
  });

  it('packet-out whose actions_len runs past the message', () => {
    expectError(msg(OFPT.PACKET_OUT, 'ffffffff fffffffd 0020 000000000000 0000001000000002 0000000000000000'), 'OFPBRC_BAD_LEN');
  });

  it('OfpError names type and code, and keeps the numbers', () => {
    const e = expectError(msg(99), 'OFPBRC_BAD_TYPE');
    expect(e.typeName).toBe('OFPET_BAD_REQUEST');
    expect(e.errorCode).toBe(OFPBRC.BAD_TYPE);
    expect(e.message).toMatch(/unknown message type 99/);
  });
});

describe('match and OXM errors', () => {
  it('match type and length', () => {
    expectError(msg(OFPT.FLOW_MOD, FM_FIXED, matchHex('', 0)), 'OFPBMC_BAD_TYPE', OFPET.BAD_MATCH);
    expectError(msg(OFPT.FLOW_MOD, FM_FIXED, '0001 0002 00000000'), 'OFPBMC_BAD_LEN');
    expectError(msg(OFPT.FLOW_MOD, FM_FIXED, '0001 0040 00000000'), 'OFPBMC_BAD_LEN');
    // Match without its padding.
    expectError(msg(OFPT.FLOW_MOD, FM_FIXED, '0001 000c 80000004 00000001'.slice(0, 32)), 'OFPBMC_BAD_LEN');
    // OXM header whose payload runs past the match.
    expectError(msg(OFPT.FLOW_MOD, FM_FIXED, matchHex('80000008 00000001')), 'OFPBMC_BAD_LEN');
  });

  it('unknown field, wrong length, bad mask, bad value', () => {
    expectError(flowMod([rawOxm(40, '00000001')]), 'OFPBMC_BAD_FIELD');
    expectError(flowMod([rawOxm(127, '')]), 'OFPBMC_BAD_FIELD');
    expectError(flowMod([rawOxm(OFPXMT.IN_PORT, '0001')]), 'OFPBMC_BAD_LEN');
    expectError(flowMod([rawOxm(OFPXMT.ETH_DST, '0200000000')]), 'OFPBMC_BAD_LEN');
    expectError(flowMod([rawOxm(OFPXMT.IN_PORT, '00000001ffffffff', true)]), 'OFPBMC_BAD_MASK');
    expectError(flowMod([oxm(OFPXMT.ETH_TYPE, 0x0800), oxm(OFPXMT.IPV4_SRC, 0x0a000001, 0xffffff00)]), 'OFPBMC_BAD_WILDCARDS');
    expectError(flowMod([rawOxm(OFPXMT.VLAN_VID, '2000')]), 'OFPBMC_BAD_VALUE');
    expectError(
      flowMod([oxm(OFPXMT.VLAN_VID, 0x1001), rawOxm(OFPXMT.VLAN_PCP, '08')]),
      'OFPBMC_BAD_VALUE',
    );
    expectError(flowMod([oxm(OFPXMT.ETH_TYPE, 0x8847), rawOxm(OFPXMT.MPLS_LABEL, '00100000')]), 'OFPBMC_BAD_VALUE');
  });

  it('duplicate fields', () => {
    expectError(flowMod([oxm(OFPXMT.IN_PORT, 1), oxm(OFPXMT.IN_PORT, 2)]), 'OFPBMC_DUP_FIELD');
    const reg = { kind: 'opaque', oxmClass: 1, field: 0, hasMask: false, body: Buffer.alloc(4) } as const;
    expectError(flowMod([reg, reg]), 'OFPBMC_DUP_FIELD');
  });

  it('prerequisites', () => {
    expectError(flowMod([oxm(OFPXMT.TCP_SRC, 80)]), 'OFPBMC_BAD_PREREQ');
    expectError(flowMod([oxm(OFPXMT.ETH_TYPE, 0x0800), oxm(OFPXMT.IP_PROTO, 17), oxm(OFPXMT.TCP_DST, 80)]), 'OFPBMC_BAD_PREREQ');
    expectError(flowMod([oxm(OFPXMT.IP_PROTO, 6), oxm(OFPXMT.TCP_DST, 80)]), 'OFPBMC_BAD_PREREQ');
    expectError(flowMod([oxm(OFPXMT.ETH_TYPE, 0x86dd), oxm(OFPXMT.IPV4_DST, 1)]), 'OFPBMC_BAD_PREREQ');
    expectError(flowMod([oxm(OFPXMT.VLAN_PCP, 3)]), 'OFPBMC_BAD_PREREQ');
    expectError(flowMod([oxm(OFPXMT.VLAN_VID, 0), oxm(OFPXMT.VLAN_PCP, 3)]), 'OFPBMC_BAD_PREREQ');
    expectError(flowMod([oxm(OFPXMT.IN_PHY_PORT, 3)]), 'OFPBMC_BAD_PREREQ');
    expectError(
      flowMod([oxm(OFPXMT.ETH_TYPE, 0x86dd), oxm(OFPXMT.IP_PROTO, 58), oxm(OFPXMT.ICMPV6_TYPE, 135), oxm(OFPXMT.IPV6_ND_TLL, Buffer.alloc(6))]),
      'OFPBMC_BAD_PREREQ',
    );
    // Order does not matter; ipv6 also satisfies tcp.
    expect(() => decodeMessage(flowMod([oxm(OFPXMT.TCP_DST, 80), oxm(OFPXMT.IP_PROTO, 6), oxm(OFPXMT.ETH_TYPE, 0x86dd)]))).not.toThrow();
    // A masked prerequisite does not count.
    expectError(
      flowMod([oxm(OFPXMT.ETH_TYPE, 0x0800), rawOxm(OFPXMT.IP_PROTO, '06ff', true), oxm(OFPXMT.TCP_DST, 80)]),
      'OFPBMC_BAD_MASK',
    );
  });

  it('a multipart flow stats request is checked like a flow mod', () => {
    const m = Buffer.from(
      encodeMessage({
        type: OFPT.MULTIPART_REQUEST,
        version: 4,
        xid: 1,
        flags: 0,
        body: { mpType: OFPMP.FLOW, tableId: 255, outPort: 0xffffffff, outGroup: 0xffffffff, cookie: 0n, cookieMask: 0n, match: [oxm(OFPXMT.UDP_DST, 53)] },
      }),
    );
    expectError(m, 'OFPBMC_BAD_PREREQ');
  });
});

describe('action, instruction, bucket and band errors', () => {
  it('actions', () => {
    expectError(flowMod([], '000d0008 00000000'), 'OFPBAC_BAD_TYPE', OFPET.BAD_ACTION);
    expectError(flowMod([], '00000008 00000001'), 'OFPBAC_BAD_LEN');
    expectError(flowMod([], '0000000c 00000001 0000ffff 00000000'), 'OFPBAC_BAD_LEN');
    expectError(flowMod([], '00000018 00000001 0000000000000000'), 'OFPBAC_BAD_LEN');
    expectError(flowMod([], '00160000 00000001'), 'OFPBAC_BAD_LEN');
    // set_field: unknown field, wrong length, masked, bad value, too long.
    expectError(flowMod([], '00190010 80005a04 00000001 00000000'), 'OFPBAC_BAD_SET_TYPE');
    expectError(flowMod([], '00190010 80000002 0001 000000000000'), 'OFPBAC_BAD_SET_LEN');
    expectError(flowMod([], '00190010 80000108 00000001 ffffffff'), 'OFPBAC_BAD_SET_ARGUMENT');
    expectError(flowMod([], '00190010 80001908 0a000001 ffffffff'), 'OFPBAC_BAD_SET_ARGUMENT');
    expectError(flowMod([], '00190010 80000e01 08 00000000000000'), 'OFPBAC_BAD_SET_ARGUMENT');
    expectError(flowMod([], '00190018 80001804 0a000001 00000000 0000000000000000'), 'OFPBAC_BAD_SET_LEN');
    expectError(flowMod([], '00190008 80001804'), 'OFPBAC_BAD_SET_LEN');
  });

  it('instructions', () => {
    const withIns = (hex: string): Buffer => msg(OFPT.FLOW_MOD, FM_FIXED, matchHex(''), hex);
    expectError(withIns('00070008 00000000'), 'OFPBIC_UNKNOWN_INST', OFPET.BAD_INSTRUCTION);
    expectError(withIns('00010010 0100000000000000'), 'OFPBIC_BAD_LEN');
    expectError(withIns('00020010 0000000000000000'), 'OFPBIC_BAD_LEN');
    expectError(withIns('00050010 0000000000000000'), 'OFPBIC_BAD_LEN');
    expectError(withIns('00010004'), 'OFPBIC_BAD_LEN');
    expectError(withIns('00040010 00000000'), 'OFPBIC_BAD_LEN');
    expectError(withIns('0001'), 'OFPBIC_BAD_LEN');
  });

  it('group buckets and meter bands', () => {
    expectError(msg(OFPT.GROUP_MOD, '0000 01 00 00000001 0008 0000 ffffffff'), 'OFPGMFC_BAD_BUCKET', OFPET.GROUP_MOD_FAILED);
    expectError(msg(OFPT.GROUP_MOD, '0000 01 00 00000001 0020 0000 ffffffff ffffffff 00000000'), 'OFPBRC_BAD_LEN');
    expectError(msg(OFPT.METER_MOD, '0000 0001 00000001 0003 0010 000003e8 00000064 00000000'), 'OFPMMFC_BAD_BAND', OFPET.METER_MOD_FAILED);
    expectError(msg(OFPT.METER_MOD, '0000 0001 00000001 0001 0018 000003e8 00000064 00000000 00000000 00000000'), 'OFPMMFC_BAD_BAND');
    expectError(msg(OFPT.METER_MOD, '0000 0001 00000001 0001 0008 000003e8'), 'OFPMMFC_BAD_BAND');
  });
});

describe('MessageFramer', () => {
  const a = msg(OFPT.ECHO_REQUEST, 'aabbcc');
  const b = msg(OFPT.BARRIER_REQUEST);

  it('reassembles partial reads byte by byte', () => {
    const f = new MessageFramer();
    const stream = Buffer.concat([a, b, a]);
    const out: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) out.push(...f.push(stream.subarray(i, i + 1)));
    expect(out.map((x) => x.toString('hex'))).toEqual([a, b, a].map((x) => x.toString('hex')));
    expect(f.bufferedBytes).toBe(0);
  });

  it('returns several messages from one chunk and keeps the tail', () => {
    const f = new MessageFramer();
    const out = f.push(Buffer.concat([a, b, a.subarray(0, 5)]));
    expect(out).toHaveLength(2);
    expect(f.bufferedBytes).toBe(5);
    expect(f.push(a.subarray(5))[0]!.equals(a)).toBe(true);
  });

  it('rejects a length below 8 or above the bound, and stays failed', () => {
    const f = new MessageFramer();
    const bad = Buffer.from('0400000400000001', 'hex');
    expect(() => f.push(bad)).toThrow(OfpError);
    try {
      f.push(a);
    } catch (e) {
      expect((e as OfpError).code).toBe('OFPBRC_BAD_LEN');
    }
    // Messages before the bad header are delivered; the error comes next.
    const g = new MessageFramer();
    expect(g.push(Buffer.concat([a, b, bad]))).toHaveLength(2);
    expect(g.failure?.code).toBe('OFPBRC_BAD_LEN');
    expect(g.failure?.data.equals(bad)).toBe(true);
    expect(() => g.push(a)).toThrow(/outside 8\.\.65535/);
    const small = new MessageFramer(16);
    expect(() => small.push(msg(OFPT.ECHO_REQUEST, '00'.repeat(9)))).toThrow(/outside 8\.\.16/);
    expect(() => new MessageFramer(70000)).toThrow(RangeError);
  });
});

describe('request semantics the decoder can check', () => {
  it('flow mod command and flags', () => {
    expectError(msg(OFPT.FLOW_MOD, FM_FIXED.replace('00 00 0000 0000 0001', '00 05 0000 0000 0001'), matchHex('')), 'OFPFMFC_BAD_COMMAND');
    expectError(msg(OFPT.FLOW_MOD, FM_FIXED.replace('ffffffff 0000 0000', 'ffffffff 0020 0000'), matchHex('')), 'OFPFMFC_BAD_FLAGS');
  });

  it('group mod command and type, meter mod command and flags', () => {
    expectError(msg(OFPT.GROUP_MOD, '0003 00 00 00000001'), 'OFPGMFC_BAD_COMMAND');
    expectError(msg(OFPT.GROUP_MOD, '0000 04 00 00000001'), 'OFPGMFC_BAD_TYPE');
    expectError(msg(OFPT.METER_MOD, '0003 0001 00000001'), 'OFPMMFC_BAD_COMMAND');
    expectError(msg(OFPT.METER_MOD, '0000 0010 00000001'), 'OFPMMFC_BAD_FLAGS');
  });

  it('role request role, set-config flags', () => {
    expectError(msg(OFPT.ROLE_REQUEST, '00000004 00000000 0000000000000000'), 'OFPRRFC_BAD_ROLE');
    expectError(msg(OFPT.SET_CONFIG, '0004 0080'), 'OFPSCFC_BAD_FLAGS');
  });
});

describe('OXM checks follow Open vSwitch where the spec leaves room', () => {
  it('value outside mask wins over a non-maskable field; wide masks are accepted', () => {
    expectError(flowMod([rawOxm(OFPXMT.IN_PORT, '0000000300000001', true)]), 'OFPBMC_BAD_WILDCARDS');
    expect(() => decodeMessage(flowMod([oxm(OFPXMT.VLAN_VID, 0x1000, 0xffff)]))).not.toThrow();
  });
});
