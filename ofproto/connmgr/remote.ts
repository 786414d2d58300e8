// The two kinds of configured remote: an active one (tcp:/ssl:/unix:) that
// connects out and reconnects with exponential backoff like OVS's rconn, and
// a passive one (ptcp:/pssl:/punix:) that listens and accepts connections.
import type { Socket } from 'node:net';
import type { OfRole } from '../ofconn.js';
import type { Connection, Logger } from './connection.js';
import type { RateLimit } from './rate-limiter.js';
import { formatTarget, type Target } from './target.js';
import { OneShotTimer, type Timers } from './timers.js';
import { closeListening, dial, listen, type Listening, type SslMaterial } from './transport.js';

/** OVS rconn states, as shown in the Controller table's status:state. */
export type RconnState = 'VOID' | 'BACKOFF' | 'CONNECTING' | 'ACTIVE' | 'IDLE';

export interface RemoteSettings {
  inactivityProbeMs: number;
  maxBackoffMs: number;
  rateLimit: RateLimit | undefined;
  service: boolean;
}

/** What a remote needs from the manager. */
export interface RemoteHost {
  readonly timers: Timers;
  readonly log: Logger;
  ssl(): SslMaterial | undefined;
  /** Wraps a ready socket in a Connection (not yet started) reporting its close to `onClosed`. */
  createConnection(socket: Socket, name: string, settings: RemoteSettings, onClosed: (c: Connection, reason: string) => void): Connection;
  connectFailed(target: string, reason: string): void;
}

/** One row of OVS's Controller table, as connmgr knows it. */
export interface ControllerStatus {
  target: string;
  isConnected: boolean;
  /** OVS's names: "other" (equal), "master", "slave". */
  role: 'other' | 'master' | 'slave';
  /** Rconn state for active targets; "LISTENING" or "VOID" for passive ones. */
  state: RconnState | 'LISTENING';
  lastError?: string;
  secSinceConnect?: number;
  secSinceDisconnect?: number;
  /** Passive targets: the address actually bound (port 0 resolved). */
  bound?: string;
  /** Passive targets: connections currently accepted. */
  nConnections?: number;
}

export function ovsRoleName(role: OfRole): ControllerStatus['role'] {
  return role === 'equal' ? 'other' : role;
}

const INITIAL_BACKOFF_MS = 1000;
const MIN_CONNECT_TIMEOUT_MS = 2000;

export class ActiveRemote {
  readonly name: string;
  private state: RconnState = 'VOID';
  private conn: Connection | undefined;
  private pending: Socket | undefined;
  private readonly timer: OneShotTimer;
  /** Delay before the next attempt after a failure: 1 s doubling to maxBackoffMs. */
  private nextBackoffMs = INITIAL_BACKOFF_MS;
  private lastError: string | undefined;
  private lastConnectedMs: number | undefined;
  private lastDisconnectedMs: number | undefined;
  private stopped = true;
  /** Connection attempts so far (for tests and appctl). */
  attempts = 0;

  constructor(
    readonly target: Target,
    readonly settings: RemoteSettings,
    private readonly host: RemoteHost,
  ) {
    this.name = formatTarget(target);
    this.timer = new OneShotTimer(host.timers, () => this.onTimer());
  }

  get connection(): Connection | undefined {
    return this.conn;
  }

  /** The delay the next failure will wait (exposed for tests). */
  get backoffMs(): number {
    return this.nextBackoffMs;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.timer.cancel();
    this.pending?.destroy();
    this.pending = undefined;
    this.conn?.destroy('controller removed or bridge stopped');
    this.conn = undefined;
    this.state = 'VOID';
  }

  status(): ControllerStatus {
    const now = this.host.timers.now();
    let state = this.state;
    if (state === 'ACTIVE' && this.conn?.probing) state = 'IDLE';
    const s: ControllerStatus = {
      target: this.name,
      isConnected: state === 'ACTIVE' || state === 'IDLE',
      role: ovsRoleName(this.conn?.role ?? 'equal'),
      state,
    };
    if (this.lastError !== undefined) s.lastError = this.lastError;
    if (this.lastConnectedMs !== undefined) s.secSinceConnect = Math.floor((now - this.lastConnectedMs) / 1000);
    if (this.lastDisconnectedMs !== undefined) s.secSinceDisconnect = Math.floor((now - this.lastDisconnectedMs) / 1000);
    return s;
  }

  /** Called by the manager once the HELLO exchange succeeded. */
  established(): void {
    this.state = 'ACTIVE';
    this.lastConnectedMs = this.host.timers.now();
    this.nextBackoffMs = INITIAL_BACKOFF_MS;
  }

  private onTimer(): void {
    if (this.stopped) return;
    if (this.state === 'BACKOFF') this.connect();
    else if (this.state === 'CONNECTING' && this.pending) this.fail('connection timed out');
  }

  private connect(): void {
    if (this.stopped) return;
    this.state = 'CONNECTING';
    this.attempts++;
    let dialed;
    try {
      dialed = dial(this.target, this.host.ssl());
    } catch (e) {
      this.fail((e as Error).message);
      return;
    }
    const { socket, readyEvent } = dialed;
    this.pending = socket;
    const onError = (e: Error): void => {
      if (this.pending !== socket) return;
      this.fail(e.message);
    };
    socket.once('error', onError);
    socket.once('close', () => {
      if (this.pending === socket) this.fail('connection closed during connect');
    });
    socket.once(readyEvent, () => {
      if (this.pending !== socket || this.stopped) return;
      this.pending = undefined;
      this.timer.cancel();
      socket.off('error', onError);
      const conn = this.host.createConnection(socket, this.name, this.settings, (c, reason) => this.onClosed(c, reason));
      this.conn = conn;
      conn.start();
    });
    this.timer.arm(Math.max(MIN_CONNECT_TIMEOUT_MS, this.nextBackoffMs));
  }

  private fail(reason: string): void {
    const socket = this.pending;
    this.pending = undefined;
    socket?.destroy();
    this.lastError = reason;
    this.host.log('warn', `${this.name}: connection failed (${reason}), retrying in ${this.nextBackoffMs / 1000} s`);
    this.host.connectFailed(this.name, reason);
    this.backoff();
  }

  private backoff(): void {
    if (this.stopped) return;
    this.state = 'BACKOFF';
    this.timer.arm(this.nextBackoffMs);
    this.nextBackoffMs = Math.min(this.nextBackoffMs * 2, Math.max(INITIAL_BACKOFF_MS, this.settings.maxBackoffMs));
  }

  private onClosed(c: Connection, reason: string): void {
    if (c !== this.conn) return;
    this.conn = undefined;
    if (this.stopped) return;
    if (this.state === 'ACTIVE') {
      this.lastDisconnectedMs = this.host.timers.now();
      this.lastError = reason;
      this.backoff();
    } else {
      // Closed before the HELLO exchange finished: a failed attempt.
      this.fail(reason);
    }
  }
}

export class PassiveRemote {
  readonly name: string;
  private listening: Listening | undefined;
  private readonly conns = new Set<Connection>();
  private lastError: string | undefined;
  private nextConnNo = 1;
  private stopped = true;

  constructor(
    readonly target: Target,
    readonly settings: RemoteSettings,
    private readonly host: RemoteHost,
    /** Accepted connections beyond this are closed at once. */
    private readonly maxConnections = 64,
  ) {
    this.name = formatTarget(target);
  }

  /** The bound target, e.g. "ptcp:40123:127.0.0.1", once listening. */
  get bound(): string | undefined {
    return this.listening?.bound;
  }

  async start(): Promise<void> {
    this.stopped = false;
    let l: Listening;
    try {
      l = await listen(this.target, this.host.ssl());
    } catch (e) {
      this.lastError = (e as Error).message;
      this.host.log('error', `${this.name}: cannot listen: ${this.lastError}`);
      return;
    }
    if (this.stopped) {
      await closeListening(l);
      return;
    }
    this.listening = l;
    l.server.on('error', (e) => {
      this.lastError = e.message;
      this.host.log('error', `${this.name}: ${e.message}`);
    });
    l.server.on('tlsClientError', (e: Error) => this.host.log('warn', `${this.name}: TLS handshake with a client failed: ${e.message}`));
    l.server.on(l.connectionEvent, (socket: Socket) => this.accept(socket));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const c of [...this.conns]) c.destroy('listener removed or bridge stopped');
    this.conns.clear();
    const l = this.listening;
    this.listening = undefined;
    if (l) await closeListening(l);
  }

  status(): ControllerStatus {
    const first = this.conns.values().next().value as Connection | undefined;
    const s: ControllerStatus = {
      target: this.name,
      isConnected: [...this.conns].some((c) => c.state === 'active'),
      role: ovsRoleName(first?.role ?? 'equal'),
      state: this.listening ? 'LISTENING' : 'VOID',
      nConnections: this.conns.size,
    };
    if (this.listening) s.bound = this.listening.bound;
    if (this.lastError !== undefined) s.lastError = this.lastError;
    return s;
  }

  private accept(socket: Socket): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    if (this.conns.size >= this.maxConnections) {
      this.host.log('warn', `${this.name}: ${this.conns.size} connections already, refusing another`);
      socket.destroy();
      return;
    }
    const peer = socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : `#${this.nextConnNo}`;
    this.nextConnNo++;
    const conn = this.host.createConnection(socket, `${this.listening?.bound ?? this.name}<-${peer}`, this.settings, (c) => this.conns.delete(c));
    this.conns.add(conn);
    conn.start();
  }
}
