// The client end of one OpenFlow 1.3 connection for tsvs-ofctl (OVS's vconn
// as ovs-ofctl uses it): connects to unix:PATH or tcp:HOST:PORT, exchanges
// HELLOs, answers ECHO, and matches replies to requests by xid. Requests can
// be pipelined (sendMany + one barrier), so 100k flow-mods cost one round trip.

import { createConnection, type Socket } from 'node:net';
import {
  decodeMessage,
  encodeMessageInto,
  helloVersions,
  makeHello,
  MessageFramer,
  OFP13_VERSION,
  OFPMPF,
  OFPT,
  type ErrorMsg,
  type MultipartReplyMsg,
  type MultipartRequestMsg,
  type OfpMessage,
} from '../ofproto/openflow/index.js';
import { WireWriter } from '../ofproto/openflow/wire.js';

/** A failure of the connection itself (not an OpenFlow ERROR reply); `message` is ready to print. */
export class OfctlConnectionError extends Error {
  readonly code = 'ERR_OFCTL_CONNECTION';
}

/** An OpenFlow ERROR answering one of our requests. */
export class OfctlErrorReply extends Error {
  readonly code = 'ERR_OFCTL_ERROR_REPLY';
  constructor(readonly reply: ErrorMsg) {
    super(`OpenFlow error reply (xid=0x${reply.xid.toString(16)})`);
  }
}

export interface OfctlTarget {
  kind: 'unix' | 'tcp';
  /** Socket path (unix) or host (tcp). */
  path: string;
  port: number;
  /** As the user wrote it, for messages. */
  name: string;
}

/** Flush the pipeline to the socket once this many bytes are queued. */
const FLUSH_BYTES = 256 * 1024;

interface Waiter {
  /** Every reply so far (multipart: all parts). */
  replies: OfpMessage[];
  resolve: (replies: OfpMessage[]) => void;
  reject: (e: Error) => void;
}

export class OfctlConnection {
  private readonly framer = new MessageFramer();
  private readonly waiters = new Map<number, Waiter>();
  /** xids sent without a waiter (pipelined mods): the first ERROR for one is kept. */
  private readonly unanswered = new Set<number>();
  private firstError: ErrorMsg | null = null;
  private failure: Error | null = null;
  private helloSeen: ((e: Error | null) => void) | null = null;
  private peerVersions: number[] | null = null;

  private constructor(
    private readonly sock: Socket,
    readonly target: OfctlTarget,
  ) {
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('error', (e) => this.fail(new OfctlConnectionError(`${target.name}: ${e.message}`)));
    sock.on('close', () => this.fail(new OfctlConnectionError(`${target.name}: connection closed by peer`)));
  }

  /** Connects and negotiates OpenFlow 1.3 (HELLO with a version bitmap, like ovs-ofctl -O OpenFlow13). */
  static async open(target: OfctlTarget, timeoutMs = 10_000): Promise<OfctlConnection> {
    const sock = await new Promise<Socket>((resolve, reject) => {
      const s = target.kind === 'unix' ? createConnection(target.path) : createConnection(target.port, target.path);
      const timer = setTimeout(() => {
        s.destroy();
        reject(new OfctlConnectionError(`${target.name}: connection timed out`));
      }, timeoutMs);
      s.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const why = e.code === 'ENOENT' ? 'No such file or directory' : e.code === 'ECONNREFUSED' ? 'Connection refused' : e.message;
        reject(new OfctlConnectionError(`${target.name}: failed to connect to socket (${why})`));
      });
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(s);
      });
    });
    sock.setNoDelay(true);
    const c = new OfctlConnection(sock, target);
    const seen = new Promise<Error | null>((resolve) => (c.helloSeen = resolve));
    c.write([makeHello([OFP13_VERSION], 1)]);
    let timer: NodeJS.Timeout | undefined;
    const e = await Promise.race([seen, new Promise<Error>((r) => (timer = setTimeout(() => r(new OfctlConnectionError(`${target.name}: no HELLO from the switch`)), timeoutMs)))]);
    clearTimeout(timer);
    if (e) {
      c.close();
      throw e;
    }
    return c;
  }

  private onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.framer.push(chunk);
    } catch (e) {
      this.fail(new OfctlConnectionError(`${this.target.name}: bad OpenFlow stream (${(e as Error).message})`));
      this.sock.destroy();
      return;
    }
    for (const f of frames) {
      let m: OfpMessage;
      try {
        m = decodeMessage(f);
      } catch (e) {
        // A message we cannot decode (e.g. another version): fatal only before HELLO or for a waited-for xid.
        const xid = f.length >= 8 ? f.readUInt32BE(4) : -1;
        if (this.helloSeen || this.waiters.has(xid)) {
          this.fail(new OfctlConnectionError(`${this.target.name}: undecodable reply (${(e as Error).message})`));
          this.sock.destroy();
          return;
        }
        continue;
      }
      this.onMessage(m);
    }
  }

  private onMessage(m: OfpMessage): void {
    if (m.type === OFPT.HELLO) {
      this.peerVersions = helloVersions(m);
      const done = this.helloSeen;
      this.helloSeen = null;
      if (done) {
        const ok = m.version >= OFP13_VERSION && (m.elements.length === 0 ? true : this.peerVersions.includes(OFP13_VERSION));
        const peer = this.peerVersions.map((v) => `0x${v.toString(16).padStart(2, '0')}`).join(', ');
        done(ok ? null : new OfctlConnectionError(`${this.target.name}: version negotiation failed (we support version 0x04, peer supports version ${peer})`));
      }
      return;
    }
    if (this.helloSeen && m.type === OFPT.ERROR) {
      const done = this.helloSeen;
      this.helloSeen = null;
      done(new OfctlErrorReply(m));
      return;
    }
    if (m.type === OFPT.ECHO_REQUEST) {
      this.write([{ type: OFPT.ECHO_REPLY, version: OFP13_VERSION, xid: m.xid, data: m.data }]);
      return;
    }
    const w = this.waiters.get(m.xid);
    if (m.type === OFPT.ERROR) {
      if (w) {
        this.waiters.delete(m.xid);
        w.reject(new OfctlErrorReply(m));
      } else if (this.unanswered.has(m.xid) && !this.firstError) {
        this.firstError = m;
      }
      return;
    }
    if (!w) return; // PACKET_IN, PORT_STATUS, FLOW_REMOVED...: not ours to print
    w.replies.push(m);
    if (m.type === OFPT.MULTIPART_REPLY && m.flags & OFPMPF.REPLY_MORE) return;
    this.waiters.delete(m.xid);
    w.resolve(w.replies);
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    if (this.helloSeen) {
      const done = this.helloSeen;
      this.helloSeen = null;
      done(e);
    }
    for (const w of this.waiters.values()) w.reject(e);
    this.waiters.clear();
  }

  private write(msgs: readonly OfpMessage[]): boolean {
    const w = new WireWriter(64 * msgs.length + 64);
    for (const m of msgs) encodeMessageInto(w, m);
    return this.sock.write(w.finish());
  }

  /** Sends `req` and resolves with its reply (all parts of a multipart reply); an ERROR rejects with OfctlErrorReply. */
  transact(req: OfpMessage): Promise<OfpMessage[]> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiters.set(req.xid, { replies: [], resolve, reject });
      this.write([req]);
    });
  }

  /** A multipart request; resolves with every reply message (one per part). */
  async dump(req: MultipartRequestMsg): Promise<MultipartReplyMsg[]> {
    return (await this.transact(req)) as MultipartReplyMsg[];
  }

  /**
   * Sends every message without waiting, then a barrier with `barrierXid`;
   * resolves once the barrier is answered with the first ERROR any of them
   * drew (null if none), like vconn_transact_multiple_noreply().
   */
  async sendMany(msgs: Iterable<OfpMessage>, barrierXid: number): Promise<ErrorMsg | null> {
    let w = new WireWriter(FLUSH_BYTES + 4096);
    for (const m of msgs) {
      if (this.failure) throw this.failure;
      this.unanswered.add(m.xid);
      encodeMessageInto(w, m);
      if (w.length >= FLUSH_BYTES) {
        const ok = this.sock.write(w.finish());
        w = new WireWriter(FLUSH_BYTES + 4096);
        if (!ok) await this.drained();
      }
    }
    if (w.length > 0) this.sock.write(w.finish());
    await this.transact({ type: OFPT.BARRIER_REQUEST, version: OFP13_VERSION, xid: barrierXid });
    return this.firstError;
  }

  private drained(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onDrain = (): void => {
        this.sock.off('close', onClose);
        resolve();
      };
      const onClose = (): void => {
        this.sock.off('drain', onDrain);
        reject(this.failure ?? new OfctlConnectionError(`${this.target.name}: connection closed by peer`));
      };
      this.sock.once('drain', onDrain);
      this.sock.once('close', onClose);
    });
  }

  close(): void {
    this.failure ??= new OfctlConnectionError('connection closed');
    this.sock.destroy();
  }
}
