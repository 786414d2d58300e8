// The test helper that rebuilds TCP streams from a capture: out-of-order,
// retransmitted and overlapping segments.
import { describe, expect, it } from 'vitest';
import type { PcapPacket } from '../../../helpers/pcap.js';
import { tcpStreams } from '../../../helpers/tcp-streams.js';

function frame(sport: number, dport: number, seq: number, payload: string, syn = false): PcapPacket {
  const data = Buffer.from(payload);
  const b = Buffer.alloc(14 + 20 + 20 + data.length);
  b.writeUInt16BE(0x0800, 12);
  b[14] = 0x45;
  b.writeUInt16BE(20 + 20 + data.length, 16);
  b[23] = 6;
  b.set([127, 0, 0, 1], 26);
  b.set([127, 0, 0, 1], 30);
  b.writeUInt16BE(sport, 34);
  b.writeUInt16BE(dport, 36);
  b.writeUInt32BE(seq >>> 0, 38);
  b[46] = 5 << 4;
  b[47] = syn ? 0x02 : 0x18;
  data.copy(b, 54);
  return { time: 0, capturedLength: b.length, originalLength: b.length, data: b };
}

describe('tcpStreams', () => {
  it('orders by sequence number and drops retransmissions and overlaps', () => {
    const isn = 0xfffffffe; // wraps around 2^32
    const pkts = [
      frame(5000, 80, isn, '', true),
      frame(5000, 80, isn + 1 + 5, 'world'),
      frame(5000, 80, isn + 1, 'hello'),
      frame(5000, 80, isn + 1, 'hello'),
      frame(5000, 80, isn + 1 + 3, 'lowor'),
      frame(5000, 80, isn + 1 + 10, '!'),
      frame(80, 5000, 100, 'reply'),
    ];
    const s = tcpStreams(pkts);
    expect(s).toHaveLength(2);
    expect(s[0]!.data.toString()).toBe('helloworld!');
    expect(s[0]!.duplicateSegments).toBe(1); // 'lowor' overlaps and extends, so it is kept in part
    expect(s[0]!.gapBytes).toBe(0);
    expect(s[1]!.src.port).toBe(80);
    expect(s[1]!.data.toString()).toBe('reply');
  });

  it('reports holes', () => {
    const s = tcpStreams([frame(1, 2, 10, 'ab'), frame(1, 2, 15, 'cd')]);
    expect(s[0]!.gapBytes).toBe(3);
  });
});
