// Typed wrapper over the tsvs_io addon (tsvs_io.c): batched AF_PACKET and TAP
// I/O. A NativePort owns one fd; start() delivers received frames in the
// port's own PacketBatch, once per batch, from libuv's poll phase.
// Loading is lazy: importing this module never throws, nativeAvailable() says
// whether the addon was built (npm's "install" script runs node-gyp).

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HEADROOM, PacketBatch } from '../packet-batch.js';

/** Counter names, in the order of the addon's Float64Array (tsvs_io.c STAT_NAMES). */
export const STAT_NAMES = [
  'rxPackets', 'rxBytes', 'rxDropped', 'rxErrors',
  'txPackets', 'txBytes', 'txDropped', 'txErrors',
  'rxWakeups', 'rxBatches', 'rxTruncated', 'rxVlanRestored',
  'rxCsumCompleted', 'kernelDrops', 'txSyscalls', 'pollErrors',
] as const;
export type NativeStatName = (typeof STAT_NAMES)[number];
export type NativeIoStats = Record<NativeStatName, number>;

type Handle = object & { readonly __tsvsIoHandle: unique symbol };

interface LinkInfo {
  ifindex: number;
  flags: number;
  up: boolean;
  carrier: boolean;
  mtu: number;
  mac: Buffer;
}

interface Addon {
  statNames: string[];
  openPacket(ifname: string, opts: object, stats: Float64Array): Handle;
  openTap(name: string, opts: object, stats: Float64Array): Handle;
  start(h: Handle, buf: Buffer, off: Int32Array, len: Int32Array, slotBytes: number, headroom: number,
    frameMax: number, budget: number, cb: (n: number) => void): void;
  stop(h: Handle): void;
  send(h: Handle, buf: Uint8Array, off: Int32Array, len: Int32Array, count: number): number;
  close(h: Handle): void;
  kernelDrops(h: Handle): void;
  info(h: Handle): { name: string; ifindex: number; kind: 'packet' | 'tap'; fd: number; polling: boolean; busy: boolean; ring: boolean; ringVersion: number; txSocket: boolean; txRing: number };
  linkInfo(name: string): LinkInfo;
  setLinkUp(name: string, up: boolean): void;
  completeChecksum(frame: Uint8Array): boolean;
  setOffloads(name: string, on: boolean): OffloadResult;
  setFilter(h: Handle, prog: Uint8Array | null): void;
}

/** Per offload: true when the ethtool command succeeded (false: the driver does not support changing it). */
export interface OffloadResult {
  gro: boolean;
  gso: boolean;
  tso: boolean;
}

const ADDON_FILE = join('build', 'Release', 'tsvs_io.node');
let addon: Addon | null = null;
let loadError: Error | null = null;

/** Path of the built addon: build/Release under the package root (found upwards from here, so both
 *  datapath/native/ and dist/datapath/native/ work). */
export function addonPath(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, ADDON_FILE);
    if (existsSync(p)) return p;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

function load(): Addon {
  if (addon) return addon;
  if (loadError) throw loadError;
  const p = addonPath();
  if (!p) {
    loadError = Object.assign(new Error(`tsvs_io addon not built (no ${ADDON_FILE}); run npm install`), {
      code: 'ERR_TSVS_NATIVE_MISSING',
    });
    throw loadError;
  }
  const a = createRequire(import.meta.url)(p) as Addon;
  if (a.statNames.join() !== STAT_NAMES.join()) {
    loadError = Object.assign(new Error(`tsvs_io addon at ${p} is stale (counter layout differs); rebuild it`), {
      code: 'ERR_TSVS_NATIVE_STALE',
    });
    throw loadError;
  }
  addon = a;
  return a;
}

/** True when the addon is built and loads. */
export function nativeAvailable(): boolean {
  try {
    load();
    return true;
  } catch {
    return false;
  }
}

/** Why the addon did not load, or null. */
export function nativeLoadError(): Error | null {
  nativeAvailable();
  return loadError;
}

export interface NativePortOptions {
  /** Frames per JS callback (the batch capacity) of the batch allocated when start() is given none. Default 64. */
  batchSize?: number;
  /** Most frames handled per wake-up before yielding to the loop (fairness between ports). Default 256. */
  wakeBudget?: number;
  /** Use this batch instead of allocating one (its capacity wins over batchSize; start(.., batch) replaces it). */
  batch?: PacketBatch;
}

export interface PacketSocketOptions extends NativePortOptions {
  /**
   * TPACKET_V3 RX ring (default: fewest syscalls) or recvmmsg with PACKET_AUXDATA (false). The ring hands
   * over a block only when full or after retireMs, so at low load it adds up to ~1 ms per hop (ping through a
   * two-port forwarder: 1.0 ms RTT with the ring, 0.2 ms with recvmmsg).
   */
  ring?: boolean;
  /**
   * RX ring layout: 3 = TPACKET_V3 blocks (default here; a block is handed over when full or after retireMs),
   * 2 = TPACKET_V2 fixed frames of ringFrameBytes: the kernel wakes the socket per frame, so nothing waits
   * for a timer at low load, and a busy port still drains many frames per wake-up without a syscall.
   */
  ringVersion?: 2 | 3;
  /** V2 ring frame size (header + frame; a multiple of 16, default 2048: frames up to ~1970 bytes). */
  ringFrameBytes?: number;
  /** Ring block size, a power of two (default 256 KiB). */
  blockBytes?: number;
  /** Ring blocks (default 16). */
  blocks?: number;
  /** Hand a partly filled block to user space after this many ms (default 1). */
  retireMs?: number;
  /** Join PACKET_MR_PROMISC (default true). */
  promisc?: boolean;
  /** PACKET_QDISC_BYPASS on transmit (default true). */
  qdiscBypass?: boolean;
  /** PACKET_IGNORE_OUTGOING: do not receive frames sent out of this interface (default true). */
  ignoreOutgoing?: boolean;
  sndbufBytes?: number;
  rcvbufBytes?: number;
  /**
   * Transmit on a second packet socket that nothing polls (default true). Freeing each sent frame wakes the
   * sending socket's waiters; on the polled receive socket that is an epoll callback per frame.
   */
  txSocket?: boolean;
  /**
   * TPACKET_V2 TX ring of this many 2 KiB frames (a multiple of 32; 0 = sendmmsg). Frames are copied into the
   * ring and sent with one sendto() per batch; frames over 1518 bytes go by sendmsg. Implies txSocket.
   */
  txRing?: number;
}

export interface TapOptions extends NativePortOptions {
  /** IFF_MULTI_QUEUE: several fds may attach to the same TAP. */
  multiQueue?: boolean;
  /** Bring the TAP up after creating it (default true). */
  up?: boolean;
}

export type BatchHandler = (batch: PacketBatch) => void;

/** One AF_PACKET socket or TAP fd with batched receive and transmit. */
export class NativePort {
  readonly name: string;
  readonly ifindex: number;
  readonly kind: 'packet' | 'tap';
  /** AF_PACKET: frames of the TPACKET_V2 TX ring (0: sendmmsg) and whether transmit has a socket of its own. */
  readonly txRing: number;
  readonly txSocket: boolean;
  /** AF_PACKET: the RX ring's TPACKET version (2 or 3), 0 for recvmmsg (and TAPs). */
  readonly rxRingVersion: number;
  private rx: PacketBatch | null;
  private readonly batchSize: number;
  private readonly counters: Float64Array;
  private readonly wakeBudget: number;
  private handle: Handle | null;
  private handler: BatchHandler | null = null;
  private errorHandler: ((err: Error) => void) | null = null;
  // Created once: the addon calls it per batch with the frame count (n < 0: poll error -n).
  private readonly onNative = (n: number): void => {
    if (n < 0) {
      this.onPollError(n);
      return;
    }
    const b = this.rx!;
    b.count = n;
    this.handler!(b);
  };

  /** @internal use openPacketSocket / openTap */
  constructor(a: Addon, handle: Handle, counters: Float64Array, opts: NativePortOptions) {
    const info = a.info(handle);
    this.handle = handle;
    this.counters = counters;
    this.name = info.name;
    this.ifindex = info.ifindex;
    this.kind = info.kind;
    this.txRing = info.txRing;
    this.txSocket = info.txSocket;
    this.rxRingVersion = info.ringVersion;
    this.rx = opts.batch ?? null;
    this.batchSize = opts.batchSize ?? 64;
    this.wakeBudget = opts.wakeBudget ?? 256;
  }

  /**
   * The batch handed to the start() handler, reused for every callback (allocated on first use with
   * batchSize jumbo slots unless given in the options or to start()).
   */
  get batch(): PacketBatch {
    return (this.rx ??= new PacketBatch(this.batchSize));
  }

  /**
   * Begin delivering received batches (restarts if already started). The handler must not keep the batch.
   * `batch` replaces the port's receive batch: frames longer than its frameMax are dropped (rxTruncated and
   * rxDropped). Restarting with a new batch from inside a callback is allowed; the old batch is not written
   * to again.
   */
  start(onBatch: BatchHandler, onError?: (err: Error) => void, batch?: PacketBatch): void {
    const h = this.live();
    if (batch !== undefined) this.rx = batch;
    const b = this.batch;
    this.handler = onBatch;
    this.errorHandler = onError ?? null;
    load().start(h, b.buf, b.off, b.len, b.slotBytes, HEADROOM, b.frameMax, this.wakeBudget, this.onNative);
  }

  /** Stop receiving; the fd stays open (send still works). */
  stop(): void {
    if (this.handle) load().stop(this.handle);
    this.handler = null;
  }

  /**
   * Transmit frames buf[off[i], off[i]+len[i]) for i < count: one sendto on the TX ring (AF_PACKET; sendmmsg
   * with txRing 0) or
   * one write() per frame (TAP). Returns frames accepted; the rest are counted as txDropped/txErrors.
   * After close() it sends nothing and returns 0.
   */
  send(buf: Uint8Array, off: Int32Array, len: Int32Array, count: number): number {
    if (!this.handle || count === 0) return 0;
    return load().send(this.handle, buf, off, len, count);
  }

  /** send() for a whole PacketBatch. */
  sendBatch(b: PacketBatch): number {
    return this.send(b.buf, b.off, b.len, b.count);
  }

  /**
   * Attach a classic BPF socket filter to the receive socket (AF_PACKET only): `prog` is struct
   * sock_filter[] as bytes (8 per instruction, host order); frames it returns 0 for never reach user
   * space. null detaches. Throws (code EOPNOTSUPP) on a TAP port.
   */
  setSocketFilter(prog: Uint8Array | null): void {
    load().setFilter(this.live(), prog);
  }

  /** Snapshot of the counters (reads the kernel's drop counter too). */
  get stats(): NativeIoStats {
    if (this.handle) load().kernelDrops(this.handle);
    const out = {} as NativeIoStats;
    for (let i = 0; i < STAT_NAMES.length; i++) out[STAT_NAMES[i]] = this.counters[i];
    return out;
  }

  /** Link up with carrier (IFF_RUNNING). */
  get carrier(): boolean {
    return load().linkInfo(this.name).carrier;
  }

  get mtu(): number {
    return load().linkInfo(this.name).mtu;
  }

  get mac(): Uint8Array {
    return load().linkInfo(this.name).mac;
  }

  get closed(): boolean {
    return this.handle === null;
  }

  /**
   * In busy mode: a wake-up brought at least 32 frames, so the fd left epoll and is drained once per event
   * loop iteration (no wake-up per frame) until a pass finds fewer (NAPI-style interrupt mitigation).
   */
  get busy(): boolean {
    return this.handle !== null && load().info(this.handle).busy;
  }

  /** Stop, close the fd, unmap the ring. Safe to call twice. */
  close(): void {
    const h = this.handle;
    if (!h) return;
    this.handle = null;
    this.handler = null;
    load().close(h);
  }

  private live(): Handle {
    if (!this.handle)
      throw Object.assign(new Error(`${this.name}: port is closed`), { code: 'EBADF' });
    return this.handle;
  }

  private onPollError(n: number): void {
    const err = Object.assign(new Error(`${this.name}: poll error ${n}; receive stopped`), { code: 'EIO', errno: n });
    if (this.errorHandler) this.errorHandler(err);
    else process.emitWarning(err);
  }
}

function newCounters(): Float64Array {
  return new Float64Array(STAT_NAMES.length);
}

/** Open an AF_PACKET socket bound to an existing interface (ENODEV if none, EPERM without CAP_NET_RAW). */
/** Default TX ring size of openPacketSocket (frames; 0 = sendmmsg): 512 x 2 KiB. Measured 20 % less CPU per forwarded frame than sendmmsg (bench/RESULTS.md). */
export const TX_RING_DEFAULT = 512;

export function openPacketSocket(ifname: string, opts: PacketSocketOptions = {}): NativePort {
  const a = load();
  const counters = newCounters();
  const h = a.openPacket(
    ifname,
    {
      ring: opts.ring ?? true,
      ringVersion: opts.ringVersion ?? 3,
      ringFrameBytes: opts.ringFrameBytes ?? 2048,
      blockBytes: opts.blockBytes ?? 1 << 18,
      blocks: opts.blocks ?? 16,
      retireMs: opts.retireMs ?? 1,
      promisc: opts.promisc ?? true,
      qdiscBypass: opts.qdiscBypass ?? true,
      ignoreOutgoing: opts.ignoreOutgoing ?? true,
      sndbufBytes: opts.sndbufBytes ?? 4 << 20,
      rcvbufBytes: opts.rcvbufBytes ?? 0,
      txSocket: opts.txSocket ?? true,
      txRing: opts.txRing ?? TX_RING_DEFAULT,
    },
    counters,
  );
  return new NativePort(a, h, counters, opts);
}

/** Create (or attach to a persistent) TAP device with IFF_TAP|IFF_NO_PI; it goes away when closed unless persistent. */
export function openTap(name: string, opts: TapOptions = {}): NativePort {
  const a = load();
  const counters = newCounters();
  const h = a.openTap(name, { multiQueue: opts.multiQueue ?? false, up: opts.up ?? true }, counters);
  return new NativePort(a, h, counters, opts);
}

/** Flags, carrier, MTU and MAC of any interface by name. */
export function linkInfo(name: string): LinkInfo {
  return load().linkInfo(name);
}

/** Set IFF_UP on an interface. */
export function setLinkUp(name: string, up: boolean): void {
  load().setLinkUp(name, up);
}

/** Fill in the TCP/UDP checksum of an Ethernet frame (what the receive path does for CHECKSUM_PARTIAL frames). */
export function completeChecksum(frame: Uint8Array): boolean {
  return load().completeChecksum(frame);
}

/**
 * Turn GRO, GSO and TSO off (or on) on an interface (SIOCETHTOOL). With them on, an AF_PACKET socket on a
 * veth may receive super-frames larger than the MTU; ports switch them off so every frame fits the MTU.
 */
export function setOffloads(name: string, on: boolean): OffloadResult {
  return load().setOffloads(name, on);
}
