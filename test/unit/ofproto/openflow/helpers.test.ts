// Small protocol helpers around the codec: hello/version negotiation, echo
// and barrier replies, ERROR from an OfpError, error names, tryDecodeMessage.
import { describe, expect, it } from 'vitest';
import {
  barrierReply,
  decodeMessage,
  echoReply,
  encodeMessage,
  errorCodeName,
  errorMsgFromError,
  errorTypeName,
  helloVersions,
  makeHello,
  negotiateVersion,
  OFPET,
  OFPT,
  OfpError,
  tryDecodeMessage,
  type HelloMsg,
} from '../../../../ofproto/openflow/index.js';

describe('hello and version negotiation', () => {
  it('makeHello encodes the bitmap OVS sends for 1.3 only', () => {
    const h = makeHello([4], 1);
    expect(encodeMessage(h).toString('hex')).toBe('04000010000000010001000800000010');
    expect(helloVersions(h)).toEqual([4]);
  });

  it('negotiates the highest common version', () => {
    const peer = decodeMessage(encodeMessage(makeHello([1, 4, 6], 9))) as HelloMsg;
    expect(peer.version).toBe(6);
    expect(negotiateVersion([4], peer)).toBe(4);
    expect(negotiateVersion([1, 4], peer)).toBe(4);
    expect(negotiateVersion([5], peer)).toBeUndefined();
    // No bitmap (OpenFlow 1.0-style hello): min of the header versions.
    const old: HelloMsg = { type: OFPT.HELLO, version: 6, xid: 1, elements: [] };
    expect(negotiateVersion([4], old)).toBe(4);
    expect(negotiateVersion([4], { ...old, version: 1 })).toBeUndefined();
  });

  it('versions beyond 31 use further bitmap words', () => {
    expect(helloVersions(makeHello([4, 33], 1))).toEqual([4, 33]);
  });
});

describe('replies and errors', () => {
  it('echo and barrier replies keep xid and payload', () => {
    expect(echoReply({ type: OFPT.ECHO_REQUEST, version: 4, xid: 7, data: Buffer.from('x') })).toEqual({
      type: OFPT.ECHO_REPLY,
      version: 4,
      xid: 7,
      data: Buffer.from('x'),
    });
    expect(barrierReply({ type: OFPT.BARRIER_REQUEST, version: 4, xid: 3 })).toEqual({ type: OFPT.BARRIER_REPLY, version: 4, xid: 3 });
  });

  it('an OfpError from decoding becomes an ERROR with the offending bytes', () => {
    const bad = Buffer.from('041e000800000005', 'hex');
    const e = tryDecodeMessage(bad);
    expect(e).toBeInstanceOf(OfpError);
    const msg = errorMsgFromError(e as OfpError, 4, 5);
    const bytes = encodeMessage(msg);
    expect(bytes.toString('hex')).toBe('0401001400000005' + '00010001' + '041e000800000005');
    expect(decodeMessage(bytes)).toEqual(msg);
  });

  it('names error types and codes', () => {
    expect(errorTypeName(OFPET.BAD_MATCH)).toBe('OFPET_BAD_MATCH');
    expect(errorCodeName(OFPET.BAD_MATCH, 9)).toBe('OFPBMC_BAD_PREREQ');
    expect(errorCodeName(OFPET.METER_MOD_FAILED, 99)).toBe('OFPMMFC_99');
    expect(errorCodeName(77, 1)).toBe('OFPET_77_1');
    expect(errorTypeName(OFPET.EXPERIMENTER)).toBe('OFPET_EXPERIMENTER');
  });
});

describe('match and field lookups', () => {
  it('finds fields by id and name', async () => {
    const { matchField, oxm, oxmFieldByName, OFPXMT } = await import('../../../../ofproto/openflow/index.js');
    const m = [oxm(OFPXMT.ETH_TYPE, 0x0800), oxm(OFPXMT.IPV4_DST, 1, 0xffffffff)];
    expect(matchField(m, OFPXMT.IPV4_DST)).toEqual(oxm(OFPXMT.IPV4_DST, 1, 0xffffffff));
    expect(matchField(m, OFPXMT.TCP_DST)).toBeUndefined();
    expect(oxmFieldByName('tcp_src')).toMatchObject({ field: OFPXMT.TCP_SRC, widthBytes: 2, maskable: true });
    expect(oxmFieldByName('in_port')).toMatchObject({ field: 0, widthBytes: 4, maskable: false });
    expect(oxmFieldByName('nope')).toBeUndefined();
  });
});
