// A fake RxSink for port tests: copies every delivered frame and remembers
// the size of each batch, so tests can check framing and batching.
import type { PacketBatch } from '../../datapath/packet-batch.js';
import type { RxSink } from '../../datapath/ports/port.js';

export class RecordingSink implements RxSink {
  readonly frames: Buffer[] = [];
  readonly batchSizes: number[] = [];
  readonly ports: number[] = [];

  receive(portNo: number, batch: PacketBatch): void {
    this.ports.push(portNo);
    this.batchSizes.push(batch.count);
    for (let i = 0; i < batch.count; i++) this.frames.push(Buffer.from(batch.frame(i)));
  }
}

/** Poll until cond() holds (real time), or fail after timeoutMs. */
export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** A frame of `len` bytes whose bytes are (seed + i) & 0xff, easy to check after reassembly. */
export function patternFrame(len: number, seed: number): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = (seed + i) & 0xff;
  return b;
}

/** QEMU stream framing: 4-byte big-endian length, then the frame. */
export function streamRecord(frame: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(frame.length);
  return Buffer.concat([h, frame]);
}
