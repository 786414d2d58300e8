// Group and meter text syntax against Open vSwitch (fixture from the real
// ovs-ofctl, see test/interop/tools/gen-ofctl-syntax.ts): same GROUP_MOD /
// METER_MOD bytes, same printout, same rejections.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, OFPT } from '../../../../../ofproto/openflow/index.js';
import { formatGroupMod, formatMeterMod, OfctlSyntaxError, parseGroupMod, parseMeterMod } from '../../../../../ofproto/openflow/text/index.js';

interface Case {
  cmd: 'add' | 'modify' | 'delete';
  text: string;
  ok: boolean;
  hex?: string;
  print?: string;
  error?: string;
}

const fixture = JSON.parse(readFileSync(new URL('../../../../fixtures/ofctl-syntax-ovs.json', import.meta.url), 'utf8')) as { groups: Case[]; meters: Case[] };

function expectSyntaxError(fn: () => unknown, ovs: string | undefined): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `OVS says: ${ovs}`).toBeInstanceOf(OfctlSyntaxError);
}

describe('group syntax vs ovs-ofctl', () => {
  const good = fixture.groups.filter((c) => c.ok);
  it.each(good.map((c) => [`${c.cmd} ${c.text}`, c] as const))('encodes and prints %s like OVS', (_t, c) => {
    expect(encodeMessage(parseGroupMod(c.text, { command: c.cmd })).toString('hex')).toBe(c.hex);
    const m = decodeMessage(Buffer.from(c.hex!, 'hex'));
    if (m.type !== OFPT.GROUP_MOD) throw new Error('not a group mod');
    expect(formatGroupMod(m)).toBe(c.print);
  });
  it.each(fixture.groups.filter((c) => !c.ok).map((c) => [`${c.cmd} ${c.text}`, c] as const))('rejects %s', (_t, c) => {
    expectSyntaxError(() => parseGroupMod(c.text, { command: c.cmd }), c.error);
  });
});

describe('meter syntax vs ovs-ofctl', () => {
  const good = fixture.meters.filter((c) => c.ok);
  it.each(good.map((c) => [`${c.cmd} ${c.text}`, c] as const))('encodes and prints %s like OVS', (_t, c) => {
    expect(encodeMessage(parseMeterMod(c.text, { command: c.cmd })).toString('hex')).toBe(c.hex);
    if (c.print!.includes('***decode error')) return;
    const m = decodeMessage(Buffer.from(c.hex!, 'hex'));
    if (m.type !== OFPT.METER_MOD) throw new Error('not a meter mod');
    expect(formatMeterMod(m)).toBe(c.print);
  });
  it.each(fixture.meters.filter((c) => !c.ok).map((c) => [`${c.cmd} ${c.text}`, c] as const))('rejects %s', (_t, c) => {
    expectSyntaxError(() => parseMeterMod(c.text, { command: c.cmd }), c.error);
  });
});
