// One OpenFlow connection (OfConn): HELLO and version negotiation, the
// inactivity probe, a bounded transmit queue, the per-connection state of
// roles and async config, and dispatch of everything else to ofproto. Owns
// its socket; never lets an exception escape a socket handler.
import type { Duplex } from 'node:stream';
import { encodeMessage, tryDecodeMessage, type OfpMessage } from '../openflow/codec.js';
import { OFP13_VERSION, OFPBRC, OFPET, OFPHFC, OFPT } from '../openflow/constants.js';
import { echoReply } from '../openflow/echo.js';
import { errorMsgFromError } from '../openflow/error-msg.js';
import { OfpError } from '../openflow/errors.js';
import { MessageFramer } from '../openflow/header.js';
import { helloVersions, makeHello, negotiateVersion } from '../openflow/hello.js';
import { barrierReply } from '../openflow/barrier.js';
import type { RoleMsg } from '../openflow/role.js';
import type { AsyncConfig, OfConn, OfprotoHandler, OfRole } from '../ofconn.js';
import { asyncAllowed, defaultAsyncConfig, OFP_DEFAULT_MISS_SEND_LEN, type AsyncKind } from './async-policy.js';
import { TokenBucket, type RateLimit } from './rate-limiter.js';
import { OneShotTimer, type Timers } from './timers.js';

export const SUPPORTED_VERSIONS: readonly number[] = [OFP13_VERSION];

/** Messages a slave may not send (OF1.3.5 6.3.6), answered OFPBRC_IS_SLAVE. */
const SLAVE_FORBIDDEN = new Set<number>([OFPT.FLOW_MOD, OFPT.GROUP_MOD, OFPT.PORT_MOD, OFPT.TABLE_MOD, OFPT.METER_MOD, OFPT.PACKET_OUT]);

/** Largest ERROR data: enough for any request and still < 64 KiB with the header. */
const ERROR_DATA_MAX = 0xffff - 12;

export type Logger = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;

export interface ConnectionOptions {
  id: number;
  name: string;
  service: boolean;
  /** Idle time before we send ECHO_REQUEST, then again before we give up; 0 disables. */
  inactivityProbeMs: number;
  /** Cap on bytes waiting to be written (ours plus the socket's). Default 1 MiB. */
  txMaxBytes?: number;
  /** Cap on packet-ins waiting in our queue. Default 100, like OVS's controller_queue_size. */
  txMaxPacketIns?: number;
  /** Packet-in rate limit; undefined for none. */
  rateLimit?: RateLimit;
}

/** What a connection needs from its manager. */
export interface ConnectionHost {
  readonly handler: OfprotoHandler;
  readonly timers: Timers;
  readonly log: Logger;
  /** Role request arbitration across the bridge's connections (ROLE_REPLY or an OfpError). */
  roleRequest(conn: Connection, req: RoleMsg): RoleMsg | OfpError;
  established(conn: Connection): void;
  /** The connection is over for OpenFlow (called once). */
  closed(conn: Connection, reason: string): void;
  /** The socket is gone too (after any flush of a final ERROR). */
  released?(conn: Connection): void;
}

export type ConnectionState = 'hello' | 'active' | 'closed';

export interface ConnectionStats {
  rxMessages: number;
  txMessages: number;
  rxErrors: number;
  /** Packet-ins refused by the rate limiter. */
  packetInRateDropped: number;
  /** Packet-ins dropped because the transmit queue was full. */
  packetInQueueDropped: number;
  /** Messages sent after the connection closed (silently dropped). */
  droppedAfterClose: number;
  encodeErrors: number;
}

interface Queued {
  buf: Buffer;
  packetIn: boolean;
}

export class Connection implements OfConn {
  readonly id: number;
  readonly name: string;
  readonly service: boolean;
  version = OFP13_VERSION;
  private roleValue: OfRole = 'equal';
  missSendLen: number;
  asyncConfig: AsyncConfig = defaultAsyncConfig();
  state: ConnectionState = 'hello';
  /** Why the connection closed (once closed). */
  closeReason: string | undefined;
  readonly connectedAtMs: number;
  readonly stats: ConnectionStats = {
    rxMessages: 0,
    txMessages: 0,
    rxErrors: 0,
    packetInRateDropped: 0,
    packetInQueueDropped: 0,
    droppedAfterClose: 0,
    encodeErrors: 0,
  };

  private readonly framer = new MessageFramer();
  private readonly probeTimer: OneShotTimer;
  private readonly lingerTimer: OneShotTimer;
  private readonly inactivityProbeMs: number;
  private readonly txMaxBytes: number;
  private readonly txMaxPacketIns: number;
  private readonly limiter: TokenBucket | undefined;
  private lastRxMs: number;
  private probeSentMs: number | undefined;
  private nextXid = 1;
  private txq: Queued[] = [];
  private txqHead = 0;
  private txqBytes = 0;
  private txqPacketIns = 0;
  private waitingDrain = false;
  /** Reading stopped while a multipart reply over txMaxBytes drains (see enqueue). */
  private readPaused = false;
  private corked = false;
  /**
   * While a received chunk is being handled: the replies it produced, written
   * in one go when the chunk is done (no cork, no extra tick: a FLOW_MOD +
   * BARRIER round trip costs one write).
   */
  private rxReplies: Buffer[] | null = null;
  private rxRepliesBytes = 0;
  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  constructor(
    private readonly socket: Duplex,
    opts: ConnectionOptions,
    private readonly host: ConnectionHost,
  ) {
    this.id = opts.id;
    this.name = opts.name;
    this.service = opts.service;
    this.missSendLen = opts.service ? 0 : OFP_DEFAULT_MISS_SEND_LEN;
    this.inactivityProbeMs = opts.inactivityProbeMs;
    this.txMaxBytes = opts.txMaxBytes ?? 1024 * 1024;
    this.txMaxPacketIns = opts.txMaxPacketIns ?? 100;
    this.limiter = opts.rateLimit ? new TokenBucket(opts.rateLimit, host.timers) : undefined;
    this.connectedAtMs = host.timers.now();
    this.lastRxMs = this.connectedAtMs;
    this.probeTimer = new OneShotTimer(host.timers, () => this.guard('probe timer', () => this.onProbeTimer()));
    this.lingerTimer = new OneShotTimer(host.timers, () => this.socket.destroy());
  }

  get role(): OfRole {
    return this.roleValue;
  }

  /** Set by the manager's role arbitration only. */
  setRole(role: OfRole): void {
    this.roleValue = role;
  }

  /** True while our ECHO_REQUEST probe is unanswered (OVS's rconn IDLE state). */
  get probing(): boolean {
    return this.probeSentMs !== undefined;
  }

  /** Bytes waiting: our queue plus the socket's own buffer. */
  get txQueuedBytes(): number {
    return this.txqBytes + this.socketQueuedBytes();
  }

  /** What the socket holds plus replies of the chunk being handled. */
  private socketQueuedBytes(): number {
    return this.socket.writableLength + this.rxRepliesBytes;
  }

  /** Attaches to the socket and sends our HELLO. */
  start(): void {
    this.socket.on('data', (chunk: Buffer) => this.guard('receive', () => this.onData(chunk)));
    this.socket.on('drain', () => this.guard('drain', () => this.onDrain()));
    this.socket.on('error', (e: Error) => this.close(`connection error: ${e.message}`));
    this.socket.on('end', () => this.close('connection closed by peer'));
    this.socket.on('close', () => {
      this.lingerTimer.cancel();
      this.close('connection closed');
      this.host.released?.(this);
    });
    this.writeMessage(makeHello(SUPPORTED_VERSIONS, this.xid()));
    this.armProbe(this.helloTimeoutMs());
  }

  /** Queues a message to the peer (OfConn.send). Never throws. */
  send(msg: OfpMessage): void {
    if (this.state === 'closed') {
      this.stats.droppedAfterClose++;
      return;
    }
    const packetIn = msg.type === OFPT.PACKET_IN;
    if (packetIn && this.limiter && !this.limiter.take()) {
      this.stats.packetInRateDropped++;
      return;
    }
    let buf: Buffer;
    try {
      buf = encodeMessage(msg);
    } catch (e) {
      this.stats.encodeErrors++;
      this.host.log('error', `${this.name}: cannot encode message type ${msg.type}: ${(e as Error).message}`);
      return;
    }
    this.enqueue(buf, packetIn, msg.type === OFPT.MULTIPART_REPLY);
  }

  wantsAsync(kind: AsyncKind, reason: number): boolean {
    return this.state === 'active' && asyncAllowed(this.asyncConfig, this.roleValue, this.service, this.missSendLen, kind, reason);
  }

  /** Closes now (idempotent); the manager hears about it once. */
  close(reason: string): void {
    if (this.state === 'closed') return;
    const wasActive = this.state === 'active';
    this.state = 'closed';
    this.closeReason = reason;
    this.probeTimer.cancel();
    this.lingerTimer.cancel();
    this.txq = [];
    this.txqHead = 0;
    this.txqBytes = 0;
    this.txqPacketIns = 0;
    this.rxReplies = null;
    this.rxRepliesBytes = 0;
    this.socket.destroy();
    this.host.log(wasActive ? 'info' : 'debug', `${this.name}: ${reason}`);
    this.host.closed(this, reason);
  }

  /** Tears the socket down now, even while lingering after closeAfterFlush (stop()). */
  destroy(reason = 'stopped'): void {
    this.close(reason);
    this.lingerTimer.cancel();
    this.socket.destroy();
  }

  /** Flushes what is queued, then closes (for ERRORs that end a connection). */
  private closeAfterFlush(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closeReason = reason;
    this.probeTimer.cancel();
    this.host.log('warn', `${this.name}: ${reason}`);
    // Our own queue is dropped; end() flushes the socket's buffer, and the
    // linger timer cuts off a peer that never closes its side.
    this.flushRxReplies();
    this.socket.end();
    this.lingerTimer.arm(1000);
    this.host.closed(this, reason);
  }

  /** A method, not a field test, so TS does not narrow across calls that may close. */
  isClosed(): boolean {
    return this.state === 'closed';
  }

  // --- receive ---------------------------------------------------------------

  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      // A bug in our code or the handler; the daemon must survive a peer.
      this.host.log('error', `${this.name}: ${what}: ${(e as Error)?.stack ?? String(e)}`);
      this.close(`internal error in ${what}`);
    }
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    this.lastRxMs = this.host.timers.now();
    this.probeSentMs = undefined;
    if (this.state === 'hello' && this.framer.bufferedBytes === 0 && chunk.length >= 2 && chunk[1] !== OFPT.HELLO) {
      // Not OpenFlow (say, an HTTP request): fail now rather than wait for
      // the rest of a "message" whose length field is text.
      this.stats.rxMessages++;
      this.helloFailed(OFPHFC.EPERM, `expected HELLO, got message type ${chunk[1]}`, chunk[0]!);
      return;
    }
    let msgs: Buffer[];
    try {
      msgs = this.framer.push(chunk);
    } catch (e) {
      this.framingFailed(e as OfpError);
      return;
    }
    this.rxReplies = [];
    try {
      for (const raw of msgs) {
        if (this.isClosed()) return;
        this.onMessage(raw);
      }
      if (this.framer.failure && !this.isClosed()) this.framingFailed(this.framer.failure);
    } finally {
      this.flushRxReplies();
    }
  }

  /** Writes the replies gathered while handling a chunk (see rxReplies). */
  private flushRxReplies(): void {
    const list = this.rxReplies;
    if (list === null) return;
    this.rxReplies = null;
    this.rxRepliesBytes = 0;
    if (list.length === 0 || this.socket.destroyed) return;
    if (!this.socket.write(list.length === 1 ? list[0]! : Buffer.concat(list))) this.waitingDrain = true;
    else if (this.txqHead < this.txq.length) this.onDrain(); // queued behind these replies, and no 'drain' will come
  }

  private framingFailed(e: OfpError): void {
    this.stats.rxErrors++;
    const xid = e.data.length >= 8 ? e.data.readUInt32BE(4) : 0;
    this.writeMessage(errorMsgFromError(e, this.version, xid));
    this.closeAfterFlush(`bad OpenFlow framing, closing: ${e.message}`);
  }

  private onMessage(raw: Buffer): void {
    this.stats.rxMessages++;
    const decoded = tryDecodeMessage(raw);
    if (this.state === 'hello') {
      this.onHello(raw, decoded);
      return;
    }
    if (decoded instanceof OfpError) {
      this.stats.rxErrors++;
      this.host.log('debug', `${this.name}: rejecting message: ${decoded.message}`);
      this.sendError(decoded, raw);
      return;
    }
    this.dispatch(decoded, raw);
  }

  private onHello(raw: Buffer, decoded: OfpMessage | OfpError): void {
    if (decoded instanceof OfpError || decoded.type !== OFPT.HELLO) {
      const what = decoded instanceof OfpError ? decoded.message : `message type ${decoded.type}`;
      if (!(decoded instanceof OfpError) && decoded.type === OFPT.ERROR) {
        this.close(`peer sent ERROR type ${decoded.errType} code ${decoded.errCode} instead of HELLO`);
        return;
      }
      this.helloFailed(OFPHFC.EPERM, `expected HELLO, got ${what}`, raw[0] ?? OFP13_VERSION);
      return;
    }
    const version = negotiateVersion(SUPPORTED_VERSIONS, decoded);
    if (version === undefined) {
      const theirs = helloVersions(decoded).map((v) => `0x${v.toString(16).padStart(2, '0')}`).join(', ');
      this.helloFailed(OFPHFC.INCOMPATIBLE, `We support version 0x04, you support ${theirs || 'none'}.`, decoded.version);
      return;
    }
    this.version = version;
    this.state = 'active';
    this.probeTimer.cancel(); // the HELLO timeout
    this.armProbe(this.inactivityProbeMs);
    this.host.established(this);
  }

  /** OFPET_HELLO_FAILED with a text explanation (7.4.4), then close. */
  private helloFailed(code: number, text: string, peerVersion: number): void {
    this.stats.rxErrors++;
    // The ERROR layout is the same in every version; answer in the peer's if
    // it is one we know the framing of, so it can print our explanation.
    const version = peerVersion >= 1 && peerVersion <= 6 ? peerVersion : OFP13_VERSION;
    this.writeMessage({ type: OFPT.ERROR, version, xid: 0, errType: OFPET.HELLO_FAILED, errCode: code, data: Buffer.from(text) });
    this.closeAfterFlush(`version negotiation failed: ${text}`);
  }

  private sendError(e: OfpError, raw: Buffer): void {
    if (e.data.length === 0) e.data = Buffer.from(raw.subarray(0, ERROR_DATA_MAX));
    this.send(errorMsgFromError(e, this.version, raw.readUInt32BE(4)));
  }

  private dispatch(msg: OfpMessage, raw: Buffer): void {
    switch (msg.type) {
      case OFPT.HELLO:
        return; // a repeated HELLO is harmless
      case OFPT.ECHO_REQUEST:
        return this.send(echoReply(msg));
      case OFPT.ECHO_REPLY:
        return; // traffic already reset the probe
      case OFPT.FEATURES_REQUEST: {
        const f = this.host.handler.features();
        return this.send({ type: OFPT.FEATURES_REPLY, version: this.version, xid: msg.xid, ...f, reserved: 0 });
      }
      case OFPT.ROLE_REQUEST: {
        const r = this.host.roleRequest(this, msg);
        return r instanceof OfpError ? this.sendError(r, raw) : this.send(r);
      }
      case OFPT.GET_ASYNC_REQUEST:
        return this.send({ type: OFPT.GET_ASYNC_REPLY, version: this.version, xid: msg.xid, ...cloneAsync(this.asyncConfig) });
      case OFPT.SET_ASYNC:
        this.asyncConfig = cloneAsync(msg);
        return;
      case OFPT.BARRIER_REQUEST:
        // handleMessage is synchronous, so every earlier message is done.
        return this.send(barrierReply(msg));
      case OFPT.SET_CONFIG:
        // miss_send_len is per connection (OVS ofconn); the frag flags are
        // the switch's, so ofproto sees the message too.
        this.missSendLen = msg.missSendLen;
        break;
      case OFPT.ERROR:
        this.host.log('info', `${this.name}: peer reports error type ${msg.errType} code ${msg.errCode} (xid 0x${msg.xid.toString(16)})`);
        break;
      default:
        if (this.roleValue === 'slave' && SLAVE_FORBIDDEN.has(msg.type)) {
          return this.sendError(new OfpError(OFPET.BAD_REQUEST, OFPBRC.IS_SLAVE, `message type ${msg.type} from a slave`), raw);
        }
    }
    this.deliver(msg, raw);
  }

  private deliver(msg: OfpMessage, raw: Buffer): void {
    try {
      this.host.handler.handleMessage(this, msg);
    } catch (e) {
      if (e instanceof OfpError) {
        this.sendError(e, raw);
      } else {
        this.host.log('error', `${this.name}: ofproto failed on message type ${msg.type}: ${(e as Error)?.stack ?? String(e)}`);
        this.sendError(new OfpError(OFPET.BAD_REQUEST, OFPBRC.EPERM, `internal error handling message type ${msg.type}`), raw);
      }
    }
  }

  // --- inactivity probe (like OVS rconn: ECHO after idle, drop after as long again) ---

  private helloTimeoutMs(): number {
    return this.inactivityProbeMs > 0 ? this.inactivityProbeMs : 10_000;
  }

  private armProbe(delayMs: number): void {
    if (delayMs > 0) this.probeTimer.arm(delayMs);
  }

  private onProbeTimer(): void {
    const now = this.host.timers.now();
    if (this.state === 'hello') {
      const waitedMs = now - this.connectedAtMs;
      if (waitedMs >= this.helloTimeoutMs()) this.close(`no HELLO after ${(waitedMs / 1000).toFixed(1)} s, disconnecting`);
      else this.armProbe(this.helloTimeoutMs() - waitedMs);
      return;
    }
    if (this.state !== 'active') return;
    const interval = this.inactivityProbeMs;
    if (this.probeSentMs === undefined) {
      const idleMs = now - this.lastRxMs;
      if (idleMs < interval) {
        this.armProbe(interval - idleMs);
        return;
      }
      this.probeSentMs = now;
      this.send({ type: OFPT.ECHO_REQUEST, version: this.version, xid: this.xid(), data: Buffer.alloc(0) });
      this.armProbe(interval);
      return;
    }
    const waitedMs = now - this.probeSentMs;
    if (waitedMs >= interval) {
      this.close(`no response to inactivity probe after ${(waitedMs / 1000).toFixed(1)} s, disconnecting`);
    } else {
      this.armProbe(interval - waitedMs);
    }
  }

  // --- transmit ----------------------------------------------------------------

  private xid(): number {
    const x = this.nextXid;
    this.nextXid = (this.nextXid + 1) >>> 0 || 1;
    return x;
  }

  /** Writes outside the queue's accounting (HELLO, final ERRORs). */
  private writeMessage(msg: OfpMessage): void {
    this.flushRxReplies(); // keep the order of what is already answered
    try {
      this.socket.write(encodeMessage(msg));
      this.stats.txMessages++;
    } catch (e) {
      this.host.log('error', `${this.name}: cannot write: ${(e as Error).message}`);
    }
  }

  /**
   * Writes with the socket corked until the end of this tick, so a burst of
   * messages (a multipart reply, packet-ins of one batch) leaves in one writev.
   */
  private writeBatched(buf: Buffer): boolean {
    if (this.rxReplies !== null) {
      this.rxReplies.push(buf);
      this.rxRepliesBytes += buf.length;
      return true;
    }
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    return this.socket.write(buf);
  }

  /**
   * `bulk`: a part of a multipart reply. The peer asked for all of it (a dump
   * of 100k flows is megabytes), so it is queued beyond txMaxBytes, and, as
   * OVS stops serving a connection with a reply backlog (OFCONN_REPLY_MAX),
   * reading from the peer pauses until the queue has drained.
   */
  private enqueue(buf: Buffer, packetIn: boolean, bulk = false): void {
    if (!this.waitingDrain && this.txq.length === this.txqHead) {
      if (this.socketQueuedBytes() + buf.length > this.txMaxBytes) {
        // Not backpressured yet the socket holds a lot: fall through to the queue rules.
      } else {
        this.stats.txMessages++;
        if (!this.writeBatched(buf)) this.waitingDrain = true;
        return;
      }
    }
    const total = this.txqBytes + this.socketQueuedBytes() + buf.length;
    if (packetIn) {
      if (this.txqPacketIns >= this.txMaxPacketIns || total > this.txMaxBytes) {
        this.stats.packetInQueueDropped++;
        return;
      }
    } else if (total > this.txMaxBytes) {
      this.evictPacketIns(total - this.txMaxBytes);
      if (bulk) {
        if (!this.readPaused) {
          this.readPaused = true;
          this.socket.pause();
        }
      } else if (!this.readPaused && this.txqBytes + this.socketQueuedBytes() + buf.length > this.txMaxBytes) {
        // (While a bulk reply drains, requests are not read: what else comes is async and small.)
        this.close(`transmit queue over ${this.txMaxBytes} bytes: peer is not reading, disconnecting`);
        return;
      }
    }
    this.txq.push({ buf, packetIn });
    this.txqBytes += buf.length;
    if (packetIn) this.txqPacketIns++;
    this.waitingDrain = true;
  }

  /** Drops queued packet-ins, oldest first, until `needBytes` are freed or none are left. */
  private evictPacketIns(needBytes: number): void {
    let freed = 0;
    const kept: Queued[] = [];
    for (let i = this.txqHead; i < this.txq.length; i++) {
      const q = this.txq[i]!;
      if (freed < needBytes && q.packetIn) {
        freed += q.buf.length;
        this.txqBytes -= q.buf.length;
        this.txqPacketIns--;
        this.stats.packetInQueueDropped++;
      } else {
        kept.push(q);
      }
    }
    this.txq = kept;
    this.txqHead = 0;
  }

  private onDrain(): void {
    if (this.state === 'closed') return;
    this.waitingDrain = false;
    while (this.txqHead < this.txq.length) {
      const q = this.txq[this.txqHead++]!;
      this.txqBytes -= q.buf.length;
      if (q.packetIn) this.txqPacketIns--;
      this.stats.txMessages++;
      if (!this.writeBatched(q.buf)) {
        this.waitingDrain = true;
        break;
      }
    }
    if (this.txqHead === this.txq.length) {
      this.txq = [];
      this.txqHead = 0;
      if (this.readPaused) {
        this.readPaused = false;
        this.socket.resume();
      }
    } else if (this.txqHead > 1024) {
      this.txq = this.txq.slice(this.txqHead);
      this.txqHead = 0;
    }
  }
}

function cloneAsync(c: AsyncConfig): AsyncConfig {
  return { packetInMask: [c.packetInMask[0], c.packetInMask[1]], portStatusMask: [c.portStatusMask[0], c.portStatusMask[1]], flowRemovedMask: [c.flowRemovedMask[0], c.flowRemovedMask[1]] };
}
