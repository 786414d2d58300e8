// Errors of the text syntax: a stable code, the offending token and its
// column, a reason a person can act on; and nothing but OfctlSyntaxError ever
// escapes the parsers, whatever the input (seeded mutation fuzzing).
import { describe, expect, it } from 'vitest';
import { encodeMessage, type OfpMessage } from '../../../../../ofproto/openflow/index.js';
import { OfctlSyntaxError, parseFlowMod, parseGroupMod, parseInstructions, parseMeterMod } from '../../../../../ofproto/openflow/text/index.js';
import { Prng } from '../../../../helpers/prng.js';
import * as C from '../../../../interop/tools/ofctl-syntax-cases.js';

function errorOf(fn: () => unknown): OfctlSyntaxError {
  try {
    fn();
  } catch (e) {
    if (e instanceof OfctlSyntaxError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('syntax errors', () => {
  it.each([
    ['in_port=1,foo=2,actions=drop', 'foo', 11, /unknown keyword foo/],
    ['in_port=abc,actions=drop', 'abc', 9, /invalid or unknown port/],
    ['tcp,tp_dst=65536,actions=drop', '65536', 12, /too large/],
    ['ip,nw_src=1.2.3.4/33,actions=drop', '1.2.3.4/33', 11, /prefix bits/],
    ['dl_src=00:11:22:33:44,actions=drop', '00:11:22:33:44', 8, /invalid Ethernet address/],
    ['actions=output:1,bogus', 'bogus', 18, /unknown action bogus/],
    ['actions=drop,output:1', 'drop', 9, /"drop" must not be accompanied/],
    ['actions=goto_table:1,output:1', 'output', 22, /apply_actions must appear before goto_table/],
    ['actions=mod_nw_src:1.2.3.4', 'mod_nw_src', 9, /needs a match/],
    ['actions=set_field:5->vlan_vid', 'set_field', 9, /OFPBAC_MATCH_INCONSISTENT/],
    ['actions=set_field:1->nw_proto', 'nw_proto', 22, /read-only/],
    ['in_port=1', 'in_port=1', 1, /must specify an action/],
    ['cookie=0x5/-1,actions=drop', '0x5/-1', 8, /cookie mask/],
    ['actions=load:1->NXM_NX_REG0[]', 'load', 9, /Open vSwitch extension/],
    ['reg0=1,actions=drop', 'reg0', 1, /no OpenFlow 1.3 encoding/],
  ])('%s -> %s at column %d', (text, token, column, why) => {
    const e = errorOf(() => parseFlowMod(text));
    expect(e.code).toBe('ERR_OFCTL_SYNTAX');
    expect(e.token).toBe(token);
    expect(e.column).toBe(column);
    expect(e.message).toMatch(why);
    expect(e.message).toMatch(new RegExp(`^column ${column}: `));
  });

  it('points into the action string when given a base offset', () => {
    const e = errorOf(() => parseInstructions('output:1,frob', { base: 100 }));
    expect(e.column).toBe(110);
  });

  it('groups and meters name the token too', () => {
    expect(errorOf(() => parseGroupMod('group_id=1,type=foo')).token).toBe('foo');
    expect(errorOf(() => parseGroupMod('group_id=1,type=all,bucket=watch_port:x,actions=output:1')).column).toBe(39);
    const m = errorOf(() => parseMeterMod('meter=1,kbps,band=type=drop,rate=x'));
    expect([m.token, m.column]).toEqual(['x', 34]);
  });
});

describe('fuzzed input never throws anything but OfctlSyntaxError', () => {
  it('mutations of the corpus', () => {
    const rnd = new Prng(20261126);
    const corpus = [...C.GOOD_ADD_FLOWS, ...C.BAD_ADD_FLOWS, ...C.GOOD_GROUPS, ...C.GOOD_METERS];
    const CH = ' ,=:()/->.0123456789abcdefxX*-_\t[]"';
    const parsers: Array<(s: string) => OfpMessage> = [
      (s) => parseFlowMod(s),
      (s) => parseFlowMod(s, { command: 'modify' }),
      (s) => parseFlowMod(s, { command: 'delete', strict: true }),
      (s) => parseGroupMod(s),
      (s) => parseMeterMod(s),
    ];
    let parsed = 0;
    for (let i = 0; i < 20000; i++) {
      let s = corpus[rnd.int(corpus.length)]!;
      for (let k = rnd.int(4); k >= 0; k--) {
        const p = rnd.int(s.length + 1);
        const op = rnd.int(3);
        if (op === 0) s = s.slice(0, p) + CH[rnd.int(CH.length)] + s.slice(p);
        else if (op === 1) s = s.slice(0, p) + s.slice(p + 1);
        else s = s.slice(0, p) + corpus[rnd.int(corpus.length)]!.slice(0, 12) + s.slice(p);
      }
      for (const parse of parsers) {
        let m: OfpMessage;
        try {
          m = parse(s);
        } catch (e) {
          if (!(e instanceof OfctlSyntaxError)) throw new Error(`${JSON.stringify(s)}: ${String(e)}`);
          continue;
        }
        encodeMessage(m);
        parsed++;
      }
    }
    expect(parsed).toBeGreaterThan(1000);
  });
});

describe('printing details', () => {
  it('prints instructions in OVS order whatever their wire order (as ofp-print does)', async () => {
    const { formatFlowMod } = await import('../../../../../ofproto/openflow/text/index.js');
    const m = parseFlowMod('actions=meter:1,output:1,clear_actions,write_actions(output:2),write_metadata:0x1,goto_table:5');
    m.instructions.reverse();
    // ovs-ofctl ofp-print of these bytes says exactly this.
    expect(formatFlowMod(m)).toBe('ADD actions=meter:1,output:1,clear_actions,write_actions(output:2),write_metadata:0x1,goto_table:5');
  });
});
