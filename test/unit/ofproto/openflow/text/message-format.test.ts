// Printing whole messages like ovs-ofctl: every reply and mod of the ovs-ofctl
// capture, printed by us, must appear verbatim in OVS's own printout of the
// same capture (the ofp-parse-pcap section of the fixture .txt) and in the
// dump commands' outputs recorded there.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeMessage, OFPMP, OFPT, type OfpMessage } from '../../../../../ofproto/openflow/index.js';
import { formatOfpMessage } from '../../../../../ofproto/openflow/text/index.js';
import { loadCorpus } from '../../../../helpers/of-corpus.js';
import { fixture } from '../../../../helpers/pcap.js';

const txt = readFileSync(fixture('openflow13-ovs-ofctl.txt'), 'utf8');
const section = (name: string): string => {
  const start = txt.indexOf(name);
  return txt.slice(start, txt.indexOf('\n## ', start + 1));
};
const parsePcap = section('## ovs-ofctl ofp-parse-pcap');
const commands = section('## commands and their output');

const PRINTED_TYPES = new Set<number>([OFPT.FLOW_MOD, OFPT.GROUP_MOD, OFPT.METER_MOD, OFPT.FEATURES_REPLY, OFPT.GET_CONFIG_REPLY, OFPT.MULTIPART_REPLY]);

describe('messages printed like ovs-ofctl', async () => {
  const { messages } = await loadCorpus('openflow13-ovs-ofctl.pcap', 16653);
  const decoded: OfpMessage[] = [];
  for (const c of messages) {
    const m = decodeMessage(Buffer.from(c.bytes));
    if (PRINTED_TYPES.has(m.type) && !(m.type === OFPT.MULTIPART_REPLY && m.body.mpType === OFPMP.TABLE_FEATURES)) decoded.push(m);
  }

  it('covers the dump replies of the capture', () => {
    const kinds = new Set(decoded.filter((m) => m.type === OFPT.MULTIPART_REPLY).map((m) => (m.type === OFPT.MULTIPART_REPLY ? m.body.mpType : -1)));
    for (const k of [OFPMP.FLOW, OFPMP.AGGREGATE, OFPMP.TABLE, OFPMP.PORT_STATS, OFPMP.PORT_DESC, OFPMP.GROUP_DESC, OFPMP.GROUP, OFPMP.METER_CONFIG, OFPMP.METER, OFPMP.DESC]) {
      expect(kinds.has(k), `multipart type ${k}`).toBe(true);
    }
  });

  it.each(decoded.map((m, i) => [`${i} ${formatOfpMessage(m).split('\n')[0]}`, m] as const))('%s', (_l, m) => {
    const ours = formatOfpMessage(m);
    expect(parsePcap.includes(`\n${ours}\n`), ours).toBe(true);
  });

  it('dump-flows, dump-groups, dump-meters, dump-ports, dump-tables, ... outputs appear in the recorded session', () => {
    const replies = decoded.filter((m) => m.type === OFPT.MULTIPART_REPLY || m.type === OFPT.FEATURES_REPLY);
    let found = 0;
    for (const m of replies) if (commands.includes(`\n${formatOfpMessage(m)}\n`)) found++;
    // Every dump command's output (the capture also holds show's internal requests).
    expect(found).toBeGreaterThanOrEqual(15);
  });
});
