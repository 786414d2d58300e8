// The common body of the fd-backed port types (system, tap, internal): one
// NativePort from the tsvs_io addon. Receive batches go from the addon's own
// PacketBatch straight into the datapath's sink; send() copies into a bounded
// tx batch that flush() hands to the addon in one call (TX ring sendto / sendmmsg / writes).

import { DpifError } from '../dpif-error.js';
import type { NativeIoStats } from '../native/index.js';
import { PacketBatch, SLOT_BYTES } from '../packet-batch.js';
import { newPortStats, type Port, type PortStats, type RxSink } from './port.js';

/** What a port needs of a NativePort (the addon's class satisfies it; tests pass fakes). */
export interface NativeIo {
  readonly name: string;
  start(onBatch: (batch: PacketBatch) => void, onError?: (err: Error) => void): void;
  stop(): void;
  sendBatch(batch: PacketBatch): number;
  readonly stats: NativeIoStats;
  readonly carrier: boolean;
  readonly mtu: number;
  readonly mac: Uint8Array;
  close(): void;
}

/** Frame bytes allowed beyond the MTU: Ethernet header plus two VLAN tags. */
export const L2_OVERHEAD_BYTES = 14 + 8;
/** Default tx queue (frames per flush). */
export const TX_BATCH_DEFAULT = 64;

export interface NativeIoPortOptions {
  /** Frames queued for transmit before an early flush (default 64). */
  txBatch?: number;
}

export abstract class NativeIoPort implements Port {
  abstract readonly type: string;
  portNo = 0;
  /** Received frames longer than MTU + L2 overhead (e.g. GRO super-frames), dropped. */
  rxOversize = 0;
  /** Frames refused because the tx queue stayed full after an early flush. */
  txQueueDrops = 0;
  /** Last error reported by the receive loop (poll error), or null. */
  lastError: Error | null = null;

  protected io: NativeIo | null = null;
  private sink: RxSink | null = null;
  private readonly tx: PacketBatch;
  private maxFrameBytes = 0;
  private lastMtu = 0;
  private lastMac: Uint8Array = new Uint8Array(6);
  private final: NativeIoStats | null = null;

  constructor(
    readonly name: string,
    opts: NativeIoPortOptions = {},
  ) {
    const txBatch = opts.txBatch ?? TX_BATCH_DEFAULT;
    if (!Number.isInteger(txBatch) || txBatch < 1 || txBatch > 1024)
      throw new DpifError('EINVAL', `${name}: tx batch ${txBatch} is not 1..1024`);
    this.tx = new PacketBatch(txBatch);
  }

  /** Open the fd (socket/TAP). Throws DpifError ENODEV/EPERM/... with the interface named. */
  protected abstract open(): NativeIo;

  start(sink: RxSink): void {
    if (this.io === null) {
      this.io = this.open();
      this.final = null;
    }
    this.sink = sink;
    try {
      this.refreshLink();
      this.io.start(this.onBatch, this.onError);
    } catch (err) {
      // Do not leak the fd of a port that failed to start.
      const io = this.io;
      this.io = null;
      this.sink = null;
      io.close();
      throw portOpenError(this.type, this.name, err);
    }
  }

  /** Re-read MTU and MAC (call after the interface's MTU changes). */
  refreshLink(): void {
    const io = this.io;
    if (io === null) return;
    this.lastMtu = io.mtu;
    this.lastMac = Uint8Array.from(io.mac);
    this.maxFrameBytes = this.lastMtu + L2_OVERHEAD_BYTES;
  }

  // Created once; the addon calls it per batch with its own PacketBatch.
  private readonly onBatch = (b: PacketBatch): void => {
    const max = this.maxFrameBytes;
    const len = b.len;
    const n = b.count;
    let i = 0;
    while (i < n && len[i] <= max) i++;
    if (i < n) this.dropOversize(b, i, max);
    const sink = this.sink;
    if (sink !== null && b.count > 0) sink.receive(this.portNo, b);
  };

  /** Compact the batch from frame `first` on, leaving out frames longer than max. */
  private dropOversize(b: PacketBatch, first: number, max: number): void {
    const off = b.off;
    const len = b.len;
    let w = first;
    for (let r = first; r < b.count; r++) {
      if (len[r] > max) {
        this.rxOversize++;
        continue;
      }
      // Frame i must live in slot i (headroom() relies on it): move the bytes down a slot.
      const o = off[r] - (r - w) * SLOT_BYTES;
      b.buf.copyWithin(o, off[r], off[r] + len[r]);
      off[w] = o;
      len[w] = len[r];
      w++;
    }
    b.count = w;
  }

  private readonly onError = (err: Error): void => {
    this.lastError = err;
  };

  send(buf: Uint8Array, off: number, len: number): void {
    const tx = this.tx;
    if (tx.push(buf, off, len)) return;
    this.flush();
    if (!tx.push(buf, off, len)) this.txQueueDrops++;
  }

  flush(): void {
    const tx = this.tx;
    if (tx.count === 0) return;
    const io = this.io;
    if (io !== null) io.sendBatch(tx);
    else this.txQueueDrops += tx.count;
    tx.clear();
  }

  get stats(): PortStats {
    const s = newPortStats();
    const n = this.io !== null ? this.io.stats : this.final;
    if (n !== null) {
      s.rxPackets = n.rxPackets;
      s.rxBytes = n.rxBytes;
      s.rxDropped = n.rxDropped + n.kernelDrops;
      s.rxErrors = n.rxErrors + n.pollErrors;
      s.txPackets = n.txPackets;
      s.txBytes = n.txBytes;
      s.txDropped = n.txDropped;
      s.txErrors = n.txErrors;
    }
    s.rxDropped += this.rxOversize;
    s.txDropped += this.txQueueDrops;
    return s;
  }

  /** The addon's full counter set (wake-ups, batches, checksums completed, ...), or the last one after stop. */
  get nativeStats(): NativeIoStats | null {
    return this.io !== null ? this.io.stats : this.final;
  }

  get carrier(): boolean {
    const io = this.io;
    if (io === null) return false;
    try {
      return io.carrier;
    } catch {
      return false; // interface deleted under us
    }
  }

  get mtu(): number {
    return this.lastMtu;
  }

  get mac(): Uint8Array {
    return this.lastMac;
  }

  stop(): void {
    const io = this.io;
    if (io === null) return;
    this.flush();
    this.final = io.stats;
    this.io = null;
    this.sink = null;
    io.close();
  }
}

/** Map an addon error (code = errno name) to a DpifError naming the interface and port type. */
export function portOpenError(type: string, name: string, err: unknown): DpifError {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : 'EIO';
  const detail = typeof e?.message === 'string' ? e.message : String(err);
  const hint =
    code === 'ENODEV'
      ? `${type} port ${name}: no such network device`
      : code === 'EPERM' || code === 'EACCES'
        ? `${type} port ${name}: permission denied (needs CAP_NET_ADMIN and CAP_NET_RAW)`
        : `${type} port ${name}: cannot open`;
  return new DpifError(code, `${hint} (${detail})`);
}
