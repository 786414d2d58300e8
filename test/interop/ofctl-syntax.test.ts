// Live re-proof of the ovs-ofctl text syntax: every case of
// tools/ofctl-syntax-cases.ts goes through the installed ovs-ofctl now (not
// the committed fixture) and through our parser; bytes, printout and
// rejections must agree. A sample of add-flow runs also shows that
// `parse-flow`'s hex dump is exactly what add-flow puts on the wire.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, OFPMP, OFPT } from '../../ofproto/openflow/index.js';
import {
  formatFlowMod,
  formatFlowStats,
  formatGroupMod,
  formatMeterMod,
  OfctlSyntaxError,
  parseFlowMod,
  parseFlowStatsRequest,
  parseGroupMod,
  parseMeterMod,
  parsePacketOut,
} from '../../ofproto/openflow/text/index.js';
import { flowStatsReplyFor, hasOvsOfctl, OfctlEndpoint, ovsOfpPrint, ovsParseFlow, ovsParseGroup } from '../helpers/ofctl-oracle.js';
import * as C from './tools/ofctl-syntax-cases.js';

const ovs = hasOvsOfctl();
const ep = new OfctlEndpoint();

beforeAll(async () => {
  if (ovs) await ep.start();
});
afterAll(async () => {
  if (ovs) await ep.stop();
});

function rejects(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch (e) {
    if (!(e instanceof OfctlSyntaxError)) throw e;
    return true;
  }
}

function tryDecode(hex: string): ReturnType<typeof decodeMessage> | undefined {
  try {
    return decodeMessage(Buffer.from(hex, 'hex'));
  } catch {
    return undefined;
  }
}

describe.skipIf(!ovs)('ovs-ofctl text syntax, live', () => {
  it('add-flow: same bytes, same print, same rejections', () => {
    const mismatches: string[] = [];
    for (const text of [...C.GOOD_ADD_FLOWS, ...C.BAD_ADD_FLOWS, ...C.MORE_ADD_FLOWS, ...C.CONTROLLER_FLOWS]) {
      const o = ovsParseFlow(text);
      if (!o.ok) {
        if (!rejects(() => parseFlowMod(text))) mismatches.push(`accepted ${text} (ovs: ${o.error})`);
        continue;
      }
      if (C.KNOWN_UNSUPPORTED.includes(text)) {
        if (!rejects(() => parseFlowMod(text))) mismatches.push(`expected "not supported" for ${text}`);
        continue;
      }
      let ours: string;
      try {
        ours = encodeMessage(parseFlowMod(text)).toString('hex');
      } catch (e) {
        mismatches.push(`rejected ${text}: ${(e as Error).message}`);
        continue;
      }
      if (ours !== o.hex) mismatches.push(`bytes ${text}\n  ours ${ours}\n  ovs  ${o.hex}`);
      const m = tryDecode(o.hex!);
      if (m?.type === OFPT.FLOW_MOD && !o.print!.startsWith('***') && formatFlowMod(m) !== o.print) {
        mismatches.push(`print ${text}\n  ours ${formatFlowMod(m)}\n  ovs  ${o.print}`);
      }
      // And as dump-flows shows it, from a FLOW stats reply holding the flow.
      const reply = flowStatsReplyFor(o.hex!, mismatches.length + text.length);
      const r = reply ? tryDecode(reply) : undefined;
      if (reply && r?.type === OFPT.MULTIPART_REPLY && r.body.mpType === OFPMP.FLOW) {
        const ours = ` ${formatFlowStats(r.body.flows[0]!)}`;
        const theirs = ovsOfpPrint(reply);
        if (ours !== theirs && !theirs.includes('***decode error')) mismatches.push(`dump-flows ${text}\n  ours ${ours}\n  ovs  ${theirs}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('mod-flows / del-flows (--strict): same bytes as sent to a switch', async () => {
    const mismatches: string[] = [];
    for (const c of [...C.GOOD_MOD_DEL_FLOWS, ...C.BAD_MOD_DEL_FLOWS]) {
      const r = await ep.run(c.cmd === 'modify' ? 'mod-flows' : 'del-flows', c.text, c.strict ? ['--strict'] : []);
      const opts = { command: c.cmd, strict: c.strict };
      if (!r.ok) {
        if (!rejects(() => parseFlowMod(c.text, opts))) mismatches.push(`accepted ${c.cmd} ${c.text} (ovs: ${r.error})`);
        continue;
      }
      const ours = encodeMessage(parseFlowMod(c.text, opts)).toString('hex');
      if (ours !== r.hex[0]) mismatches.push(`bytes ${c.cmd} ${c.text}\n  ours ${ours}\n  ovs  ${r.hex[0]}`);
      const m = tryDecode(r.hex[0]!);
      if (m?.type === OFPT.FLOW_MOD && formatFlowMod(m) !== ovsOfpPrint(r.hex[0]!)) mismatches.push(`print ${c.text}`);
    }
    expect(mismatches).toEqual([]);
  });

  it('dump-flows / dump-aggregate filters: same request bytes', async () => {
    const mismatches: string[] = [];
    for (const text of C.DUMP_FILTERS) {
      for (const aggregate of [false, true]) {
        const r = await ep.run(aggregate ? 'dump-aggregate' : 'dump-flows', text);
        if (!r.ok) {
          if (!rejects(() => parseFlowStatsRequest(text, { aggregate }))) mismatches.push(`accepted ${text} (ovs: ${r.error})`);
          continue;
        }
        const ours = encodeMessage(parseFlowStatsRequest(text, { aggregate })).toString('hex');
        if (ours !== r.hex[0]) mismatches.push(`bytes ${aggregate ? 'dump-aggregate' : 'dump-flows'} ${text}\n  ours ${ours}\n  ovs  ${r.hex[0]}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('packet-out: same bytes, same rejections', async () => {
    const mismatches: string[] = [];
    for (const text of C.PACKET_OUTS) {
      const r = await ep.run('packet-out', text);
      if (!r.ok) {
        if (!rejects(() => parsePacketOut(text))) mismatches.push(`accepted ${text} (ovs: ${r.error})`);
        continue;
      }
      const ours = encodeMessage(parsePacketOut(text)).toString('hex');
      if (ours !== r.hex[0]) mismatches.push(`bytes ${text}\n  ours ${ours}\n  ovs  ${r.hex[0]}`);
    }
    expect(mismatches).toEqual([]);
  });

  it('parse-flow hex equals what add-flow sends', async () => {
    for (const text of C.GOOD_ADD_FLOWS.filter((_, i) => i % 25 === 0)) {
      const r = await ep.run('add-flow', text);
      expect(r.ok, text).toBe(true);
      expect(r.hex[0], text).toBe(ovsParseFlow(text).hex);
    }
  });

  it('groups: same bytes, same print, same rejections', async () => {
    const mismatches: string[] = [];
    for (const text of [...C.GOOD_GROUPS, ...C.BAD_GROUPS]) {
      const o = ovsParseGroup(text);
      if (!o.ok) {
        if (!rejects(() => parseGroupMod(text))) mismatches.push(`accepted ${text}`);
        continue;
      }
      const ours = encodeMessage(parseGroupMod(text)).toString('hex');
      if (ours !== o.hex) mismatches.push(`bytes ${text}`);
      const m = tryDecode(o.hex!);
      if (m?.type === OFPT.GROUP_MOD && formatGroupMod(m) !== o.print) mismatches.push(`print ${text}`);
    }
    for (const c of C.GROUP_MOD_DEL) {
      const r = await ep.run(c.cmd === 'modify' ? 'mod-group' : 'del-groups', c.text);
      if (!r.ok) {
        if (!rejects(() => parseGroupMod(c.text, { command: c.cmd }))) mismatches.push(`accepted ${c.cmd} ${c.text}`);
        continue;
      }
      const ours = encodeMessage(parseGroupMod(c.text, { command: c.cmd })).toString('hex');
      if (ours !== r.hex[0]) mismatches.push(`bytes ${c.cmd} ${c.text}`);
      const m = tryDecode(r.hex[0]!);
      if (m?.type === OFPT.GROUP_MOD && formatGroupMod(m) !== ovsOfpPrint(r.hex[0]!).replace(/^\n?\s*/, '')) mismatches.push(`print ${c.text}`);
    }
    expect(mismatches).toEqual([]);
  });

  it('meters: same bytes as add-meter sends, same print, same rejections', async () => {
    const mismatches: string[] = [];
    for (const text of [...C.GOOD_METERS, ...C.BAD_METERS]) {
      const r = await ep.run('add-meter', text);
      if (!r.ok) {
        if (!rejects(() => parseMeterMod(text))) mismatches.push(`accepted ${text}`);
        continue;
      }
      const ours = encodeMessage(parseMeterMod(text)).toString('hex');
      if (ours !== r.hex[0]) mismatches.push(`bytes ${text}`);
      const m = tryDecode(r.hex[0]!);
      const printed = ovsOfpPrint(r.hex[0]!);
      if (m?.type === OFPT.METER_MOD && !printed.includes('***decode error') && formatMeterMod(m) !== printed) mismatches.push(`print ${text}`);
    }
    for (const c of C.METER_MOD_DEL) {
      const r = await ep.run(c.cmd === 'modify' ? 'mod-meter' : 'del-meters', c.text);
      if (!r.ok) {
        if (!rejects(() => parseMeterMod(c.text, { command: c.cmd }))) mismatches.push(`accepted ${c.cmd} ${c.text}`);
        continue;
      }
      const ours = encodeMessage(parseMeterMod(c.text, { command: c.cmd })).toString('hex');
      if (ours !== r.hex[0]) mismatches.push(`bytes ${c.cmd} ${c.text}`);
      const m = tryDecode(r.hex[0]!);
      if (m?.type === OFPT.METER_MOD && formatMeterMod(m) !== ovsOfpPrint(r.hex[0]!)) mismatches.push(`print ${c.cmd} ${c.text}`);
    }
    expect(mismatches).toEqual([]);
  });
});
