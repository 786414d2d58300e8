// A scripted OpenFlow peer for tests: sends raw bytes or messages over any
// socket and waits for the messages it receives (by predicate, with a timeout).
import type { Duplex } from 'node:stream';
import { decodeMessage, encodeMessage, makeHello, MessageFramer, OFPT, type OfpMessage } from '../../ofproto/openflow/index.js';

export class OfPeer {
  readonly inbox: OfpMessage[] = [];
  /** Undecodable messages we received (should stay empty). */
  readonly undecodable: Buffer[] = [];
  private waiters: (() => void)[] = [];
  private readonly framer = new MessageFramer();
  closed = false;
  readonly closedPromise: Promise<void>;
  private nextXid = 0x1000;

  constructor(readonly socket: Duplex) {
    socket.on('data', (chunk: Buffer) => {
      for (const raw of this.framer.push(chunk)) {
        try {
          this.inbox.push(decodeMessage(raw));
        } catch {
          this.undecodable.push(Buffer.from(raw));
        }
      }
      this.wake();
    });
    socket.on('error', () => undefined);
    this.closedPromise = new Promise((resolve) => {
      socket.once('close', () => {
        this.closed = true;
        this.wake();
        resolve();
      });
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }

  xid(): number {
    return this.nextXid++;
  }

  send(m: OfpMessage | Buffer): void {
    this.socket.write(Buffer.isBuffer(m) ? m : encodeMessage(m));
  }

  /** Removes and returns the first received message matching `pred`, waiting up to timeoutMs. */
  async next(pred: (m: OfpMessage) => boolean = () => true, timeoutMs = 5000): Promise<OfpMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex(pred);
      if (i >= 0) return this.inbox.splice(i, 1)[0]!;
      if (this.closed) throw new Error(`peer closed while waiting; inbox types: ${this.inbox.map((m) => m.type).join(',')}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for a message; inbox types: ${this.inbox.map((m) => m.type).join(',')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  nextOfType(type: number, timeoutMs?: number): Promise<OfpMessage> {
    return this.next((m) => m.type === type, timeoutMs);
  }

  /** Sends HELLO and waits for the switch's. */
  async handshake(versions: number[] = [4]): Promise<OfpMessage> {
    this.send(makeHello(versions, this.xid()));
    return this.nextOfType(OFPT.HELLO);
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    let t: NodeJS.Timeout | undefined;
    await Promise.race([
      this.closedPromise,
      new Promise((_, reject) => {
        t = setTimeout(() => reject(new Error('peer did not close')), timeoutMs);
      }),
    ]).finally(() => clearTimeout(t));
  }

  close(): void {
    this.socket.destroy();
  }
}
