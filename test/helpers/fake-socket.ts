// An in-memory Duplex standing in for a connection's socket: feed() delivers
// bytes to the connection, sent() decodes what it wrote. With autoAck off,
// writes stay unacknowledged, so the writer sees backpressure as from a peer
// that stopped reading.
import { Duplex } from 'node:stream';
import { decodeMessage, encodeMessage, MessageFramer, type OfpMessage } from '../../ofproto/openflow/index.js';

export class FakeSocket extends Duplex {
  readonly chunks: Buffer[] = [];
  autoAck = true;
  private held: (() => void)[] = [];
  private readPos = 0;
  private readonly framer = new MessageFramer();
  private readonly decoded: OfpMessage[] = [];

  constructor(highWaterMark = 16 * 1024) {
    super({ writableHighWaterMark: highWaterMark });
  }

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.chunks.push(Buffer.from(chunk));
    if (this.autoAck) cb();
    else this.held.push(() => cb());
  }

  /** Acknowledges held writes (the peer read them). */
  release(): void {
    this.autoAck = true;
    const h = this.held;
    this.held = [];
    for (const cb of h) cb();
  }

  feed(m: OfpMessage | Buffer): void {
    this.push(Buffer.isBuffer(m) ? m : encodeMessage(m));
  }

  /** Every message written so far, decoded, in order. */
  sent(): OfpMessage[] {
    while (this.readPos < this.chunks.length) {
      for (const raw of this.framer.push(this.chunks[this.readPos++]!)) this.decoded.push(decodeMessage(raw));
    }
    return this.decoded;
  }

  sentBytes(): number {
    return this.chunks.reduce((n, c) => n + c.length, 0);
  }
}

/** Lets stream events queued by push()/write() run. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
