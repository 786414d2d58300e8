// A datapath Port for tests: what the datapath sends to it is kept in `sent`,
// and inject() hands frames to the datapath as one received batch.
import { PacketBatch } from '../../datapath/packet-batch.js';
import { newPortStats, type Port, type RxSink } from '../../datapath/ports/port.js';

export class WirePort implements Port {
  readonly type = 'test';
  portNo = 0;
  readonly stats = newPortStats();
  readonly carrier = true;
  readonly mtu = 1500;
  readonly sent: Buffer[] = [];
  private sink: RxSink | null = null;

  constructor(
    readonly name: string,
    readonly mac: Uint8Array = new Uint8Array(6),
  ) {}

  start(sink: RxSink): void {
    this.sink = sink;
  }

  /** Delivers `frames` to the datapath as one received batch (the port must be started). */
  inject(frames: readonly Buffer[]): void {
    const b = new PacketBatch(frames.length);
    for (const f of frames) b.push(f);
    this.sink!.receive(this.portNo, b);
  }

  send(buf: Uint8Array, off: number, len: number): void {
    this.sent.push(Buffer.from(buf.subarray(off, off + len)));
  }

  flush(): void {}

  stop(): void {
    this.sink = null;
  }
}
