// Writes frames as a classic pcap file (Ethernet linktype) for external tools
// such as tshark to check.
import { writeFileSync } from 'node:fs';

export function pcapBytes(frames: Uint8Array[], linkType = 1): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0); // magic: microsecond timestamps
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16); // snaplen
  header.writeUInt32LE(linkType, 20);
  const parts: Buffer[] = [header];
  frames.forEach((f, i) => {
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(1_700_000_000 + i, 0);
    rec.writeUInt32LE(f.length, 8);
    rec.writeUInt32LE(f.length, 12);
    parts.push(rec, Buffer.from(f));
  });
  return Buffer.concat(parts);
}

export function writePcap(path: string, frames: Uint8Array[], linkType = 1): void {
  writeFileSync(path, pcapBytes(frames, linkType));
}
