// Reads a whole pcap file (via pcap-parser) into memory for tests.
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const require = createRequire(import.meta.url);
// pcap-parser is CommonJS without types.
const pcapp = require('pcap-parser') as {
  parse(input: string | NodeJS.ReadableStream): NodeJS.EventEmitter;
};

export interface PcapPacket {
  /** Seconds since the epoch, with microseconds as the fraction. */
  time: number;
  capturedLength: number;
  originalLength: number;
  data: Buffer;
}

export interface PcapFile {
  linkLayerType: number;
  packets: PcapPacket[];
}

export const FIXTURES = resolve(__dirname, '../fixtures');

/** Path of a fixture file under test/fixtures/. */
export function fixture(name: string): string {
  return resolve(FIXTURES, name);
}

export function readPcap(path: string): Promise<PcapFile> {
  return new Promise((resolvePromise, reject) => {
    const parser = pcapp.parse(path);
    const out: PcapFile = { linkLayerType: -1, packets: [] };
    parser.on('globalHeader', (h: { linkLayerType: number }) => {
      out.linkLayerType = h.linkLayerType;
    });
    parser.on(
      'packet',
      (p: {
        header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number };
        data: Buffer;
      }) => {
        out.packets.push({
          time: p.header.timestampSeconds + p.header.timestampMicroseconds / 1e6,
          capturedLength: p.header.capturedLength,
          originalLength: p.header.originalLength,
          data: Buffer.from(p.data),
        });
      },
    );
    parser.on('end', () => resolvePromise(out));
    parser.on('error', reject);
  });
}
