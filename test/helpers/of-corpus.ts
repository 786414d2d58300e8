// The OpenFlow 1.3 message corpus of the fixture captures: every message of
// every connection and direction, framed with the codec's MessageFramer.
import { MessageFramer } from '../../ofproto/openflow/header.js';
import { fixture, readPcap } from './pcap.js';
import { tcpStreams } from './tcp-streams.js';

export interface CorpusMessage {
  file: string;
  /** Client-side port: one connection per port. */
  peerPort: number;
  /** c2s = towards the listening port (as in of_extract.py). */
  direction: 'c2s' | 's2c';
  /** Index of the message within its stream. */
  index: number;
  bytes: Buffer;
}

export const OF_CAPTURES = [
  { file: 'openflow13-ovs-ofctl.pcap', port: 16653, expected: 162 },
  { file: 'openflow13-ovs-testcontroller.pcap', port: 16654, expected: 109 },
] as const;

export interface CorpusStats {
  streams: number;
  gapBytes: number;
  duplicateSegments: number;
  leftoverBytes: number;
}

export async function loadCorpus(file: string, port: number): Promise<{ messages: CorpusMessage[]; stats: CorpusStats }> {
  const pcap = await readPcap(fixture(file));
  const streams = tcpStreams(pcap.packets).filter((s) => s.src.port === port || s.dst.port === port);
  const messages: CorpusMessage[] = [];
  const stats: CorpusStats = { streams: streams.length, gapBytes: 0, duplicateSegments: 0, leftoverBytes: 0 };
  for (const s of streams) {
    stats.gapBytes += s.gapBytes;
    stats.duplicateSegments += s.duplicateSegments;
    const framer = new MessageFramer();
    // Feed in uneven pieces to exercise reassembly of partial reads.
    const pieces: Buffer[] = [];
    for (let off = 0, n = 1; off < s.data.length; off += n, n = (n * 7 + 3) % 61 + 1) pieces.push(s.data.subarray(off, off + n));
    const framed = pieces.flatMap((p) => framer.push(p));
    stats.leftoverBytes += framer.bufferedBytes;
    const direction = s.dst.port === port ? 'c2s' : 's2c';
    const peerPort = direction === 'c2s' ? s.src.port : s.dst.port;
    framed.forEach((bytes, index) => messages.push({ file, peerPort, direction, index, bytes }));
  }
  return { messages, stats };
}
