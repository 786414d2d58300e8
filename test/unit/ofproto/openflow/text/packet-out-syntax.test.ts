// packet-out text syntax against ovs-ofctl (fixture from the real tool, see
// test/interop/tools/gen-ofctl-syntax.ts): same PACKET_OUT bytes, same rejections.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeMessage } from '../../../../../ofproto/openflow/index.js';
import { OfctlSyntaxError, parsePacketOut } from '../../../../../ofproto/openflow/text/index.js';

const fixture = JSON.parse(readFileSync(new URL('../../../../fixtures/ofctl-syntax-ovs.json', import.meta.url), 'utf8')) as {
  packetOuts: Array<{ text: string; ok: boolean; hex?: string; error?: string }>;
};

describe('packet-out syntax vs ovs-ofctl', () => {
  it.each(fixture.packetOuts.map((c) => [c.text.replace(/[0-9a-f]{20,}/, 'PKT'), c] as const))('%s', (_l, c) => {
    if (c.ok) expect(encodeMessage(parsePacketOut(c.text)).toString('hex')).toBe(c.hex);
    else expect(() => parsePacketOut(c.text), c.error).toThrow(OfctlSyntaxError);
  });
});
