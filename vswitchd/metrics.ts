// Prometheus metrics (prom-client) served over HTTP on --metrics-address
// (loopback unless told otherwise). Values are read from the bridges and the
// DB at scrape time, so nothing is updated on the hot path.

import { createServer, type Server } from 'node:http';
import { Gauge, Registry } from 'prom-client';
import type { Database } from './db/database.js';
import type { Bridges } from './bridge.js';

export class Metrics {
  readonly registry = new Registry();
  private server: Server | null = null;

  constructor(bridges: Bridges, db: Database) {
    const r = this.registry;
    new Gauge({
      name: 'tsvs_datapath_flows', help: 'Megaflows installed per bridge', labelNames: ['bridge'], registers: [r],
      collect() { this.reset(); for (const b of bridges.list()) this.set({ bridge: b.name }, b.dp.stats.flows); },
    });
    new Gauge({
      name: 'tsvs_datapath_lookups', help: 'Datapath lookups by result (counter semantics)', labelNames: ['bridge', 'result'], registers: [r],
      collect() {
        this.reset();
        for (const b of bridges.list()) {
          const s = b.dp.stats;
          this.set({ bridge: b.name, result: 'emc_hit' }, s.emcHits);
          this.set({ bridge: b.name, result: 'megaflow_hit' }, s.megaflowHits);
          this.set({ bridge: b.name, result: 'miss' }, s.misses);
          this.set({ bridge: b.name, result: 'lost' }, s.lostUpcalls);
        }
      },
    });
    const portGauge = (name: string, help: string, pick: (s: import('../datapath/ports/port.js').PortStats) => number): void => {
      new Gauge({
        name, help, labelNames: ['bridge', 'port'], registers: [r],
        collect() { this.reset(); for (const b of bridges.list()) for (const p of b.dp.ports()) this.set({ bridge: b.name, port: p.name }, pick(p.stats)); },
      });
    };
    portGauge('tsvs_port_rx_packets', 'Packets received per port (counter semantics)', (s) => s.rxPackets);
    portGauge('tsvs_port_tx_packets', 'Packets sent per port (counter semantics)', (s) => s.txPackets);
    portGauge('tsvs_port_tx_dropped', 'Packets dropped on transmit per port', (s) => s.txDropped);
    new Gauge({
      name: 'tsvs_configdb_last_txn_id', help: 'Last committed config DB transaction', registers: [r],
      collect() { this.set(db.lastTxnId); },
    });
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
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}
