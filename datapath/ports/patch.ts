// A patch port: one end of a pair connecting two datapaths (bridges) in the
// same daemon, like OVS's `type=patch options:peer=...`. Frames sent on one end
// are received on the peer. Delivery is deferred to the next event-loop turn
// (setImmediate) so that a loop of patch ports cannot recurse or starve I/O;
// the queue is bounded and overflow is counted as tx drops.

import { PacketBatch } from '../packet-batch.js';
import { newPortStats, type Port, type PortStats, type RxSink } from './port.js';

const PATCH_QUEUE_BATCHES = 8;

export class PatchPort implements Port {
  readonly type = 'patch';
  portNo = 0;
  readonly stats: PortStats = newPortStats();
  readonly mtu = 1500;
  peer: PatchPort | null = null;
  private sink: RxSink | null = null;
  private readonly queue: PacketBatch[] = [];
  private readonly free: PacketBatch[] = [];
  private scheduled: NodeJS.Immediate | null = null;

  constructor(
    readonly name: string,
    readonly mac: Uint8Array = new Uint8Array(6),
  ) {}

  /** Connect two ends. */
  static pair(a: PatchPort, b: PatchPort): void {
    a.peer = b;
    b.peer = a;
  }

  get carrier(): boolean {
    return this.peer !== null && this.peer.sink !== null && this.sink !== null;
  }

  start(sink: RxSink): void {
    this.sink = sink;
  }

  send(buf: Uint8Array, off: number, len: number): void {
    const peer = this.peer;
    if (peer === null || peer.sink === null) {
      this.stats.txDropped++;
      return;
    }
    let tail = this.queue.length > 0 ? this.queue[this.queue.length - 1] : null;
    if (tail === null || tail.full) {
      if (this.queue.length >= PATCH_QUEUE_BATCHES) {
        this.stats.txDropped++;
        return;
      }
      tail = this.free.pop() ?? new PacketBatch();
      tail.clear();
      this.queue.push(tail);
    }
    tail.push(buf, off, len);
    this.stats.txPackets++;
    this.stats.txBytes += len;
  }

  flush(): void {
    if (this.queue.length > 0 && this.scheduled === null) this.scheduled = setImmediate(this.deliver);
  }

  private readonly deliver = (): void => {
    this.scheduled = null;
    const peer = this.peer;
    while (this.queue.length > 0) {
      const batch = this.queue.shift()!;
      if (peer !== null && peer.sink !== null) {
        peer.stats.rxPackets += batch.count;
        for (let i = 0; i < batch.count; i++) peer.stats.rxBytes += batch.len[i];
        peer.sink.receive(peer.portNo, batch);
      } else {
        this.stats.txDropped += batch.count;
      }
      this.free.push(batch);
    }
  };

  stop(): void {
    if (this.scheduled !== null) clearImmediate(this.scheduled);
    this.scheduled = null;
    this.queue.length = 0;
    this.sink = null;
  }
}
