// tsvs-vswitchd's parts and their order: pidfile, config DB (journal damage is
// logged), the Open_vSwitch row, bridges, appctl commands, the RPC server and
// metrics; stop() takes them down in reverse. main.ts adds the command line,
// --detach and signals.

import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Bridges } from './bridge.js';
import { Database, describeOpenReport } from './db/database.js';
import { Metrics } from './metrics.js';
import { GuestTraffic } from './guest-traffic.js';
import { registerOfprotoAppctl } from './ofproto-appctl.js';
import type { DaemonOptions } from './options.js';
import { AppctlError, AppctlRegistry } from './rpc/appctl.js';
import { RpcServer } from './rpc/server.js';
import { TSVS_VERSION } from './version.js';
import { Vlog } from './vlog.js';

/** The RPC socket's name in the run directory (clients find it there). */
export const RPC_SOCKET_NAME = 'tsvs-vswitchd.ctl';

export class Daemon {
  readonly vlog: Vlog;
  readonly appctl = new AppctlRegistry();
  db: Database | null = null;
  bridges: Bridges | null = null;
  rpc: RpcServer | null = null;
  metrics: Metrics | null = null;
  metricsAddress: { host: string; port: number } | null = null;
  traffic: GuestTraffic | null = null;
  private pidfileWritten = false;
  private stopping: Promise<void> | null = null;
  /** Resolves when the daemon has stopped (SIGTERM, appctl exit, stop()). */
  readonly stopped: Promise<void>;
  private resolveStopped!: () => void;

  constructor(readonly opts: DaemonOptions) {
    this.vlog = new Vlog({ level: opts.logLevel, file: opts.logFile, console: !opts.detach });
    this.stopped = new Promise((r) => (this.resolveStopped = r));
  }

  get socketPath(): string {
    return join(this.opts.rundir, RPC_SOCKET_NAME);
  }

  async start(): Promise<void> {
    const log = this.vlog.module('vswitchd');
    mkdirSync(this.opts.rundir, { recursive: true, mode: 0o700 });
    this.writePidfile();
    const { db, report } = Database.open(this.opts.dbdir);
    this.db = db;
    const dbLog = this.vlog.module('configdb');
    if (report.damage) dbLog.warn(describeOpenReport(report));
    else dbLog.info(describeOpenReport(report));
    db.onCommit(({ txnId }) => dbLog.dbg(`committed transaction ${txnId}`));
    if (db.list('Open_vSwitch').length === 0) {
      db.transact([{ op: 'insert', table: 'Open_vSwitch', row: { ovs_version: TSVS_VERSION, db_version: db.schema.version } }]);
      log.info('initialised an empty database');
    }
    this.bridges = new Bridges(db, this.vlog.module('bridge'), {
      statsIntervalMs: this.opts.statsIntervalMs,
      rundir: this.opts.rundir,
      internalDevices: this.opts.internalDevices,
    });
    await this.bridges.start();
    this.registerAppctl();
    this.rpc = new RpcServer({
      path: this.socketPath,
      db,
      appctl: this.appctl,
      version: TSVS_VERSION,
      onProtocolError: (m) => this.vlog.module('rpc').warn(`client disconnected: ${m}`),
    });
    await this.rpc.start();
    if (this.opts.metricsAddress) {
      const { host, port } = this.opts.metricsAddress;
      const metrics = new Metrics(this.bridges, db);
      try {
        this.metricsAddress = await metrics.start(host, port);
        this.metrics = metrics;
        log.info(`metrics on http://${this.metricsAddress.host}:${this.metricsAddress.port}/metrics`);
      } catch (e) {
        // The default port may belong to another daemon on this host: say so and run without metrics.
        if (!this.opts.metricsAddressIsDefault) throw new Error(`--metrics-address=${host}:${port}: ${(e as Error).message}`);
        log.warn(`metrics off: default address ${host}:${port} unavailable (${(e as Error).message}); use --metrics-address`);
      }
    }
    log.info(`tsvs-vswitchd ${TSVS_VERSION} ready: ${this.socketPath}, database ${this.opts.dbdir}`);
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const log = this.vlog.module('vswitchd');
      log.info('shutting down');
      await this.rpc?.stop();
      this.traffic?.stopAll();
      await this.metrics?.stop();
      await this.bridges?.stop();
      this.db?.close();
      if (this.pidfileWritten) {
        try {
          unlinkSync(this.opts.pidfile);
        } catch {
          // gone already
        }
      }
      this.resolveStopped();
    })();
    return this.stopping;
  }

  private writePidfile(): void {
    const f = this.opts.pidfile;
    let other: number | null = null;
    try {
      other = Number(readFileSync(f, 'utf8').trim());
    } catch {
      other = null;
    }
    if (other && other !== process.pid && isAlive(other)) throw new Error(`${f}: tsvs-vswitchd is already running (pid ${other})`);
    writeFileSync(`${f}.tmp`, `${process.pid}\n`, { mode: 0o644 });
    renameSync(`${f}.tmp`, f);
    this.pidfileWritten = true;
  }

  private registerAppctl(): void {
    const a = this.appctl;
    const bridges = this.bridges!;
    const db = this.db!;
    a.registerAppctl('version', '', 0, 0, () => `tsvs-vswitchd ${TSVS_VERSION}\n`);
    a.registerAppctl('exit', '', 0, 0, () => {
      setTimeout(() => void this.stop(), 20);
      return '';
    });
    a.registerAppctl('vlog/list', '', 0, 0, () => this.vlog.list());
    a.registerAppctl('vlog/set', '[MODULE:]LEVEL...', 1, 16, (args) => {
      try {
        for (const s of args) this.vlog.set(s);
      } catch (e) {
        throw new AppctlError((e as Error).message);
      }
      return '';
    });
    a.registerAppctl('dpctl/show', '', 0, 0, () => bridges.dpctlShow());
    a.registerAppctl('dpctl/dump-flows', '[BRIDGE]', 0, 1, (args) => {
      try {
        return bridges.dumpFlows(args[0]);
      } catch (e) {
        throw new AppctlError((e as Error).message);
      }
    });
    a.registerAppctl('fdb/show', 'BRIDGE', 1, 1, (args) => {
      try {
        return bridges.fdbShow(args[0]);
      } catch (e) {
        throw new AppctlError((e as Error).message);
      }
    });
    registerOfprotoAppctl(a, bridges);
    this.traffic = new GuestTraffic((name) => bridges.guest(name));
    this.traffic.register(a);
    a.registerAppctl('bridge/refresh-stats', '', 0, 0, () => {
      bridges.updateStats();
      return '';
    });
    a.registerAppctl('coverage/show', '', 0, 0, () => {
      const c: [string, number][] = [
        ['bridge_reconfigure', bridges.counters.reconfigurations],
        ['bridge_reconfigure_error', bridges.counters.reconfigureErrors],
        ['iface_stats_update', bridges.counters.statsUpdates],
        ['configdb_txn', db.lastTxnId],
        ['rpc_request', this.rpc?.stats.requests ?? 0],
        ['rpc_protocol_error', this.rpc?.stats.protocolErrors ?? 0],
      ];
      for (const b of bridges.list()) {
        const s = b.dp.stats;
        c.push([`dpif_upcall(${b.name})`, s.upcalls], [`dpif_lost_upcall(${b.name})`, s.lostUpcalls], [`mac_learning_entries(${b.name})`, [...b.of.ofproto.mac.entries()].length]);
      }
      return `Event coverage (totals since start):\n${c.map(([k, v]) => `${k.padEnd(32)} total: ${v}`).join('\n')}\n`;
    });
    a.registerAppctl('memory/show', '', 0, 0, () => {
      const m = process.memoryUsage();
      const s = db.stats();
      const rows = Object.entries(s.rows).filter(([, n]) => n > 0).map(([t, n]) => `${t}:${n}`).join(' ');
      let flows = 0;
      let ports = 0;
      for (const b of bridges.list()) {
        flows += b.dp.stats.flows;
        ports += b.dp.ports().length;
      }
      return `rss:${Math.round(m.rss / 1024)}kB heap_used:${Math.round(m.heapUsed / 1024)}kB bridges:${bridges.list().length} ports:${ports} megaflows:${flows}\nconfigdb: ${rows} journal_bytes:${s.journalBytes ?? 0}\n`;
    });
    a.registerAppctl('guest/ping', 'PORT IP [COUNT]', 2, 3, async (args) => {
      const [name, ip, countText] = args;
      const g = bridges.guest(name);
      if (!g) throw new AppctlError(`${name}: no such guest interface`);
      const count = countText === undefined ? 3 : Number(countText);
      if (!Number.isInteger(count) || count < 1 || count > 1000) throw new AppctlError(`COUNT "${countText}" is not 1..1000`);
      const r = await g.ping(ip, count, { intervalMs: 100, timeoutMs: 1000 });
      const lines = [`PING ${ip} from ${name}: 56 data bytes`, `${r.transmitted} packets transmitted, ${r.received} received, ${r.lossPct}% packet loss`];
      if (r.rttsMs.length > 0) {
        const min = Math.min(...r.rttsMs);
        const max = Math.max(...r.rttsMs);
        const avg = r.rttsMs.reduce((x, y) => x + y, 0) / r.rttsMs.length;
        lines.push(`rtt min/avg/max = ${min.toFixed(3)}/${avg.toFixed(3)}/${max.toFixed(3)} ms`);
      }
      const text = lines.join('\n') + '\n';
      if (r.received === 0) throw new AppctlError(text.trimEnd());
      return text;
    });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
