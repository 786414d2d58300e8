// A patch port: one end of a pair connecting two datapaths (bridges) in the
// same daemon, like OVS's `type=patch options:peer=...`. Frames sent on one end
// are received on the peer on the next event-loop turn (DeferredRx); the queue
// is bounded and overflow is counted as tx drops.

import type { PacketBatch } from '../packet-batch.js';
import { DeferredRx } from './deferred-rx.js';
import { newPortStats, type Port, type PortStats, type RxSink } from './port.js';

const PATCH_QUEUE_BATCHES = 8;

export class PatchPort implements Port {
  readonly type = 'patch';
  portNo = 0;
  readonly stats: PortStats = newPortStats();
  readonly mtu = 1500;
  peer: PatchPort | null = null;
  private sink: RxSink | null = null;
  private readonly rx = new DeferredRx(PATCH_QUEUE_BATCHES, (batch) => this.deliver(batch));

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
    if (!this.rx.push(buf, off, len)) {
      this.stats.txDropped++;
      return;
    }
    this.stats.txPackets++;
    this.stats.txBytes += len;
  }

  flush(): void {
    this.rx.schedule();
  }

  private deliver(batch: PacketBatch): void {
    const peer = this.peer;
    if (peer !== null && peer.sink !== null) {
      peer.stats.rxPackets += batch.count;
      for (let i = 0; i < batch.count; i++) peer.stats.rxBytes += batch.len[i];
      peer.sink.receive(peer.portNo, batch);
    } else {
      this.stats.txDropped += batch.count;
    }
  }

  stop(): void {
    this.rx.clear();
    this.sink = null;
  }
}
