// Every message type (and multipart body) round-trips:
// construct -> encode -> decode -> deep equal -> encode equal.
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../../../ofproto/openflow/codec.js';
import { OFPAT, OFPIT, OFPMP, OFPT, OFPXMT } from '../../../../ofproto/openflow/constants.js';
import { oxm } from '../../../../ofproto/openflow/oxm.js';
import { ALL_ACTIONS, ALL_INSTRUCTIONS, MATCHES, sampleMessages } from '../../../helpers/of-samples.js';

const samples = sampleMessages();

describe('round-trip of every message type', () => {
  for (const m of samples) {
    const label = `type ${m.type}${'body' in m ? ` mp ${m.body.mpType}` : ''} xid ${m.xid}`;
    it(label, () => {
      const bytes = encodeMessage(m);
      expect(bytes.readUInt16BE(2)).toBe(bytes.length);
      const back = decodeMessage(bytes);
      expect(back).toEqual(m);
      expect(encodeMessage(back).equals(bytes)).toBe(true);
    });
  }

  it('covers all 30 message types and all 15 multipart types both ways', () => {
    const types = new Set(samples.map((m) => m.type));
    expect([...types].sort((a, b) => a - b)).toEqual(Object.values(OFPT).sort((a, b) => a - b));
    for (const t of [OFPT.MULTIPART_REQUEST, OFPT.MULTIPART_REPLY]) {
      const mp = new Set(samples.flatMap((m) => (m.type === t ? [m.body.mpType] : [])));
      expect([...mp].sort((a, b) => a - b)).toEqual(Object.values(OFPMP).sort((a, b) => a - b));
    }
  });

  it('covers all actions, instructions and the 40 basic OXM fields', () => {
    expect(new Set(ALL_ACTIONS.map((a) => a.type))).toEqual(new Set(Object.values(OFPAT)));
    expect(new Set(ALL_INSTRUCTIONS.map((i) => i.type))).toEqual(new Set(Object.values(OFPIT)));
    const fields = new Set(MATCHES.flat().flatMap((f) => (f.kind === 'basic' ? [f.field] : [])));
    expect(fields).toEqual(new Set(Object.values(OFPXMT)));
  });

  it('ignores garbage in padding and writes it back as zero', () => {
    // priority=10,udp actions=set_field:10.99.1.2->ip_dst,output:2 as ovs-ofctl sent it.
    const clean = encodeMessage({
      type: OFPT.FLOW_MOD,
      version: 4,
      xid: 2,
      cookie: 0x1234n,
      cookieMask: 0n,
      tableId: 1,
      command: 0,
      idleTimeout: 0,
      hardTimeout: 0,
      priority: 10,
      bufferId: 0xffffffff,
      outPort: 0xffffffff,
      outGroup: 0xffffffff,
      flags: 0,
      match: [oxm(OFPXMT.ETH_TYPE, 0x0800), oxm(OFPXMT.IP_PROTO, 17)],
      instructions: [
        {
          type: OFPIT.APPLY_ACTIONS,
          actions: [
            { type: OFPAT.SET_FIELD, field: oxm(OFPXMT.IPV4_DST, 0x0a630102) },
            { type: OFPAT.OUTPUT, port: 2, maxLen: 0 },
          ],
        },
      ],
    });
    const dirty = Buffer.from(clean);
    // flow_mod pad (2 bytes after flags), match padding (match is 4+6+5=15 -> 16),
    // apply_actions pad, set_field padding (4+8=12 -> 16).
    const matchAt = 8 + 40;
    dirty.fill(0xee, matchAt - 2, matchAt);
    dirty.fill(0xee, matchAt + 15, matchAt + 16);
    const insAt = matchAt + 16;
    dirty.fill(0xee, insAt + 4, insAt + 8);
    const sfAt = insAt + 8;
    dirty.fill(0xee, sfAt + 12, sfAt + 16);
    expect(dirty.equals(clean)).toBe(false);
    expect(encodeMessage(decodeMessage(dirty)).equals(clean)).toBe(true);
  });
});

describe('encodeMessageInto', () => {
  it('batches messages into one writer, and leaves it untouched on error', async () => {
    const { encodeMessageInto } = await import('../../../../ofproto/openflow/codec.js');
    const { WireWriter } = await import('../../../../ofproto/openflow/wire.js');
    const { MessageFramer } = await import('../../../../ofproto/openflow/header.js');
    const w = new WireWriter(16);
    for (const m of samples) encodeMessageInto(w, m);
    const before = w.length;
    const tooBig = { type: OFPT.ECHO_REQUEST, version: 4, xid: 1, data: Buffer.alloc(70000) } as const;
    expect(() => encodeMessageInto(w, tooBig)).toThrow(/would be/);
    expect(w.length).toBe(before);
    const framed = new MessageFramer().push(Buffer.from(w.finish()));
    expect(framed.map((b) => decodeMessage(b))).toEqual(samples);
  });
});
