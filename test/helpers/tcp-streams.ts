// Reassembles the TCP byte streams of a pcap (DLT 1 Ethernet, IPv4) for
// tests: one stream per connection and direction, segments ordered by
// sequence number, retransmitted/overlapping bytes dropped.
import type { PcapPacket } from './pcap.js';

export interface TcpEndpoint {
  ip: string;
  port: number;
}

export interface TcpStream {
  src: TcpEndpoint;
  dst: TcpEndpoint;
  /** Index (0-based) of the first packet of this direction in the capture. */
  firstPacket: number;
  data: Buffer;
  /** Bytes missing from the capture (holes), 0 for a clean capture. */
  gapBytes: number;
  /** Segments seen again (retransmissions) and dropped. */
  duplicateSegments: number;
}

interface Segment {
  seq: number;
  data: Buffer;
}

interface Flow {
  src: TcpEndpoint;
  dst: TcpEndpoint;
  firstPacket: number;
  isn?: number;
  segments: Segment[];
}

function ipv4(b: Buffer, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** Parses one Ethernet frame down to its TCP segment; undefined if not IPv4/TCP. */
export function parseTcp(frame: Buffer):
  | { src: TcpEndpoint; dst: TcpEndpoint; seq: number; syn: boolean; payload: Buffer }
  | undefined {
  if (frame.length < 14) return undefined;
  let off = 12;
  let etherType = frame.readUInt16BE(off);
  while (etherType === 0x8100 || etherType === 0x88a8) {
    off += 4;
    if (frame.length < off + 2) return undefined;
    etherType = frame.readUInt16BE(off);
  }
  off += 2;
  if (etherType !== 0x0800 || frame.length < off + 20) return undefined;
  const ihl = (frame[off]! & 0x0f) * 4;
  const totalLen = frame.readUInt16BE(off + 2);
  if (frame[off + 9] !== 6) return undefined;
  const src = ipv4(frame, off + 12);
  const dst = ipv4(frame, off + 16);
  const t = off + ihl;
  if (frame.length < t + 20) return undefined;
  const sport = frame.readUInt16BE(t);
  const dport = frame.readUInt16BE(t + 2);
  const seq = frame.readUInt32BE(t + 4);
  const doff = (frame[t + 12]! >> 4) * 4;
  const syn = (frame[t + 13]! & 0x02) !== 0;
  const end = Math.min(frame.length, off + totalLen);
  return { src: { ip: src, port: sport }, dst: { ip: dst, port: dport }, seq, syn, payload: frame.subarray(t + doff, end) };
}

/** All TCP streams of the capture, in order of their first packet. */
export function tcpStreams(packets: readonly PcapPacket[]): TcpStream[] {
  const flows = new Map<string, Flow>();
  packets.forEach((p, i) => {
    const seg = parseTcp(p.data);
    if (!seg) return;
    const key = `${seg.src.ip}:${seg.src.port}>${seg.dst.ip}:${seg.dst.port}`;
    let f = flows.get(key);
    if (!f) {
      f = { src: seg.src, dst: seg.dst, firstPacket: i, segments: [] };
      flows.set(key, f);
    }
    if (seg.syn) f.isn = seg.seq;
    if (seg.payload.length > 0) f.segments.push({ seq: seg.seq, data: seg.payload });
  });
  const out: TcpStream[] = [];
  for (const f of flows.values()) {
    // Sequence numbers relative to the first data byte (mod 2^32).
    const base = f.isn !== undefined ? (f.isn + 1) >>> 0 : f.segments.length > 0 ? f.segments[0]!.seq : 0;
    const segs = f.segments
      .map((s) => ({ rel: (s.seq - base + 0x100000000) % 0x100000000, data: s.data }))
      .sort((a, b) => a.rel - b.rel);
    const parts: Buffer[] = [];
    let next = 0;
    let gapBytes = 0;
    let duplicateSegments = 0;
    for (const s of segs) {
      const end = s.rel + s.data.length;
      if (end <= next) {
        duplicateSegments++;
        continue;
      }
      if (s.rel > next) {
        gapBytes += s.rel - next;
        next = s.rel;
      }
      parts.push(s.data.subarray(next - s.rel));
      next = end;
    }
    out.push({
      src: f.src,
      dst: f.dst,
      firstPacket: f.firstPacket,
      data: Buffer.concat(parts),
      gapBytes,
      duplicateSegments,
    });
  }
  return out.sort((a, b) => a.firstPacket - b.firstPacket);
}
