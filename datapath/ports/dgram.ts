// Interface type `dgram`: a QEMU guest NIC over `-netdev dgram` with UDP on
// loopback. One datagram is exactly one Ethernet frame (no header). tsvs binds
// options:local=HOST:PORT and sends to options:remote=HOST:PORT, where QEMU
// binds (QEMU: local.port=<remote>, remote.port=<local>).
//
// Unix datagram sockets (QEMU's local.type=unix) are not supported: Node's
// dgram module has no AF_UNIX, so a path in options:local/remote is refused.
//
// Receive: datagrams arriving in one poll phase are gathered into the port's
// batch and handed to the datapath once, on the next check phase
// (setImmediate), or as soon as the batch is full. Transmit: node:dgram has
// no sendmmsg, so each frame is one send(); frames are copied into a fixed
// ring of preallocated slots that a send holds until its callback, and a full
// ring drops (counted). Carrier: the socket is bound (UDP has no connection
// to watch; a missing QEMU shows as tx frames with no rx).

import * as dgram from 'node:dgram';
import { DpifError } from '../dpif-error.js';
import { PacketBatch, SLOT_FRAME_MAX } from '../packet-batch.js';
import { macOption, mtuOption, stderrLog, type PortLog } from './port-options.js';
import { newPortStats, type Port, type PortStats, type RxSink } from './port.js';

const SEND_SLOTS_DEFAULT = 128;
const SMALL_COPY_MAX = 256;

export interface DgramPortOptions {
  /** HOST:PORT tsvs binds (options:local). */
  local: string;
  /** HOST:PORT QEMU binds, where tsvs sends (options:remote). */
  remote: string;
  mac?: string;
  mtu?: number;
  /** Transmit ring size in frames. */
  sendSlots?: number;
  log?: PortLog;
}

export interface UdpEndpoint {
  host: string;
  port: number;
}

/** Parse HOST:PORT (IPv4 only); a unix path is refused with ENOTSUP. */
export function parseUdpEndpoint(name: string, what: string, text: string | undefined): UdpEndpoint {
  if (text === undefined || text === '') throw new DpifError('EINVAL', `${name}: dgram port needs options:${what}=HOST:PORT`);
  if (text.startsWith('/') || text.startsWith('unix:')) {
    throw new DpifError('ENOTSUP', `${name}: options:${what}=${text}: unix datagram sockets are not supported (Node has no AF_UNIX dgram); use 127.0.0.1:PORT or a stream port`);
  }
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : -1;
  if (m === null || port < 0 || port > 65535) throw new DpifError('EINVAL', `${name}: options:${what}="${text}" is not IPV4:PORT`);
  return { host: m[1], port };
}

export class DgramPort implements Port {
  readonly type = 'dgram';
  portNo = 0;
  readonly stats: PortStats = newPortStats();
  readonly mac: Uint8Array;
  readonly mtu: number;
  readonly local: UdpEndpoint;
  readonly remote: UdpEndpoint;
  /** Datagrams from an address other than options:remote (ignored). */
  strangers = 0;

  private sink: RxSink | null = null;
  private sock: dgram.Socket | null = null;
  private readonly rx = new PacketBatch();
  private scheduled: NodeJS.Immediate | null = null;
  private readonly log: PortLog;

  private readonly slots: Buffer[] = [];
  private readonly slotLen: Int32Array;
  private readonly done: Array<(err: Error | null) => void> = [];
  /** Free slot numbers (a stack) and slots queued for the next flush. */
  private readonly free: Int32Array;
  private freeCount: number;
  private readonly queued: Int32Array;
  private queuedCount = 0;
  private readonly maxFrame: number;

  constructor(
    readonly name: string,
    opts: DgramPortOptions,
  ) {
    this.local = parseUdpEndpoint(name, 'local', opts.local);
    this.remote = parseUdpEndpoint(name, 'remote', opts.remote);
    this.mac = macOption(name, opts.mac);
    this.mtu = mtuOption(name, opts.mtu, 65535);
    this.log = opts.log ?? stderrLog;
    // Largest frame: MTU plus Ethernet and two VLAN headers, capped by a batch slot.
    this.maxFrame = Math.min(SLOT_FRAME_MAX, this.mtu + 22);
    const n = opts.sendSlots ?? SEND_SLOTS_DEFAULT;
    if (!Number.isInteger(n) || n < 1) throw new DpifError('EINVAL', `${name}: sendSlots ${n} is not a positive integer`);
    this.slotLen = new Int32Array(n);
    this.free = new Int32Array(n);
    this.queued = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      this.slots.push(Buffer.alloc(this.maxFrame));
      this.free[i] = n - 1 - i;
      this.done.push((err) => this.sent(i, err));
    }
    this.freeCount = n;
  }

  static fromOptions(name: string, options: Record<string, string>, extra: Partial<DgramPortOptions> = {}): DgramPort {
    return new DgramPort(name, { ...extra, local: options.local ?? '', remote: options.remote ?? '', mac: options.mac ?? extra.mac });
  }

  /** State for appctl/metrics (JSON-able). */
  status(): { type: string; local: string; remote: string; carrier: boolean; strangers: number; txInFlight: number } {
    return {
      type: this.type,
      local: `${this.local.host}:${this.local.port}`,
      remote: `${this.remote.host}:${this.remote.port}`,
      carrier: this.carrier,
      strangers: this.strangers,
      txInFlight: this.slots.length - this.freeCount,
    };
  }

  get carrier(): boolean {
    return this.sock !== null;
  }

  async start(sink: RxSink): Promise<void> {
    if (this.sock !== null) return;
    const s = dgram.createSocket({ type: 'udp4' });
    await new Promise<void>((resolve, reject) => {
      const fail = (e: Error): void => {
        s.close();
        reject(new DpifError('EADDRINUSE', `${this.name}: cannot bind ${this.local.host}:${this.local.port}: ${e.message}`));
      };
      s.once('error', fail);
      s.bind(this.local.port, this.local.host, () => {
        s.off('error', fail);
        resolve();
      });
    });
    s.on('error', (e) => this.log(`${this.name}: socket error: ${e.message}`));
    s.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    this.sink = sink;
    this.sock = s;
  }

  async stop(): Promise<void> {
    const s = this.sock;
    if (s === null) return;
    this.sock = null;
    this.sink = null;
    if (this.scheduled !== null) clearImmediate(this.scheduled);
    this.scheduled = null;
    this.rx.clear();
    this.stats.txDropped += this.queuedCount;
    this.stats.txPackets -= this.queuedCount;
    for (let i = 0; i < this.queuedCount; i++) this.free[this.freeCount++] = this.queued[i];
    this.queuedCount = 0;
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  // --- receive -----------------------------------------------------------------

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (rinfo.port !== this.remote.port || rinfo.address !== this.remote.host) {
      this.strangers++;
      return;
    }
    const len = msg.length;
    if (len < 14 || len > SLOT_FRAME_MAX) {
      if (len < 14) this.stats.rxErrors++;
      else this.stats.rxDropped++;
      return;
    }
    if (this.rx.full) this.deliver();
    this.rx.push(msg, 0, len);
    this.stats.rxBytes += len;
    if (this.scheduled === null) this.scheduled = setImmediate(this.deliver);
  }

  private readonly deliver = (): void => {
    if (this.scheduled !== null) clearImmediate(this.scheduled);
    this.scheduled = null;
    const b = this.rx;
    if (b.count === 0) return;
    this.stats.rxPackets += b.count;
    if (this.sink !== null) this.sink.receive(this.portNo, b);
    b.clear();
  };

  // --- transmit ----------------------------------------------------------------

  send(buf: Uint8Array, off: number, len: number): void {
    if (this.sock === null || len > this.maxFrame || this.freeCount === 0) {
      this.stats.txDropped++;
      return;
    }
    const slot = this.free[--this.freeCount];
    const t = this.slots[slot];
    if (len <= SMALL_COPY_MAX) for (let k = 0; k < len; k++) t[k] = buf[off + k];
    else t.set(buf.subarray(off, off + len), 0);
    this.slotLen[slot] = len;
    this.queued[this.queuedCount++] = slot;
    this.stats.txPackets++;
    this.stats.txBytes += len;
  }

  flush(): void {
    const s = this.sock;
    if (s === null) return;
    const { host, port } = this.remote;
    for (let i = 0; i < this.queuedCount; i++) {
      const slot = this.queued[i];
      s.send(this.slots[slot], 0, this.slotLen[slot], port, host, this.done[slot]);
    }
    this.queuedCount = 0;
  }

  private sent(slot: number, err: Error | null): void {
    if (err) {
      this.stats.txErrors++;
      this.stats.txPackets--;
    }
    this.free[this.freeCount++] = slot;
  }
}
