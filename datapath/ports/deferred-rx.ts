// Frames a port produces in process (an emulated guest's replies, a patch
// port's transmissions) reach the datapath on the next event-loop turn, never
// from inside the datapath's own flush: no re-entrancy, and a loop of ports
// cannot recurse or starve I/O. A bounded queue of reusable batches.

import { PacketBatch } from '../packet-batch.js';

export class DeferredRx {
  private readonly queue: PacketBatch[] = [];
  private readonly free: PacketBatch[] = [];
  private scheduled: NodeJS.Immediate | null = null;

  /** `deliver` is called once per queued batch; it must not keep the batch. */
  constructor(
    private readonly maxBatches: number,
    private readonly deliver: (batch: PacketBatch) => void,
  ) {}

  /** Queue a copy of one frame; false (nothing queued) when the queue is full. */
  push(buf: Uint8Array, off = 0, len = buf.length - off): boolean {
    let tail = this.queue.length > 0 ? this.queue[this.queue.length - 1] : null;
    if (tail === null || tail.full) {
      if (this.queue.length >= this.maxBatches) return false;
      tail = this.free.pop() ?? new PacketBatch();
      tail.clear();
      this.queue.push(tail);
    }
    return tail.push(buf, off, len);
  }

  /** Deliver everything queued on the next event-loop turn. */
  schedule(): void {
    if (this.queue.length > 0 && this.scheduled === null) this.scheduled = setImmediate(this.run);
  }

  /** Drop everything queued and cancel a pending delivery. */
  clear(): void {
    if (this.scheduled !== null) clearImmediate(this.scheduled);
    this.scheduled = null;
    this.queue.length = 0;
  }

  private readonly run = (): void => {
    this.scheduled = null;
    while (this.queue.length > 0) {
      const batch = this.queue.shift()!;
      this.deliver(batch);
      this.free.push(batch);
    }
  };
}
