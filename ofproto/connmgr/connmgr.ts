// ConnMgr: every OpenFlow connection of one bridge — controllers it connects
// to, passive service listeners, and the <rundir>/<bridge>.mgmt socket that
// ovs-ofctl-style tools use. Arbitrates roles across connections (one master,
// generation ids) and reports per-controller status for the config DB.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { OFPCR_ROLE, OFPET, OFPRRFC, OFPT } from '../openflow/constants.js';
import { OfpError } from '../openflow/errors.js';
import type { RoleMsg } from '../openflow/role.js';
import type { ConnectionSet, OfConn, OfprotoHandler, OfRole } from '../ofconn.js';
import { Connection, type ConnectionHost, type Logger } from './connection.js';
import { ConnMgrError } from './errors.js';
import { DEFAULT_RATE_LIMIT, type RateLimit } from './rate-limiter.js';
import { ActiveRemote, PassiveRemote, type ControllerStatus, type RemoteHost, type RemoteSettings } from './remote.js';
import type { ConnMgrSnapshot } from './snapshot.js';
import { formatTarget, isPassive, parseTarget, type Target } from './target.js';
import { realTimers, type Timers } from './timers.js';
import { loadSsl, type SslConfig, type SslMaterial } from './transport.js';

/** OVS defaults (ovs-vswitchd.conf.db(5), Controller table). */
export const DEFAULT_INACTIVITY_PROBE_MS = 5000;
export const DEFAULT_MAX_BACKOFF_MS = 8000;
/** OVS's management socket uses a 60 s probe (bridge.c). */
export const MGMT_INACTIVITY_PROBE_MS = 60_000;

export interface ControllerConfig {
  target: string;
  /** Controller.inactivity_probe; 0 disables. Default 5000. */
  inactivityProbeMs?: number;
  /** Controller.max_backoff. Default 8000. */
  maxBackoffMs?: number;
  /** Controller.controller_rate_limit (packet-ins/s). Default 1000. */
  rateLimit?: number;
  /** Controller.controller_burst_limit. Default 100. */
  burstLimit?: number;
}

export interface ServiceConfig {
  target: string;
  /** Default 5000, like a Controller row; 0 disables. */
  inactivityProbeMs?: number;
}

export interface ConnMgrOptions {
  bridge: string;
  handler: OfprotoHandler;
  /** Directory for the <bridge>.mgmt socket; none when omitted. */
  rundir?: string;
  timers?: Timers;
  /** Log sink; default writes warn/error lines to stderr. */
  log?: Logger;
  ssl?: SslConfig;
  /** Per-connection transmit cap (bytes). Default 1 MiB. */
  txMaxBytes?: number;
  /** Per-connection queued packet-in cap. Default 100 (OVS controller_queue_size). */
  txMaxPacketIns?: number;
}

export interface ConnMgrEvents {
  connected: [conn: OfConn];
  disconnected: [conn: OfConn, reason: string];
  'connect-failed': [target: string, reason: string];
}

type Remote = ActiveRemote | PassiveRemote;

function defaultLogger(bridge: string): Logger {
  return (level, message) => {
    if (level === 'warn' || level === 'error') process.stderr.write(`connmgr|${level.toUpperCase()}|${bridge}: ${message}\n`);
  };
}

function roleFromWire(role: number): OfRole | undefined {
  return role === OFPCR_ROLE.MASTER ? 'master' : role === OFPCR_ROLE.SLAVE ? 'slave' : role === OFPCR_ROLE.EQUAL ? 'equal' : undefined;
}

function roleToWire(role: OfRole): number {
  return role === 'master' ? OFPCR_ROLE.MASTER : role === 'slave' ? OFPCR_ROLE.SLAVE : OFPCR_ROLE.EQUAL;
}

export class ConnMgr extends EventEmitter<ConnMgrEvents> implements ConnectionSet {
  readonly bridge: string;
  readonly handler: OfprotoHandler;
  readonly timers: Timers;
  readonly log: Logger;
  private readonly rundir: string | undefined;
  private readonly txMaxBytes: number | undefined;
  private readonly txMaxPacketIns: number | undefined;
  private sslMaterial: SslMaterial | undefined;
  private sslError: string | undefined;

  private controllerConfigs: ControllerConfig[] = [];
  private serviceConfigs: ServiceConfig[] = [];
  private readonly controllers = new Map<string, { key: string; remote: Remote }>();
  private readonly services = new Map<string, { key: string; remote: PassiveRemote }>();
  private mgmt: PassiveRemote | undefined;
  /** Every connection whose socket is still open (including one flushing a final ERROR). */
  private readonly live = new Set<Connection>();
  private readonly up = new Set<Connection>();
  private masterGenerationId: bigint | undefined;
  /** Packet-in drops of connections already closed, so totals never go backwards. */
  private readonly droppedTotals = { rate: 0, queue: 0 };
  private nextConnId = 1;
  private running = false;
  /** Serialises reconfiguration so overlapping calls apply in order. */
  private work: Promise<void> = Promise.resolve();

  private readonly connHost: ConnectionHost;
  private readonly remoteHost: RemoteHost;

  constructor(opts: ConnMgrOptions) {
    super();
    this.bridge = opts.bridge;
    this.handler = opts.handler;
    this.rundir = opts.rundir;
    this.timers = opts.timers ?? realTimers;
    this.log = opts.log ?? defaultLogger(opts.bridge);
    this.txMaxBytes = opts.txMaxBytes;
    this.txMaxPacketIns = opts.txMaxPacketIns;
    if (opts.ssl) this.setSsl(opts.ssl);
    this.connHost = {
      handler: this.handler,
      timers: this.timers,
      log: this.log,
      roleRequest: (c, req) => this.roleRequest(c, req),
      established: (c) => this.onEstablished(c),
      closed: (c, reason) => this.onClosed(c, reason),
      released: (c) => this.live.delete(c),
    };
    this.remoteHost = {
      timers: this.timers,
      log: this.log,
      ssl: () => this.sslMaterial,
      createConnection: (socket, name, settings, onClosed) => this.createConnection(socket, name, settings, onClosed),
      connectFailed: (target, reason) => this.emit('connect-failed', target, reason),
    };
  }

  /** Path of the management socket (`<rundir>/<bridge>.mgmt`), if any. */
  get mgmtPath(): string | undefined {
    return this.rundir === undefined ? undefined : join(this.rundir, `${this.bridge}.mgmt`);
  }

  /**
   * SSL key, certificate and CA (OVS's SSL table). Files are read now; a
   * missing file leaves ssl:/pssl: targets failing with that error in their status.
   */
  setSsl(cfg: SslConfig | undefined): void {
    this.sslMaterial = undefined;
    this.sslError = undefined;
    if (!cfg) return;
    try {
      this.sslMaterial = loadSsl(cfg);
    } catch (e) {
      this.sslError = (e as Error).message;
      this.log('error', this.sslError);
    }
  }

  /** Starts the management socket and every configured remote. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const mgmtPath = this.mgmtPath;
    if (mgmtPath !== undefined) {
      this.mgmt = new PassiveRemote(
        { kind: 'punix', path: mgmtPath },
        { inactivityProbeMs: MGMT_INACTIVITY_PROBE_MS, maxBackoffMs: 0, rateLimit: undefined, service: true },
        this.remoteHost,
      );
      await this.mgmt.start();
    }
    await this.reconfigure();
  }

  /** Closes every connection, listener, timer and socket file. */
  async stop(): Promise<void> {
    this.running = false;
    await this.enqueueWork(async () => {
      for (const c of [...this.live]) c.destroy('bridge stopped');
      const all: Promise<void>[] = [];
      for (const { remote } of this.controllers.values()) all.push(stopRemote(remote));
      for (const { remote } of this.services.values()) all.push(remote.stop());
      this.controllers.clear();
      this.services.clear();
      if (this.mgmt) all.push(this.mgmt.stop());
      this.mgmt = undefined;
      await Promise.all(all);
      for (const c of [...this.live]) c.destroy('bridge stopped');
      this.masterGenerationId = undefined;
    });
  }

  /**
   * Sets the bridge's Controller rows. Active targets connect out; passive
   * ones (ptcp:, pssl:, punix:) listen and accept service connections, as in
   * OVS. Unchanged targets keep their connections. Rejects (changing nothing)
   * if a target does not parse.
   */
  async setControllers(list: ReadonlyArray<string | ControllerConfig>): Promise<void> {
    const cfgs = list.map((c) => (typeof c === 'string' ? { target: c } : { ...c }));
    for (const c of cfgs) parseTarget(c.target);
    this.controllerConfigs = cfgs;
    if (this.running) await this.reconfigure();
  }

  /** Sets extra passive service listeners (ptcp:, pssl:, punix:). */
  async setServices(list: ReadonlyArray<string | ServiceConfig>): Promise<void> {
    const cfgs = list.map((c) => (typeof c === 'string' ? { target: c } : { ...c }));
    for (const c of cfgs) {
      if (!isPassive(parseTarget(c.target))) throw new ConnMgrError('ERR_CONNMGR_BAD_TARGET', `${c.target}: a service must be passive (ptcp:, pssl:, punix:)`);
    }
    this.serviceConfigs = cfgs;
    if (this.running) await this.reconfigure();
  }

  // --- ConnectionSet -------------------------------------------------------------

  connections(): Iterable<OfConn> {
    return this.up.values();
  }

  controllerConnected(): boolean {
    for (const c of this.up) if (!c.service) return true;
    return false;
  }

  // --- status ------------------------------------------------------------------------

  /** One entry per Controller row, in configuration order (OVS Controller columns). */
  controllerStatus(): ControllerStatus[] {
    return this.controllerConfigs.map((c) => {
      const key = formatTarget(parseTarget(c.target));
      const e = this.controllers.get(key);
      if (e) {
        const s = e.remote.status();
        if (this.sslError && (e.remote.target.kind === 'ssl' || e.remote.target.kind === 'pssl') && s.lastError === undefined) s.lastError = this.sslError;
        return s;
      }
      return { target: key, isConnected: false, role: 'other', state: 'VOID' } satisfies ControllerStatus;
    });
  }

  /** Status of the service listeners, the management socket first. */
  serviceStatus(): ControllerStatus[] {
    const out: ControllerStatus[] = [];
    if (this.mgmt) out.push(this.mgmt.status());
    for (const { remote } of this.services.values()) out.push(remote.status());
    return out;
  }

  /** Bound address of a passive target as configured (port 0 resolved); services are looked up before controllers. */
  boundTarget(target: string): string | undefined {
    const key = formatTarget(parseTarget(target));
    const r = this.services.get(key)?.remote ?? this.controllers.get(key)?.remote;
    return r instanceof PassiveRemote ? r.bound : undefined;
  }

  /** The active remote of a controller target, for tests and appctl. */
  activeRemote(target: string): ActiveRemote | undefined {
    const r = this.controllers.get(formatTarget(parseTarget(target)))?.remote;
    return r instanceof ActiveRemote ? r : undefined;
  }

  /** Everything connmgr knows, for appctl and metrics (see formatSnapshot). */
  snapshot(): ConnMgrSnapshot {
    const now = this.timers.now();
    const connections = [...this.up].map((c) => ({
      id: c.id,
      name: c.name,
      service: c.service,
      role: c.role,
      version: c.version,
      missSendLen: c.missSendLen,
      secSinceConnect: Math.floor((now - c.connectedAtMs) / 1000),
      txQueuedBytes: c.txQueuedBytes,
      probing: c.probing,
      stats: { ...c.stats },
    }));
    const s: ConnMgrSnapshot = {
      bridge: this.bridge,
      controllers: this.controllerStatus(),
      services: this.serviceStatus(),
      connections,
      totals: {
        packetInRateDropped: this.droppedTotals.rate + connections.reduce((n, c) => n + c.stats.packetInRateDropped, 0),
        packetInQueueDropped: this.droppedTotals.queue + connections.reduce((n, c) => n + c.stats.packetInQueueDropped, 0),
      },
    };
    if (this.mgmtPath !== undefined) s.mgmtPath = this.mgmtPath;
    return s;
  }

  // --- internals ---------------------------------------------------------------------

  private enqueueWork(fn: () => Promise<void>): Promise<void> {
    const next = this.work.then(fn, fn);
    this.work = next.catch(() => undefined);
    return next;
  }

  private reconfigure(): Promise<void> {
    return this.enqueueWork(async () => {
      if (!this.running) return;
      const pending: Promise<void>[] = [];
      // Controllers.
      const wanted = new Map<string, { target: Target; key: string; settings: RemoteSettings }>();
      for (const c of this.controllerConfigs) {
        const target = parseTarget(c.target);
        const settings: RemoteSettings = {
          inactivityProbeMs: c.inactivityProbeMs ?? DEFAULT_INACTIVITY_PROBE_MS,
          maxBackoffMs: c.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS,
          rateLimit: rateLimitOf(c),
          service: isPassive(target),
        };
        const name = formatTarget(target);
        wanted.set(name, { target, settings, key: JSON.stringify(settings) });
      }
      for (const [name, e] of this.controllers) {
        if (wanted.get(name)?.key !== e.key) {
          this.controllers.delete(name);
          pending.push(stopRemote(e.remote));
        }
      }
      await Promise.all(pending.splice(0));
      for (const [name, w] of wanted) {
        if (this.controllers.has(name)) continue;
        const remote = isPassive(w.target) ? new PassiveRemote(w.target, w.settings, this.remoteHost) : new ActiveRemote(w.target, w.settings, this.remoteHost);
        this.controllers.set(name, { key: w.key, remote });
        if (remote instanceof PassiveRemote) pending.push(remote.start());
        else remote.start();
      }
      // Services.
      const wantedSvc = new Map<string, { target: Target; key: string; settings: RemoteSettings }>();
      for (const c of this.serviceConfigs) {
        const target = parseTarget(c.target);
        const settings: RemoteSettings = {
          inactivityProbeMs: c.inactivityProbeMs ?? DEFAULT_INACTIVITY_PROBE_MS,
          maxBackoffMs: 0,
          rateLimit: undefined,
          service: true,
        };
        wantedSvc.set(formatTarget(target), { target, settings, key: JSON.stringify(settings) });
      }
      for (const [name, e] of this.services) {
        if (wantedSvc.get(name)?.key !== e.key) {
          this.services.delete(name);
          pending.push(e.remote.stop());
        }
      }
      await Promise.all(pending.splice(0));
      for (const [name, w] of wantedSvc) {
        if (this.services.has(name)) continue;
        const remote = new PassiveRemote(w.target, w.settings, this.remoteHost);
        this.services.set(name, { key: w.key, remote });
        pending.push(remote.start());
      }
      await Promise.all(pending);
    });
  }

  private createConnection(socket: Socket, name: string, settings: RemoteSettings, onClosed: (c: Connection, reason: string) => void): Connection {
    const opts = {
      id: this.nextConnId++,
      name,
      service: settings.service,
      inactivityProbeMs: settings.inactivityProbeMs,
      ...(settings.rateLimit ? { rateLimit: settings.rateLimit } : {}),
      ...(this.txMaxBytes !== undefined ? { txMaxBytes: this.txMaxBytes } : {}),
      ...(this.txMaxPacketIns !== undefined ? { txMaxPacketIns: this.txMaxPacketIns } : {}),
    };
    const host: ConnectionHost = {
      ...this.connHost,
      closed: (c, reason) => {
        this.connHost.closed(c, reason);
        onClosed(c, reason);
      },
    };
    const conn = new Connection(socket, opts, host);
    this.live.add(conn);
    return conn;
  }

  private onEstablished(c: Connection): void {
    this.up.add(c);
    for (const { remote } of this.controllers.values()) if (remote instanceof ActiveRemote && remote.connection === c) remote.established();
    this.log('info', `${c.name}: connected (OpenFlow 0x0${c.version})`);
    try {
      this.handler.connected(c);
    } catch (e) {
      this.log('error', `${c.name}: ofproto connected() failed: ${(e as Error)?.stack ?? String(e)}`);
    }
    this.emit('connected', c);
  }

  private onClosed(c: Connection, reason: string): void {
    this.droppedTotals.rate += c.stats.packetInRateDropped;
    this.droppedTotals.queue += c.stats.packetInQueueDropped;
    if (!this.up.delete(c)) return;
    try {
      this.handler.disconnected(c);
    } catch (e) {
      this.log('error', `${c.name}: ofproto disconnected() failed: ${(e as Error)?.stack ?? String(e)}`);
    }
    this.emit('disconnected', c, reason);
  }

  /** OF1.3.5 6.3.6: one master, generation ids guard against stale masters. */
  private roleRequest(c: Connection, req: RoleMsg): RoleMsg | OfpError {
    const wanted = req.role === OFPCR_ROLE.NOCHANGE ? undefined : roleFromWire(req.role);
    if (req.role !== OFPCR_ROLE.NOCHANGE && wanted === undefined) {
      return new OfpError(OFPET.ROLE_REQUEST_FAILED, OFPRRFC.BAD_ROLE, `role ${req.role}`);
    }
    if (wanted === 'master' || wanted === 'slave') {
      const cached = this.masterGenerationId;
      if (cached !== undefined && BigInt.asIntN(64, req.generationId - cached) < 0n) {
        return new OfpError(
          OFPET.ROLE_REQUEST_FAILED,
          OFPRRFC.STALE,
          `generation_id ${req.generationId} is older than ${cached}`,
        );
      }
      this.masterGenerationId = req.generationId;
    }
    if (wanted === 'master') {
      // In 1.3 a demoted master is not told (ROLE_STATUS is 1.4+).
      for (const other of this.up) if (other !== c && other.role === 'master') other.setRole('slave');
    }
    if (wanted !== undefined) c.setRole(wanted);
    return { type: OFPT.ROLE_REPLY, version: c.version, xid: req.xid, role: roleToWire(c.role), generationId: this.masterGenerationId ?? 0n };
  }
}

function rateLimitOf(c: ControllerConfig): RateLimit {
  return { ratePerSec: c.rateLimit ?? DEFAULT_RATE_LIMIT.ratePerSec, burst: c.burstLimit ?? DEFAULT_RATE_LIMIT.burst };
}

async function stopRemote(r: Remote): Promise<void> {
  if (r instanceof PassiveRemote) await r.stop();
  else r.stop();
}
