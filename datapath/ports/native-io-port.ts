// The common body of the fd-backed port types (system, tap, internal): one
// NativePort from the tsvs_io addon. Receive batches go from the port's rx
// PacketBatch (filled by the addon) straight into the datapath's sink; send()
// copies into a bounded tx batch that flush() hands to the addon in one call
// (TX ring sendto / sendmmsg / writes).
//
// Both batches have slots sized from the interface's MTU (frameMaxForMtu: MTU
// plus Ethernet header and two VLAN tags), so the default 256-frame batches of
// a 1500-MTU port take 800 KiB where 64 jumbo-sized slots took 1.13 MiB; a
// jumbo-MTU port keeps big slots and fewer of them by default
// (defaultBatchFrames: never more bytes than the old default). A frame
// longer than that is dropped on receive (rxDropped) and on transmit
// (txErrors, as OVS's datapath drops frames over the output port's MTU).
// refreshLink() re-reads the MTU and reallocates both batches, between batches,
// when the slot size it needs changes.

import { DpifError } from '../dpif-error.js';
import type { NativeIoStats } from '../native/index.js';
import { PacketBatch, SLOT_BYTES, SLOT_FRAME_MAX, slotBytesFor } from '../packet-batch.js';
import { newPortStats, type Port, type PortStats, type RxSink } from './port.js';

/** What a port needs of a NativePort (the addon's class satisfies it; tests pass fakes). */
export interface NativeIo {
  readonly name: string;
  /** Start (or restart) receiving into `batch` (the addon drops frames longer than batch.frameMax). */
  start(onBatch: (batch: PacketBatch) => void, onError?: (err: Error) => void, batch?: PacketBatch): void;
  stop(): void;
  sendBatch(batch: PacketBatch): number;
  readonly stats: NativeIoStats;
  readonly carrier: boolean;
  readonly mtu: number;
  readonly mac: Uint8Array;
  close(): void;
  /** Classic BPF receive filter (AF_PACKET only; see NativePort.setSocketFilter). */
  setSocketFilter?(prog: Uint8Array | null): void;
}

/** Frame bytes allowed beyond the MTU: Ethernet header plus two VLAN tags. */
export const L2_OVERHEAD_BYTES = 14 + 8;
/** Largest default rx batch (frames per receive callback) and tx queue (frames per flush). */
export const BATCH_DEFAULT_MAX = 256;
/**
 * Bytes one default batch may take: what the 64-frame batches of 9,280-byte slots took before slots were
 * sized from the MTU (580 KiB). A default batch has BATCH_DEFAULT_MAX frames or as many as fit in this.
 */
export const BATCH_DEFAULT_BYTES = 64 * SLOT_BYTES;
/** Largest rx/tx batch accepted (the addon's RX_MAX_BATCH). */
export const BATCH_LIMIT = 1024;

/** Frames of a default rx or tx batch whose slots hold frameMax bytes: 256 for MTU 1500, 65 for MTU 9000. */
export function defaultBatchFrames(frameMax: number): number {
  const n = Math.floor(BATCH_DEFAULT_BYTES / slotBytesFor(frameMax));
  return n > BATCH_DEFAULT_MAX ? BATCH_DEFAULT_MAX : n;
}

/**
 * Largest frame a port with this MTU sends or receives, which is what its batch slots hold: MTU plus
 * L2_OVERHEAD_BYTES, at most SLOT_FRAME_MAX. An MTU the OS did not report sensibly (not an integer >= 68)
 * gets SLOT_FRAME_MAX.
 */
export function frameMaxForMtu(mtu: number): number {
  if (!Number.isInteger(mtu) || mtu < 68) return SLOT_FRAME_MAX;
  const n = mtu + L2_OVERHEAD_BYTES;
  return n > SLOT_FRAME_MAX ? SLOT_FRAME_MAX : n;
}

export interface NativeIoPortOptions {
  /** Frames per receive callback (default defaultBatchFrames(): 256 for MTU 1500, fewer for jumbo MTUs). */
  rxBatch?: number;
  /** Frames queued for transmit before an early flush (default as rxBatch). */
  txBatch?: number;
  /**
   * @internal benches: slots for frames of this size whatever the MTU (SLOT_FRAME_MAX: the jumbo slots
   * every port had before slots were sized from the MTU). Also the tx size limit.
   */
  slotFrameMax?: number;
}

export abstract class NativeIoPort implements Port {
  abstract readonly type: string;
  portNo = 0;
  /** Received frames longer than MTU + L2 overhead (e.g. GRO super-frames), dropped. */
  rxOversize = 0;
  /** Frames refused because the tx queue stayed full after an early flush. */
  txQueueDrops = 0;
  /** Frames to send longer than the tx slots (MTU + L2 overhead), dropped and counted as tx errors. */
  txOversize = 0;
  /** Times refreshLink() reallocated the batches for a new MTU. */
  batchResizes = 0;
  /** Times refreshLink() reopened the fd for a new MTU (its RX ring's frames were too small). */
  reopens = 0;
  /** Last error reported by the receive loop (poll error), or null. */
  lastError: Error | null = null;

  protected io: NativeIo | null = null;
  private sink: RxSink | null = null;
  /** Configured batch frames (0: defaultBatchFrames of the slot size). */
  private readonly rxBatch: number;
  private readonly txBatch: number;
  private readonly slotFrameMax: number;
  private rx: PacketBatch | null = null;
  private tx: PacketBatch;
  private maxFrameBytes = 0;
  private lastMtu = 0;
  private lastMac: Uint8Array = new Uint8Array(6);
  private final: NativeIoStats | null = null;
  /** Counters of fds this port closed and reopened since start() (see reopen()). */
  private carried: NativeIoStats | null = null;
  /** Receive socket filter set by the datapath's offload; applied to every fd the port opens (openIo()). */
  private socketFilter: Uint8Array | null = null;

  constructor(
    readonly name: string,
    opts: NativeIoPortOptions = {},
  ) {
    const rxBatch = opts.rxBatch ?? 0;
    const txBatch = opts.txBatch ?? 0;
    if (opts.rxBatch !== undefined && (!Number.isInteger(rxBatch) || rxBatch < 1 || rxBatch > BATCH_LIMIT))
      throw new DpifError('EINVAL', `${name}: rx batch ${rxBatch} is not 1..${BATCH_LIMIT}`);
    if (opts.txBatch !== undefined && (!Number.isInteger(txBatch) || txBatch < 1 || txBatch > BATCH_LIMIT))
      throw new DpifError('EINVAL', `${name}: tx batch ${txBatch} is not 1..${BATCH_LIMIT}`);
    const slotFrameMax = opts.slotFrameMax;
    if (slotFrameMax !== undefined && (!Number.isInteger(slotFrameMax) || slotFrameMax < 64 || slotFrameMax > SLOT_FRAME_MAX))
      throw new DpifError('EINVAL', `${name}: slot frame max ${slotFrameMax} is not 64..${SLOT_FRAME_MAX}`);
    this.rxBatch = rxBatch;
    this.txBatch = txBatch;
    this.slotFrameMax = slotFrameMax ?? 0;
    // Sized for the common MTU until start() reads the interface's own.
    const frameMax = this.slotFrameMax || frameMaxForMtu(1500);
    this.tx = new PacketBatch(txBatch || defaultBatchFrames(frameMax), frameMax);
  }

  /** Bytes of frame buffers this port holds (rx + tx batches). */
  get batchBytes(): number {
    return (this.rx !== null ? this.rx.buf.length : 0) + this.tx.buf.length;
  }

  /** Largest frame the port's slots hold (MTU + L2 overhead, at most SLOT_FRAME_MAX). */
  get frameMax(): number {
    return this.tx.frameMax;
  }

  /** Open the fd (socket/TAP). Throws DpifError ENODEV/EPERM/... with the interface named. */
  protected abstract open(): NativeIo;

  start(sink: RxSink): void {
    if (this.io === null) {
      this.io = this.openIo();
      this.final = null;
      this.carried = null;
    }
    this.sink = sink;
    try {
      this.readLink();
      this.io.start(this.onBatch, this.onError, this.rx!);
    } catch (err) {
      // Do not leak the fd of a port that failed to start.
      const io = this.io;
      this.io = null;
      this.sink = null;
      io.close();
      throw portOpenError(this.type, this.name, err);
    }
  }

  /**
   * Attach (prog: struct sock_filter[] bytes) or detach (null) a classic BPF filter on the receive
   * socket: frames it returns 0 for never reach user space (the tc offload's frames). Throws
   * (EOPNOTSUPP) when the port's fd takes no filter; kept and re-applied if the port restarts.
   */
  setSocketFilter(prog: Uint8Array | null): void {
    if (this.io !== null) this.applySocketFilter(this.io, prog);
    this.socketFilter = prog;
  }

  /** open(), then the hw-offload's socket filter if one is set (a filter set while closed, or kept across a reopen). */
  private openIo(): NativeIo {
    const io = this.open();
    if (this.socketFilter !== null) {
      try {
        this.applySocketFilter(io, this.socketFilter);
      } catch (err) {
        io.close();
        throw portOpenError(this.type, this.name, err);
      }
    }
    return io;
  }

  private applySocketFilter(io: NativeIo, prog: Uint8Array | null): void {
    if (io.setSocketFilter === undefined) {
      if (prog === null) return;
      throw new DpifError('EOPNOTSUPP', `${this.name}: this port takes no socket filter`);
    }
    io.setSocketFilter(prog);
  }

  /**
   * Re-read MTU and MAC; when the MTU needs another slot size, flush what is queued, reallocate the rx
   * and tx batches and restart receiving into the new rx batch. Call it between batches (a timer, not
   * the datapath's receive path). Until it runs after an MTU increase, frames over the old MTU are dropped.
   */
  refreshLink(): void {
    const io = this.io;
    if (io === null) return;
    const old = this.rx;
    try {
      this.readLink();
    } catch {
      return; // interface not visible (deleted, or a TAP moved into another namespace): keep what we have
    }
    if (this.needsReopen(this.maxFrameBytes)) {
      this.reopen(io);
      return;
    }
    if (this.rx !== old && this.sink !== null) io.start(this.onBatch, this.onError, this.rx!);
  }

  /**
   * Whether the open fd cannot receive frames of frameMax bytes and must be reopened (a fixed-frame RX ring
   * sized for a smaller MTU). Port types with such an fd override it; the default never reopens.
   */
  protected needsReopen(frameMax: number): boolean {
    void frameMax;
    return false;
  }

  /** Close the fd and open a new one in its place, keeping the counters; on failure keep the old one. */
  private reopen(old: NativeIo): void {
    let io: NativeIo;
    try {
      io = this.openIo();
    } catch (err) {
      this.lastError = err instanceof Error ? err : new Error(String(err));
      if (this.sink !== null) old.start(this.onBatch, this.onError, this.rx!);
      return;
    }
    this.flush();
    this.carried = addNativeStats(this.carried, old.stats);
    old.close();
    this.io = io;
    this.reopens++;
    if (this.sink !== null) io.start(this.onBatch, this.onError, this.rx!);
  }

  /** Read MTU/MAC from the interface and (re)size the batches for the MTU. Throws (changing nothing) when it cannot read them. */
  private readLink(): void {
    const io = this.io!;
    const mtu = io.mtu;
    const mac = Uint8Array.from(io.mac);
    this.lastMtu = mtu;
    this.lastMac = mac;
    this.maxFrameBytes = frameMaxForMtu(mtu);
    const frameMax = this.slotFrameMax || this.maxFrameBytes;
    const rxFrames = this.rxBatch || defaultBatchFrames(frameMax);
    const txFrames = this.txBatch || defaultBatchFrames(frameMax);
    const rx = this.rx;
    if (rx === null || rx.frameMax !== frameMax || rx.capacity !== rxFrames) {
      if (rx !== null) this.batchResizes++;
      this.rx = new PacketBatch(rxFrames, frameMax);
    }
    if (this.tx.frameMax !== frameMax || this.tx.capacity !== txFrames) {
      this.flush();
      this.tx = new PacketBatch(txFrames, frameMax);
    }
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
      const o = off[r] - (r - w) * b.slotBytes;
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
    if (len > tx.frameMax) {
      this.txOversize++;
      return;
    }
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
    const n = this.nativeStats;
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
    s.txErrors += this.txOversize;
    return s;
  }

  /** The addon's full counter set (wake-ups, batches, checksums completed, ...), or the last one after stop. */
  get nativeStats(): NativeIoStats | null {
    if (this.io === null) return this.final;
    const n = this.io.stats;
    return this.carried === null ? n : addNativeStats(this.carried, n);
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
    this.final = this.nativeStats;
    this.io = null;
    this.sink = null;
    io.close();
  }
}

/** a + b, counter by counter (a null: b). */
function addNativeStats(a: NativeIoStats | null, b: NativeIoStats): NativeIoStats {
  if (a === null) return { ...b };
  const out = { ...a };
  for (const k of Object.keys(b) as (keyof NativeIoStats)[]) out[k] = (a[k] ?? 0) + b[k];
  return out;
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
