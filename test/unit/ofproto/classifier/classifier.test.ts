import { describe, expect, it } from 'vitest';
import * as K from '../../../../datapath/flow/key.js';
import { FlowTable } from '../../../../ofproto/classifier/flow-table.js';
import { OF_WORDS, W_OF_IN_PORT, dpMaskOf, newOfFlow, ofMatchFromOxm, ofMatches } from '../../../../ofproto/classifier/of-match.js';
import { RuleTables } from '../../../../ofproto/classifier/rule-tables.js';
import { OfRule } from '../../../../ofproto/classifier/rule.js';
import { OFPAT, OFPFC, OFPFF, OFPG, OFPIT, OFPP, OFPRR, OFPTT, OFPVID, OFPXMT as X } from '../../../../ofproto/openflow/constants.js';
import type { FlowModMsg } from '../../../../ofproto/openflow/flow-mod.js';
import type { Match } from '../../../../ofproto/openflow/match.js';
import { oxm } from '../../../../ofproto/openflow/oxm.js';
import { Prng } from '../../../helpers/prng.js';

function fm(o: Partial<FlowModMsg> & { match?: Match }): FlowModMsg {
  return {
    type: 14,
    version: 4,
    xid: 1,
    cookie: 0n,
    cookieMask: 0n,
    tableId: 0,
    command: OFPFC.ADD,
    idleTimeout: 0,
    hardTimeout: 0,
    priority: 100,
    bufferId: 0xffffffff,
    outPort: OFPP.ANY,
    outGroup: OFPG.ANY,
    flags: 0,
    match: [],
    instructions: [],
    ...o,
  } as FlowModMsg;
}
const out = (port: number) => [{ type: OFPIT.APPLY_ACTIONS, actions: [{ type: OFPAT.OUTPUT, port, maxLen: 0 }] }] as FlowModMsg['instructions'];
const noValidate = (): void => {};

describe('of-match', () => {
  it('maps OXM fields onto the key layout', () => {
    const m = ofMatchFromOxm([
      oxm(X.IN_PORT, 3),
      oxm(X.ETH_TYPE, 0x0800),
      oxm(X.IP_PROTO, 6),
      oxm(X.IPV4_DST, 0x0a000000, 0xffffff00),
      oxm(X.TCP_DST, 80),
      oxm(X.VLAN_VID, OFPVID.PRESENT | 10),
      oxm(X.METADATA, 0x1_0000_0002n, 0xffff_ffff_ffff_ffffn),
      oxm(X.ETH_DST, Buffer.from('020000000001', 'hex')),
    ]);
    expect(m.value[W_OF_IN_PORT]).toBe(3);
    expect(m.value[K.W_ETH_TYPE]).toBe(0x800);
    expect(m.value[K.W_NW_PROTO_TOS_TTL_FRAG]).toBe(0x06000000);
    expect(m.mask[K.W_NW_DST]).toBe(0xffffff00);
    expect(m.value[K.W_TP_PORTS]).toBe(80);
    expect(m.mask[K.W_TP_PORTS]).toBe(0xffff);
    expect(m.value[K.W_VLAN0]).toBe(0x100a);
    expect(m.mask[K.W_VLAN0]).toBe(0x1fff);
    expect(m.value[36]).toBe(1);
    expect(m.value[37]).toBe(2);
    expect(m.value[K.W_ETH_DST_HI]).toBe(0x0200);
    expect(m.value[K.W_ETH_DST_LO]).toBe(1);
    const dp = dpMaskOf(m.mask);
    expect(dp.length).toBe(K.KEY_WORDS);
    expect(dp[K.W_IN_PORT]).toBe(0xffffffff);
    // vlan_vid=NONE means "no tag"
    const none = ofMatchFromOxm([oxm(X.VLAN_VID, OFPVID.NONE)]);
    expect(none.mask[K.W_VLAN0]).toBe(0x1fff);
    expect(none.value[K.W_VLAN0]).toBe(0);
  });

  it('rejects fields without a datapath representation', () => {
    expect(() => ofMatchFromOxm([{ kind: 'opaque', oxmClass: 0x0001, field: 5, hasMask: false, body: Buffer.alloc(4) }])).toThrow(/OFPBMC_BAD_FIELD/);
  });
  it('pbb_isid lives in the I-TAG word of a 0x88e7 frame', () => {
    const m = ofMatchFromOxm([oxm(X.ETH_TYPE, 0x88e7), oxm(X.PBB_ISID, 0x60, 0xf0)]);
    expect(m.mask[K.W_PBB_ITAG]).toBe(0xf0);
    expect(m.value[K.W_PBB_ITAG]).toBe(0x60);
  });
});

describe('FlowTable lookup', () => {
  it('returns the highest priority match and a mask that makes it stable (randomized)', () => {
    const rng = new Prng(7);
    const words = [K.W_ETH_TYPE, K.W_NW_SRC, K.W_NW_DST, K.W_TP_PORTS, W_OF_IN_PORT];
    const masks = [0xffffffff, 0xffff0000, 0xff, 0xf0f0f0f0, 0x3];
    for (let round = 0; round < 20; round++) {
      const t = new FlowTable(0, 1000);
      const rules: OfRule[] = [];
      for (let i = 0; i < 40; i++) {
        const value = newOfFlow();
        const mask = newOfFlow();
        for (const w of words) {
          if (rng.int(3) === 0) continue;
          mask[w] = masks[rng.int(masks.length)]!;
          value[w] = rng.int(4) & mask[w]!;
        }
        const r = new OfRule({ tableId: 0, priority: rng.int(10), match: { value, mask }, oxm: [], cookie: 0n, instructions: [], flags: 0, idleTimeout: 0, hardTimeout: 0, nowMs: 0 });
        if (t.findStrict(r.match, r.priority)) continue;
        t.insert(r);
        rules.push(r);
      }
      for (let p = 0; p < 200; p++) {
        const flow = newOfFlow();
        for (const w of words) flow[w] = rng.int(4);
        const wc = newOfFlow();
        const got = t.lookup(flow, wc);
        let bestPrio = -1;
        for (const r of rules) if (ofMatches(r.match, flow) && r.priority > bestPrio) bestPrio = r.priority;
        expect(got ? got.priority : -1).toBe(bestPrio);
        // Any flow that agrees on the wildcard mask must get a rule of the same priority.
        const q = newOfFlow();
        for (let i = 0; i < OF_WORDS; i++) q[i] = (flow[i]! & wc[i]!) | (rng.int(4) & ~wc[i]!);
        const got2 = t.lookup(q, null);
        expect(got2 ? got2.priority : -1).toBe(bestPrio);
        if (got && got2) expect(got2).toBe(got);
      }
      for (const r of rules) expect(t.remove(r)).toBe(true);
      expect(t.count).toBe(0);
      expect(t.subtableCount).toBe(0);
    }
  });
});

describe('RuleTables flow-mod semantics (OF1.3.5 6.4)', () => {
  const ipDst = (a: number): Match => [oxm(X.ETH_TYPE, 0x800), oxm(X.IPV4_DST, a)];

  it('ADD replaces an identical rule, keeps counters unless RESET_COUNTS', () => {
    const rt = new RuleTables();
    const [r1] = rt.flowMod(fm({ match: ipDst(1), instructions: out(1) }), 0, noValidate).added;
    r1!.packetCount = 5;
    const [r2] = rt.flowMod(fm({ match: ipDst(1), instructions: out(2) }), 0, noValidate).added;
    expect(r2!.packetCount).toBe(5);
    expect(rt.ruleCount).toBe(1);
    const [r3] = rt.flowMod(fm({ match: ipDst(1), flags: OFPFF.RESET_COUNTS }), 0, noValidate).added;
    expect(r3!.packetCount).toBe(0);
  });

  it('CHECK_OVERLAP, TABLE_FULL and BAD_TABLE_ID', () => {
    const rt = new RuleTables(2);
    rt.flowMod(fm({ match: [oxm(X.IN_PORT, 1)] }), 0, noValidate);
    expect(() => rt.flowMod(fm({ match: [oxm(X.ETH_TYPE, 0x800)], flags: OFPFF.CHECK_OVERLAP }), 0, noValidate)).toThrow(/OFPFMFC_OVERLAP/);
    rt.flowMod(fm({ match: [oxm(X.IN_PORT, 2)], flags: OFPFF.CHECK_OVERLAP }), 0, noValidate); // disjoint
    expect(() => rt.flowMod(fm({ match: [oxm(X.IN_PORT, 3)] }), 0, noValidate)).toThrow(/OFPFMFC_TABLE_FULL/);
    expect(() => rt.flowMod(fm({ tableId: 254 }), 0, noValidate)).toThrow(/OFPFMFC_BAD_TABLE_ID/);
    expect(() => rt.flowMod(fm({ tableId: OFPTT.ALL }), 0, noValidate)).toThrow(/OFPFMFC_BAD_TABLE_ID/);
  });

  it('MODIFY (non-strict, cookie filter) and MODIFY_STRICT', () => {
    const rt = new RuleTables();
    rt.flowMod(fm({ match: ipDst(1), cookie: 0x10n, priority: 5 }), 0, noValidate);
    rt.flowMod(fm({ match: ipDst(2), cookie: 0x20n, priority: 6 }), 0, noValidate);
    let r = rt.flowMod(fm({ command: OFPFC.MODIFY, match: [oxm(X.ETH_TYPE, 0x800)], instructions: out(9) }), 0, noValidate);
    expect(r.modified.length).toBe(2);
    r = rt.flowMod(fm({ command: OFPFC.MODIFY, cookie: 0x20n, cookieMask: 0xffn, instructions: out(7) }), 0, noValidate);
    expect(r.modified.map((x) => x.cookie)).toEqual([0x20n]);
    r = rt.flowMod(fm({ command: OFPFC.MODIFY_STRICT, match: ipDst(1), priority: 6 }), 0, noValidate);
    expect(r.modified.length).toBe(0); // wrong priority
    r = rt.flowMod(fm({ command: OFPFC.MODIFY_STRICT, match: ipDst(1), priority: 5 }), 0, noValidate);
    expect(r.modified.length).toBe(1);
    expect(rt.ruleCount).toBe(2); // MODIFY never adds in 1.3
  });

  it('DELETE with OFPTT_ALL, out_port filter, and DELETE_STRICT', () => {
    const rt = new RuleTables();
    rt.flowMod(fm({ match: ipDst(1), instructions: out(1) }), 0, noValidate);
    rt.flowMod(fm({ match: ipDst(2), instructions: out(2), tableId: 3 }), 0, noValidate);
    rt.flowMod(fm({ match: ipDst(3), instructions: out(2), priority: 7 }), 0, noValidate);
    let r = rt.flowMod(fm({ command: OFPFC.DELETE, tableId: OFPTT.ALL, outPort: 2 }), 0, noValidate);
    expect(r.removed.length).toBe(2);
    expect(r.removed[0]!.reason).toBe(OFPRR.DELETE);
    r = rt.flowMod(fm({ command: OFPFC.DELETE_STRICT, match: ipDst(1), priority: 99 }), 0, noValidate);
    expect(r.removed.length).toBe(0);
    r = rt.flowMod(fm({ command: OFPFC.DELETE_STRICT, match: ipDst(1), priority: 100 }), 0, noValidate);
    expect(r.removed.length).toBe(1);
    expect(rt.ruleCount).toBe(0);
  });

  it('idle and hard timeouts', () => {
    const rt = new RuleTables();
    const [idle] = rt.flowMod(fm({ match: ipDst(1), idleTimeout: 10 }), 0, noValidate).added;
    rt.flowMod(fm({ match: ipDst(2), hardTimeout: 5 }), 0, noValidate);
    expect(rt.expire(4_999)).toEqual([]);
    expect(rt.expire(5_000).map((e) => e.reason)).toEqual([OFPRR.HARD_TIMEOUT]);
    idle!.hit(1, 60, 8_000);
    expect(rt.expire(12_000)).toEqual([]);
    expect(rt.expire(18_000).map((e) => e.reason)).toEqual([OFPRR.IDLE_TIMEOUT]);
  });
});
