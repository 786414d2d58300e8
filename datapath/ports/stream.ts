// Interface type `stream`: a QEMU guest NIC over `-netdev stream` on a unix
// socket. Wire format (QEMU net/stream.c): each frame is a 4-byte big-endian
// length and that many bytes of Ethernet frame, both ways; no FCS, no vnet
// header, short frames unpadded.
//
// Roles (options:role):
// - server (default): tsvs listens on options:path (mode 0600; a stale socket
//   file there is replaced) and QEMU connects (`-netdev stream,server=off`).
//   One connection at a time: a new connection REPLACES the current one,
//   because a restarted QEMU reconnects before the old connection's close is
//   always noticed; the replaced connection is closed and counted.
// - client: QEMU listens (`-netdev stream,server=on`) and tsvs connects, and
//   connects again with bounded exponential backoff whenever the connection
//   ends (QEMU restarted) or cannot be made.
//
// Receive parses frames straight out of each socket chunk into the port's
// PacketBatch; only a frame split across chunks is carried over, in one
// preallocated buffer. A zero or oversized length is a protocol error: it
// closes that connection only (rx error + log line). Transmit appends frames
// to a preallocated buffer and writes it with one socket write per flush; while
// a write is outstanding frames go to a second buffer, and when that is full
// they are dropped and counted (the peer is not reading).

import { chmod, lstat, unlink } from 'node:fs/promises';
import * as net from 'node:net';
import { DpifError } from '../dpif-error.js';
import { PacketBatch, SLOT_FRAME_MAX } from '../packet-batch.js';
import { macOption, mtuOption, realTimers, stderrLog, type PortLog, type PortTimers } from './port-options.js';
import { newPortStats, type Port, type PortStats, type RxSink } from './port.js';

/** QEMU's own receive buffer (NET_BUFSIZE): it drops a connection whose length is larger. */
export const STREAM_LENGTH_LIMIT = 69632;
/** Default largest frame accepted: a 65535-byte IP packet plus Ethernet and one VLAN header. */
export const STREAM_FRAME_MAX_DEFAULT = 65535 + 18;
const SEND_QUEUE_BYTES_DEFAULT = 256 * 1024;
const BACKOFF_MIN_MS_DEFAULT = 100;
const BACKOFF_MAX_MS_DEFAULT = 2000;
const SMALL_COPY_MAX = 256;

export type StreamRole = 'server' | 'client';

export interface StreamPortOptions {
  /** Unix socket path (options:path); at most 107 bytes. */
  path: string;
  /** server (default): tsvs listens; client: tsvs connects to a listening QEMU. */
  role?: StreamRole;
  /** options:mac; default a locally administered MAC derived from the name. */
  mac?: string;
  mtu?: number;
  /** Largest frame length accepted from the peer; larger (or zero) closes the connection. */
  maxFrameBytes?: number;
  /** Bytes of each of the two transmit buffers (length headers included). */
  sendQueueBytes?: number;
  /** Client role: first and largest reconnect delay. */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  timers?: PortTimers;
  log?: PortLog;
}

export class StreamPort implements Port {
  readonly type = 'stream';
  portNo = 0;
  readonly stats: PortStats = newPortStats();
  readonly mac: Uint8Array;
  readonly mtu: number;
  readonly path: string;
  readonly role: StreamRole;
  readonly maxFrameBytes: number;
  /** Connections accepted (server) or made (client). */
  connections = 0;
  /** Server role: connections closed because a newer one replaced them. */
  replaced = 0;
  /** Client role: connection attempts that failed. */
  connectFailures = 0;

  private sink: RxSink | null = null;
  private server: net.Server | null = null;
  private sock: net.Socket | null = null;
  private connecting: net.Socket | null = null;
  private stopped = true;
  private listening = false;

  private readonly rx = new PacketBatch();
  /** A record (length header + frame) split across chunks; carryLen bytes of it so far. */
  private readonly carry: Buffer;
  private carryLen = 0;

  /** Frames queued since the last write; `spare` is owned by the outstanding write, if any. */
  private tx: Buffer;
  private spare: Buffer;
  private txLen = 0;
  private txFrames = 0;
  /** Frames in the outstanding write; its sequence number (0 = none). */
  private writingFrames = 0;
  private writeSeq = 0;
  private writing = 0;

  private readonly timers: PortTimers;
  private readonly log: PortLog;
  private readonly backoffMinMs: number;
  private readonly backoffMaxMs: number;
  private backoffMs: number;
  private retryTimer: unknown = null;
  private failing = false;

  constructor(
    readonly name: string,
    opts: StreamPortOptions,
  ) {
    if (typeof opts.path !== 'string' || opts.path === '') throw new DpifError('EINVAL', `${name}: stream port needs options:path`);
    if (Buffer.byteLength(opts.path) > 107) throw new DpifError('EINVAL', `${name}: options:path is longer than 107 bytes (sun_path)`);
    const role = opts.role ?? 'server';
    if (role !== 'server' && role !== 'client') throw new DpifError('EINVAL', `${name}: options:role "${String(role)}" is not server or client`);
    this.path = opts.path;
    this.role = role;
    this.mac = macOption(name, opts.mac);
    this.mtu = mtuOption(name, opts.mtu, 65535);
    const max = opts.maxFrameBytes ?? STREAM_FRAME_MAX_DEFAULT;
    if (!Number.isInteger(max) || max < 60 || max > STREAM_LENGTH_LIMIT) throw new DpifError('EINVAL', `${name}: maxFrameBytes ${max} is not 60..${STREAM_LENGTH_LIMIT}`);
    this.maxFrameBytes = max;
    this.carry = Buffer.alloc(4 + max);
    const q = opts.sendQueueBytes ?? SEND_QUEUE_BYTES_DEFAULT;
    if (!Number.isInteger(q) || q < 64) throw new DpifError('EINVAL', `${name}: sendQueueBytes ${q} is too small`);
    this.tx = Buffer.alloc(q);
    this.spare = Buffer.alloc(q);
    this.timers = opts.timers ?? realTimers;
    this.log = opts.log ?? stderrLog;
    this.backoffMinMs = opts.backoffMinMs ?? BACKOFF_MIN_MS_DEFAULT;
    this.backoffMaxMs = Math.max(this.backoffMinMs, opts.backoffMaxMs ?? BACKOFF_MAX_MS_DEFAULT);
    this.backoffMs = this.backoffMinMs;
  }

  /** Build from OVS-style Interface options (options:path, options:role, options:mac). */
  static fromOptions(name: string, options: Record<string, string>, extra: Partial<StreamPortOptions> = {}): StreamPort {
    const role = options.role;
    if (role !== undefined && role !== 'server' && role !== 'client') throw new DpifError('EINVAL', `${name}: options:role "${role}" is not server or client`);
    return new StreamPort(name, { ...extra, path: options.path ?? '', role, mac: options.mac ?? extra.mac });
  }

  /** State for appctl/metrics (JSON-able). */
  status(): { type: string; role: StreamRole; path: string; carrier: boolean; connections: number; replaced: number; connectFailures: number; nextBackoffMs: number; txQueuedBytes: number } {
    return {
      type: this.type,
      role: this.role,
      path: this.path,
      carrier: this.carrier,
      connections: this.connections,
      replaced: this.replaced,
      connectFailures: this.connectFailures,
      nextBackoffMs: this.backoffMs,
      txQueuedBytes: this.txLen,
    };
  }

  /** A QEMU peer is connected. */
  get carrier(): boolean {
    return this.sock !== null;
  }

  async start(sink: RxSink): Promise<void> {
    if (!this.stopped) return;
    this.sink = sink;
    this.stopped = false;
    if (this.role === 'client') {
      this.connect();
      return;
    }
    const server = net.createServer({ pauseOnConnect: false }, (s) => this.accept(s));
    try {
      await removeStaleSocket(this.name, this.path);
      await new Promise<void>((resolve, reject) => {
        const fail = (e: Error): void => reject(new DpifError('EADDRINUSE', `${this.name}: cannot listen on ${this.path}: ${e.message}`));
        server.once('error', fail);
        server.listen(this.path, () => {
          server.off('error', fail);
          resolve();
        });
      });
      // Between bind and chmod the socket has the umask's mode; chmod closes that window before QEMU is told the path.
      await chmod(this.path, 0o600);
    } catch (e) {
      this.stopped = true;
      this.sink = null;
      server.close();
      throw e;
    }
    this.server = server;
    this.listening = true;
    server.on('error', (e) => this.log(`${this.name}: listener error on ${this.path}: ${e.message}`));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.sink = null;
    if (this.retryTimer !== null) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.connecting !== null) this.connecting.destroy();
    this.connecting = null;
    const s = this.sock;
    if (s !== null) {
      this.detach();
      s.destroy();
    }
    const server = this.server;
    this.server = null;
    if (server !== null) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (this.listening) await unlink(this.path).catch(() => undefined);
      this.listening = false;
    }
  }

  // --- connections -------------------------------------------------------------

  private accept(s: net.Socket): void {
    if (this.stopped) {
      s.destroy();
      return;
    }
    const old = this.sock;
    if (old !== null) {
      this.log(`${this.name}: new connection on ${this.path} replaces the current one`);
      this.replaced++;
      this.detach();
      old.destroy();
    }
    this.attach(s);
  }

  private attach(s: net.Socket): void {
    this.sock = s;
    this.connections++;
    this.backoffMs = this.backoffMinMs;
    s.on('data', (chunk: Buffer) => this.onData(s, chunk));
    s.on('error', (e) => {
      if (s === this.sock) this.log(`${this.name}: connection error: ${e.message}`);
    });
    s.on('close', () => {
      if (s !== this.sock) return;
      this.detach();
      if (this.role === 'client') this.scheduleConnect();
    });
  }

  /** Forget the current connection: a partial frame is an rx error, queued output is dropped. */
  private detach(): void {
    this.sock = null;
    if (this.carryLen > 0) {
      const want = this.carryLen >= 4 ? 4 + this.carry.readUInt32BE(0) : 4;
      this.log(`${this.name}: peer went away mid-frame (${this.carryLen} of ${want} bytes)`);
      this.stats.rxErrors++;
      this.carryLen = 0;
    }
    this.stats.txDropped += this.txFrames + this.writingFrames;
    this.stats.txPackets -= this.txFrames + this.writingFrames;
    this.txLen = 0;
    this.txFrames = 0;
    this.writingFrames = 0;
    this.writing = 0;
  }

  private connect(): void {
    this.retryTimer = null;
    if (this.stopped) return;
    const s = net.createConnection(this.path);
    this.connecting = s;
    s.once('connect', () => {
      if (this.connecting !== s) return;
      this.connecting = null;
      if (this.failing) this.log(`${this.name}: connected to ${this.path}`);
      this.failing = false;
      this.attach(s);
    });
    s.on('error', (e) => {
      if (this.connecting !== s) return;
      this.connectFailures++;
      if (!this.failing) this.log(`${this.name}: cannot connect to ${this.path} (${(e as NodeJS.ErrnoException).code ?? e.message}); retrying`);
      this.failing = true;
    });
    s.on('close', () => {
      if (this.connecting !== s) return;
      this.connecting = null;
      this.scheduleConnect();
    });
  }

  private scheduleConnect(): void {
    if (this.stopped || this.retryTimer !== null) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMaxMs, delay * 2);
    this.retryTimer = this.timers.setTimeout(() => this.connect(), delay);
  }

  /** Client role: delay before the next connection attempt (for tests and appctl). */
  get nextBackoffMs(): number {
    return this.backoffMs;
  }

  // --- receive -----------------------------------------------------------------

  private onData(s: net.Socket, c: Buffer): void {
    if (s !== this.sock) return;
    const n = c.length;
    let pos = 0;
    if (this.carryLen > 0) {
      pos = this.fillCarry(c);
      if (pos < 0) return this.badLength(s, this.carry.readUInt32BE(0));
      if (this.carryLen > 0) return; // still incomplete: the chunk is used up
    }
    const max = this.maxFrameBytes;
    while (n - pos >= 4) {
      const len = c.readUInt32BE(pos);
      if (len === 0 || len > max) {
        this.deliver();
        return this.badLength(s, len);
      }
      if (n - pos - 4 < len) break;
      this.take(c, pos + 4, len);
      pos += 4 + len;
    }
    if (pos < n) {
      c.copy(this.carry, 0, pos, n);
      this.carryLen = n - pos;
    }
    this.deliver();
  }

  /** Continue the carried record from the start of c; returns bytes used, or -1 for a bad length. */
  private fillCarry(c: Buffer): number {
    const carry = this.carry;
    let pos = 0;
    if (this.carryLen < 4) {
      const k = Math.min(4 - this.carryLen, c.length);
      c.copy(carry, this.carryLen, 0, k);
      this.carryLen += k;
      pos = k;
      if (this.carryLen < 4) return pos;
      const len = carry.readUInt32BE(0);
      if (len === 0 || len > this.maxFrameBytes) return -1;
    }
    const len = carry.readUInt32BE(0);
    const k = Math.min(4 + len - this.carryLen, c.length - pos);
    c.copy(carry, this.carryLen, pos, pos + k);
    this.carryLen += k;
    pos += k;
    if (this.carryLen === 4 + len) {
      this.carryLen = 0;
      this.take(carry, 4, len);
    }
    return pos;
  }

  private take(buf: Buffer, off: number, len: number): void {
    if (len > SLOT_FRAME_MAX) {
      this.stats.rxDropped++; // legal on the wire, larger than a batch slot
      return;
    }
    if (this.rx.full) this.deliver();
    this.rx.push(buf, off, len);
    this.stats.rxBytes += len;
  }

  private deliver(): void {
    const b = this.rx;
    if (b.count === 0) return;
    this.stats.rxPackets += b.count;
    const sink = this.sink;
    if (sink !== null) sink.receive(this.portNo, b);
    else this.stats.rxDropped += b.count;
    b.clear();
  }

  private badLength(s: net.Socket, len: number): void {
    this.stats.rxErrors++;
    this.log(`${this.name}: bad frame length ${len} on ${this.path} (allowed 1..${this.maxFrameBytes}); closing the connection`);
    this.carryLen = 0;
    s.destroy(); // 'close' detaches it (and reconnects in the client role)
  }

  // --- transmit ----------------------------------------------------------------

  send(buf: Uint8Array, off: number, len: number): void {
    if (this.sock === null || len <= 0 || len > this.maxFrameBytes) {
      this.stats.txDropped++;
      return;
    }
    let p = this.txLen;
    const t = this.tx;
    if (p + 4 + len > t.length) {
      this.stats.txDropped++;
      return;
    }
    t[p] = len >>> 24;
    t[p + 1] = (len >>> 16) & 0xff;
    t[p + 2] = (len >>> 8) & 0xff;
    t[p + 3] = len & 0xff;
    p += 4;
    if (len <= SMALL_COPY_MAX) for (let k = 0; k < len; k++) t[p + k] = buf[off + k];
    else t.set(buf.subarray(off, off + len), p);
    this.txLen = p + len;
    this.txFrames++;
    this.stats.txPackets++;
    this.stats.txBytes += len;
  }

  flush(): void {
    if (this.txLen === 0 || this.writing !== 0 || this.sock === null) return;
    this.write(this.sock);
  }

  private write(s: net.Socket): void {
    const out = this.tx;
    const n = this.txLen;
    this.tx = this.spare;
    this.spare = out;
    this.writingFrames = this.txFrames;
    this.txLen = 0;
    this.txFrames = 0;
    const seq = ++this.writeSeq;
    this.writing = seq;
    s.write(out.subarray(0, n), (err) => this.written(seq, err));
  }

  private written(seq: number, err: Error | null | undefined): void {
    if (this.writing !== seq) return; // a connection that has since gone away
    this.writing = 0;
    if (err) {
      this.stats.txErrors += this.writingFrames;
      this.stats.txPackets -= this.writingFrames;
    }
    this.writingFrames = 0;
    if (this.txLen > 0 && this.sock !== null) this.write(this.sock);
  }
}

/** Remove a leftover socket file at path (a dead QEMU/tsvs leaves one); refuse to remove anything else. */
async function removeStaleSocket(name: string, path: string): Promise<void> {
  let st;
  try {
    st = await lstat(path);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new DpifError('EEXIST', `${name}: ${path} exists and is not a socket`);
  await unlink(path);
}
