// Byte-for-byte corpus: every OpenFlow message OVS, ovs-ofctl and
// ovs-testcontroller exchanged in the fixture captures decodes and re-encodes
// to identical bytes.
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../../../ofproto/openflow/codec.js';
import { loadCorpus, OF_CAPTURES } from '../../../helpers/of-corpus.js';

describe('OpenFlow 1.3 corpus round-trip', () => {
  for (const cap of OF_CAPTURES) {
    it(`${cap.file}: ${cap.expected} messages decode and re-encode identically`, async () => {
      const { messages, stats } = await loadCorpus(cap.file, cap.port);
      expect(stats.gapBytes).toBe(0);
      expect(stats.leftoverBytes).toBe(0);
      expect(messages.length).toBe(cap.expected);
      for (const m of messages) {
        const where = `${m.file} ${m.peerPort} ${m.direction} #${m.index} ${m.bytes.toString('hex')}`;
        let decoded;
        try {
          decoded = decodeMessage(m.bytes);
        } catch (e) {
          throw new Error(`${where}: ${(e as Error).message}`);
        }
        expect(encodeMessage(decoded).toString('hex'), where).toBe(m.bytes.toString('hex'));
      }
    });
  }
});
