// Prometheus metrics (prom-client) served over HTTP on --metrics-address
// (loopback unless told otherwise). Every value is read from the bridges and
// the DB at scrape time, so nothing is updated on the hot path. Labels stay
// bounded: bridge, port (interface name), table, controller target and role.
// docs/metrics.md lists the series.

import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { DatapathStats } from '../datapath/dpif.js';
import type { Port, PortStats } from '../datapath/ports/port.js';
import type { OfprotoCounters } from '../ofproto/ofproto.js';
import type { ControllerStatus } from '../ofproto/connmgr/remote.js';

/** What metrics reads of one running bridge (vswitchd's RunningBridge satisfies it). */
export interface MetricsBridge {
  readonly name: string;
  readonly dp: { readonly stats: DatapathStats; ports(): Port[]; readonly offloadStats?: { readonly offloaded: number } | null };
  readonly of: {
    readonly ofproto: {
      readonly counters: OfprotoCounters;
      readonly tables: { readonly tables: ReadonlyArray<{ readonly count: number }> };
      readonly mac: { readonly count: number };
    };
    readonly connmgr: { controllerStatus(): ControllerStatus[] };
  };
}

export interface MetricsBridges {
  list(): MetricsBridge[];
  readonly counters: { reconfigurations: number; reconfigureErrors: number };
}

export interface MetricsDb {
  readonly lastTxnId: number;
  list(table: 'Open_vSwitch'): ReadonlyArray<{ cur_cfg?: unknown; next_cfg?: unknown }>;
}

type Labels = Record<string, string>;

/** One series of a counter as read now: `source` is the object whose counter it is (a port, a datapath). */
interface CounterSample {
  labels: Labels;
  source: object;
  raw: number;
}

interface SeriesState {
  source: object;
  raw: number;
  offset: number;
}

/**
 * Turns absolute readings into a counter that never goes backwards while its
 * series exists: when the source object is replaced (a port rebuilt under the
 * same name) or its counter drops (stats reset), the last reading is carried
 * as an offset. A series absent from a scrape is forgotten, so a removed port
 * disappears from the exposition instead of lingering with its last value.
 */
export class MonotonicSeries {
  private state = new Map<string, SeriesState>();

  constructor(private readonly labelNames: readonly string[]) {}

  /** Values to export now, one per sample (label sets are unique within one read). */
  read(samples: Iterable<CounterSample>): Array<[Labels, number]> {
    const next = new Map<string, SeriesState>();
    const out = new Map<string, [Labels, number]>();
    for (const s of samples) {
      const key = this.labelNames.map((n) => s.labels[n] ?? '').join('\0');
      const raw = Number.isFinite(s.raw) && s.raw > 0 ? s.raw : 0;
      const prev = next.get(key) ?? this.state.get(key);
      let offset = 0;
      if (prev) offset = prev.source !== s.source || raw < prev.raw ? prev.offset + prev.raw : prev.offset;
      next.set(key, { source: s.source, raw, offset });
      out.set(key, [s.labels, offset + raw]);
    }
    this.state = next;
    return [...out.values()];
  }
}

const PORT_COUNTERS: ReadonlyArray<[keyof PortStats, string, string]> = [
  ['rxPackets', 'rx_packets', 'Packets received from the interface'],
  ['rxBytes', 'rx_bytes', 'Bytes received from the interface'],
  ['rxDropped', 'rx_dropped', 'Received packets dropped'],
  ['rxErrors', 'rx_errors', 'Receive errors'],
  ['txPackets', 'tx_packets', 'Packets sent to the interface'],
  ['txBytes', 'tx_bytes', 'Bytes sent to the interface'],
  ['txDropped', 'tx_dropped', 'Packets dropped on transmit (queue full, link down)'],
  ['txErrors', 'tx_errors', 'Transmit errors'],
];

const DATAPATH_COUNTERS: ReadonlyArray<[keyof DatapathStats, string, string]> = [
  ['rxFrames', 'rx_packets', 'Frames the datapath received from its ports'],
  ['emcHits', 'emc_hits', 'Exact-match cache hits'],
  ['megaflowHits', 'megaflow_hits', 'Megaflow classifier hits'],
  ['misses', 'misses', 'Lookups that missed both caches'],
  ['upcalls', 'upcalls', 'Misses handed to ofproto (upcalls answered)'],
  ['lostUpcalls', 'lost_upcalls', 'Misses dropped because no upcall handler answered'],
  ['flowLimitHits', 'flow_limit_hits', 'Megaflows not installed because the flow table was full'],
  ['outputDrops', 'output_drops', 'Outputs to a port number that does not exist'],
];

const OFPROTO_COUNTERS: ReadonlyArray<[keyof OfprotoCounters, string, string]> = [
  ['packetIns', 'packet_ins', 'PACKET_IN messages sent to controllers'],
  ['packetInsRateLimited', 'packet_ins_rate_limited', 'PACKET_INs dropped by the packet-in rate limit'],
  ['packetOuts', 'packet_outs', 'PACKET_OUT messages executed'],
  ['flowMods', 'flow_mods', 'FLOW_MOD messages processed'],
  ['revalidations', 'revalidations', 'Revalidation passes and flushes (each for a batch of OpenFlow table, MAC or port changes)'],
  ['megaflowsRevalidated', 'megaflows_revalidated', 'Megaflows re-translated by revalidation'],
  ['megaflowsModified', 'megaflows_modified', 'Megaflows whose actions revalidation changed in place'],
  ['megaflowsDeleted', 'megaflows_deleted', 'Megaflows revalidation deleted (mask too wide, port gone, metered)'],
  ['megaflowFlushes', 'megaflow_flushes', 'Flushes of every megaflow (revalidation over its work budget, fdb/flush)'],
  ['megaflowsExpired', 'megaflows_expired', 'Megaflows deleted after being idle for max-idle'],
  ['slowPathPackets', 'slow_path_packets', 'Packets handled without installing a megaflow'],
  ['errorsSent', 'errors_sent', 'OpenFlow ERROR messages sent'],
];

function intOf(v: unknown): number {
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : 0;
}

export class Metrics {
  readonly registry = new Registry();
  private server: Server | null = null;
  /** Per bridge, the OpenFlow tables that have held rules in this process: exported (0 when empty) from then on. */
  private readonly tablesUsed = new Map<string, Set<number>>();

  constructor(bridges: MetricsBridges, db: MetricsDb, o: { processMetrics?: boolean } = {}) {
    const r = this.registry;
    const counter = (name: string, help: string, labelNames: string[], read: () => Iterable<CounterSample>): void => {
      const series = new MonotonicSeries(labelNames);
      new Counter({
        name, help, labelNames, registers: [r],
        collect() {
          this.reset();
          for (const [labels, v] of series.read(read())) this.inc(labels, v);
        },
      });
    };
    const gauge = (name: string, help: string, labelNames: string[], read: () => Iterable<[Labels, number]>): void => {
      new Gauge({
        name, help, labelNames, registers: [r],
        collect() {
          this.reset();
          for (const [labels, v] of read()) this.set(labels, v);
        },
      });
    };
    function* ports(): Generator<[MetricsBridge, Port]> {
      for (const b of bridges.list()) for (const p of b.dp.ports()) yield [b, p];
    }

    // --- interfaces
    for (const [key, suffix, help] of PORT_COUNTERS) {
      counter(`tsvs_interface_${suffix}_total`, help, ['bridge', 'port'], function* () {
        for (const [b, p] of ports()) yield { labels: { bridge: b.name, port: p.name }, source: p, raw: p.stats[key] };
      });
    }
    gauge('tsvs_interface_carrier', 'Link state: 1 up, 0 down', ['bridge', 'port'], function* () {
      for (const [b, p] of ports()) yield [{ bridge: b.name, port: p.name }, p.carrier ? 1 : 0];
    });
    gauge('tsvs_interface_mtu_bytes', 'Interface MTU', ['bridge', 'port'], function* () {
      for (const [b, p] of ports()) yield [{ bridge: b.name, port: p.name }, p.mtu];
    });
    gauge('tsvs_interface_info', 'One series per interface (value 1) carrying its type', ['bridge', 'port', 'type'], function* () {
      for (const [b, p] of ports()) yield [{ bridge: b.name, port: p.name, type: p.type }, 1];
    });

    // --- datapath
    for (const [key, suffix, help] of DATAPATH_COUNTERS) {
      counter(`tsvs_datapath_${suffix}_total`, help, ['bridge'], function* () {
        for (const b of bridges.list()) yield { labels: { bridge: b.name }, source: b.dp, raw: b.dp.stats[key] as number };
      });
    }
    gauge('tsvs_datapath_flows', 'Megaflows installed', ['bridge'], function* () {
      for (const b of bridges.list()) yield [{ bridge: b.name }, b.dp.stats.flows];
    });
    gauge('tsvs_datapath_masks', 'Distinct megaflow masks (classifier subtables)', ['bridge'], function* () {
      for (const b of bridges.list()) yield [{ bridge: b.name }, b.dp.stats.masks];
    });
    gauge('tsvs_datapath_offloaded_flows', 'Megaflows forwarded by the kernel (hw-offload, tc); 0 when off', ['bridge'], function* () {
      for (const b of bridges.list()) yield [{ bridge: b.name }, b.dp.offloadStats?.offloaded ?? 0];
    });

    // --- ofproto
    for (const [key, suffix, help] of OFPROTO_COUNTERS) {
      counter(`tsvs_ofproto_${suffix}_total`, help, ['bridge'], function* () {
        for (const b of bridges.list()) yield { labels: { bridge: b.name }, source: b.of.ofproto, raw: b.of.ofproto.counters[key] };
      });
    }
    const tablesUsed = this.tablesUsed;
    gauge('tsvs_ofproto_rules', 'OpenFlow rules per table (table 0 and every table that has held rules)', ['bridge', 'table'], function* () {
      const live = new Set<string>();
      for (const b of bridges.list()) {
        live.add(b.name);
        let used = tablesUsed.get(b.name);
        if (!used) tablesUsed.set(b.name, (used = new Set([0])));
        const tables = b.of.ofproto.tables.tables;
        for (let t = 0; t < tables.length; t++) if (tables[t]!.count > 0) used.add(t);
        for (const t of [...used].sort((x, y) => x - y)) yield [{ bridge: b.name, table: String(t) }, tables[t]?.count ?? 0];
      }
      for (const name of tablesUsed.keys()) if (!live.has(name)) tablesUsed.delete(name);
    });
    gauge('tsvs_ofproto_mac_entries', 'MAC learning table entries', ['bridge'], function* () {
      for (const b of bridges.list()) yield [{ bridge: b.name }, b.of.ofproto.mac.count];
    });

    // --- controllers
    gauge('tsvs_controller_connected', 'Controller connection: 1 connected, 0 not (per configured target, with its role)', ['bridge', 'target', 'role'], function* () {
      for (const b of bridges.list()) {
        for (const c of b.of.connmgr.controllerStatus()) yield [{ bridge: b.name, target: c.target, role: c.role }, c.isConnected ? 1 : 0];
      }
    });

    // --- configuration
    gauge('tsvs_configdb_last_txn_id', 'Last committed config DB transaction', [], function* () {
      yield [{}, db.lastTxnId];
    });
    gauge('tsvs_configdb_next_cfg', 'Open_vSwitch next_cfg: configuration sequence number requested', [], function* () {
      yield [{}, intOf(db.list('Open_vSwitch')[0]?.next_cfg)];
    });
    gauge('tsvs_configdb_cur_cfg', 'Open_vSwitch cur_cfg: configuration sequence number applied', [], function* () {
      yield [{}, intOf(db.list('Open_vSwitch')[0]?.cur_cfg)];
    });
    counter('tsvs_reconfigurations_total', 'Reconfigurations run (DB to bridges and ports)', [], function* () {
      yield { labels: {}, source: bridges, raw: bridges.counters.reconfigurations };
    });
    counter('tsvs_reconfigure_errors_total', 'Reconfigurations that failed', [], function* () {
      yield { labels: {}, source: bridges, raw: bridges.counters.reconfigureErrors };
    });

    // Process metrics (CPU, memory, event loop lag, GC), read at scrape time too.
    // Event loop lag sampled every 500 ms, not prom-client's 10 ms: that timer alone
    // woke an idle daemon 100 times a second (~0.4% CPU; issue 4 wants < 1% idle).
    if (o.processMetrics !== false) collectDefaultMetrics({ register: r, prefix: 'tsvs_', eventLoopMonitoringPrecision: 500 });
  }

  async start(host: string, port: number): Promise<{ host: string; port: number }> {
    const server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end('try /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (e: Error) => res.writeHead(500).end(e.message),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const a = server.address();
    return { host, port: typeof a === 'object' && a ? a.port : port };
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) {
      const closed = new Promise<void>((r) => s.close(() => r()));
      s.closeAllConnections(); // a scraper's keep-alive connection would hold close() open
      await closed;
    }
  }
}
