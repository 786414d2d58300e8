// The Prometheus exposition: names, types, labels, counters that never go
// backwards while their series exists, removed ports leaving the output.
import { describe, expect, it } from 'vitest';
import { Metrics, MonotonicSeries, type MetricsBridge } from '../../../vswitchd/metrics.js';
import { newPortStats, type Port } from '../../../datapath/ports/port.js';

function fakePort(name: string, type = 'guest'): Port {
  return { name, type, portNo: 0, stats: newPortStats(), carrier: true, mtu: 1500, mac: new Uint8Array(6) } as unknown as Port;
}

function fakeBridge(name: string, ports: Port[]) {
  const tables = Array.from({ length: 254 }, () => ({ count: 0 }));
  const controllers = [{ target: 'tcp:127.0.0.1:6653', isConnected: true, role: 'master' as const, state: 'ACTIVE' as const }];
  const b = {
    name,
    ports,
    dp: {
      stats: { rxFrames: 0, emcHits: 0, megaflowHits: 0, misses: 0, upcalls: 0, lostUpcalls: 0, flowLimitHits: 0, outputDrops: 0, flows: 0, masks: 0, actions: {} },
      ports: () => b.ports,
    },
    of: {
      ofproto: {
        counters: { upcalls: 0, slowPathPackets: 0, packetIns: 0, packetInsRateLimited: 0, packetOuts: 0, revalidations: 0, flowMods: 0, errorsSent: 0, internalErrors: 0 },
        tables: { tables },
        mac: { count: 0 },
      },
      connmgr: { controllerStatus: () => controllers },
    },
    controllers,
  };
  return b;
}

function setup() {
  const p1 = fakePort('p1');
  const p2 = fakePort('p2', 'patch');
  const br0 = fakeBridge('br0', [p1, p2]);
  const list: ReturnType<typeof fakeBridge>[] = [br0];
  const bridges = { list: () => list as unknown as MetricsBridge[], counters: { reconfigurations: 3, reconfigureErrors: 0 } };
  const ovs = { cur_cfg: 4, next_cfg: 5 };
  const db = { lastTxnId: 42, list: () => [ovs] };
  const m = new Metrics(bridges, db, { processMetrics: false });
  return { m, p1, p2, br0, list, ovs };
}

/** name{labels} -> value, from the text exposition. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

function types(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

describe('Metrics exposition', () => {
  it('names every series with its type and bounded labels', async () => {
    const { m, p1, br0 } = setup();
    p1.stats.rxPackets = 7;
    p1.stats.rxBytes = 700;
    br0.dp.stats.emcHits = 11;
    br0.dp.stats.flows = 2;
    br0.of.ofproto.counters.packetOuts = 5;
    br0.of.ofproto.tables.tables[3]!.count = 4;
    const text = await m.registry.metrics();
    const s = samples(text);
    const t = types(text);
    for (const n of ['rx_packets', 'rx_bytes', 'rx_dropped', 'rx_errors', 'tx_packets', 'tx_bytes', 'tx_dropped', 'tx_errors']) {
      expect(t.get(`tsvs_interface_${n}_total`)).toBe('counter');
    }
    for (const n of ['emc_hits', 'megaflow_hits', 'misses', 'upcalls', 'lost_upcalls', 'rx_packets']) expect(t.get(`tsvs_datapath_${n}_total`)).toBe('counter');
    for (const n of ['packet_ins', 'packet_outs', 'flow_mods']) expect(t.get(`tsvs_ofproto_${n}_total`)).toBe('counter');
    for (const n of ['tsvs_datapath_flows', 'tsvs_datapath_masks', 'tsvs_ofproto_rules', 'tsvs_interface_carrier', 'tsvs_interface_mtu_bytes', 'tsvs_controller_connected', 'tsvs_configdb_cur_cfg']) {
      expect(t.get(n)).toBe('gauge');
    }
    expect(s.get('tsvs_interface_rx_packets_total{bridge="br0",port="p1"}')).toBe(7);
    expect(s.get('tsvs_interface_rx_bytes_total{bridge="br0",port="p1"}')).toBe(700);
    expect(s.get('tsvs_interface_tx_packets_total{bridge="br0",port="p2"}')).toBe(0);
    expect(s.get('tsvs_interface_carrier{bridge="br0",port="p1"}')).toBe(1);
    expect(s.get('tsvs_interface_mtu_bytes{bridge="br0",port="p1"}')).toBe(1500);
    expect(s.get('tsvs_interface_info{bridge="br0",port="p2",type="patch"}')).toBe(1);
    expect(s.get('tsvs_datapath_emc_hits_total{bridge="br0"}')).toBe(11);
    expect(s.get('tsvs_datapath_flows{bridge="br0"}')).toBe(2);
    expect(s.get('tsvs_ofproto_packet_outs_total{bridge="br0"}')).toBe(5);
    // Table 0 always, then the tables that have held rules; no others.
    expect(s.get('tsvs_ofproto_rules{bridge="br0",table="0"}')).toBe(0);
    expect(s.get('tsvs_ofproto_rules{bridge="br0",table="3"}')).toBe(4);
    expect([...s.keys()].filter((k) => k.startsWith('tsvs_ofproto_rules{'))).toHaveLength(2);
    expect(s.get('tsvs_controller_connected{bridge="br0",target="tcp:127.0.0.1:6653",role="master"}')).toBe(1);
    expect(s.get('tsvs_configdb_last_txn_id')).toBe(42);
    expect(s.get('tsvs_configdb_cur_cfg')).toBe(4);
    expect(s.get('tsvs_configdb_next_cfg')).toBe(5);
    expect(s.get('tsvs_reconfigurations_total')).toBe(3);
    // Label names are only these (no per-flow labels).
    const labelNames = new Set<string>();
    for (const k of s.keys()) for (const l of k.matchAll(/[{,](\w+)="/g)) labelNames.add(l[1]!);
    expect([...labelNames].sort()).toEqual(['bridge', 'port', 'role', 'table', 'target', 'type']);
  });

  it('an emptied table stays exported as 0; a disconnected controller reads 0', async () => {
    const { m, br0 } = setup();
    br0.of.ofproto.tables.tables[3]!.count = 4;
    await m.registry.metrics();
    br0.of.ofproto.tables.tables[3]!.count = 0;
    br0.controllers[0]!.isConnected = false;
    const s = samples(await m.registry.metrics());
    expect(s.get('tsvs_ofproto_rules{bridge="br0",table="3"}')).toBe(0);
    expect(s.get('tsvs_controller_connected{bridge="br0",target="tcp:127.0.0.1:6653",role="master"}')).toBe(0);
  });

  it('counters never go backwards: a stats reset or a rebuilt port carries the last value', async () => {
    const { m, p1, br0 } = setup();
    const rx = 'tsvs_interface_rx_packets_total{bridge="br0",port="p1"}';
    p1.stats.rxPackets = 10;
    br0.dp.stats.misses = 9;
    expect(samples(await m.registry.metrics()).get(rx)).toBe(10);
    p1.stats.rxPackets = 3; // reset under the same object
    br0.dp.stats.misses = 1;
    let s = samples(await m.registry.metrics());
    expect(s.get(rx)).toBe(13);
    expect(s.get('tsvs_datapath_misses_total{bridge="br0"}')).toBe(10);
    // Same name, new port object with a higher count than before: still adds, never re-reads from 0.
    const rebuilt = fakePort('p1');
    rebuilt.stats.rxPackets = 20;
    br0.ports[0] = rebuilt;
    s = samples(await m.registry.metrics());
    expect(s.get(rx)).toBe(33);
    rebuilt.stats.rxPackets = 21;
    expect(samples(await m.registry.metrics()).get(rx)).toBe(34);
  });

  it('a removed port leaves the exposition; a bridge removed leaves with its ports', async () => {
    const { m, p1, br0, list } = setup();
    p1.stats.txPackets = 5;
    await m.registry.metrics();
    br0.ports.splice(0, 1);
    let text = await m.registry.metrics();
    expect(text).not.toContain('port="p1"');
    expect(text).toContain('port="p2"');
    // Re-added later: a new series, counted from the new port's own value.
    const again = fakePort('p1');
    again.stats.txPackets = 1;
    br0.ports.push(again);
    expect(samples(await m.registry.metrics()).get('tsvs_interface_tx_packets_total{bridge="br0",port="p1"}')).toBe(1);
    list.length = 0;
    text = await m.registry.metrics();
    expect(text).not.toContain('bridge="br0"');
  });

  it('process metrics carry the tsvs_ prefix', async () => {
    const bridges = { list: () => [], counters: { reconfigurations: 0, reconfigureErrors: 0 } };
    const m = new Metrics(bridges, { lastTxnId: 0, list: () => [] });
    const t = types(await m.registry.metrics());
    expect(t.get('tsvs_process_cpu_seconds_total')).toBe('counter');
    expect(t.get('tsvs_process_resident_memory_bytes')).toBe('gauge');
    expect(t.get('tsvs_nodejs_eventloop_lag_seconds')).toBe('gauge');
  });
});

describe('MonotonicSeries', () => {
  it('ignores negative and non-finite readings', () => {
    const s = new MonotonicSeries(['a']);
    const src = {};
    expect(s.read([{ labels: { a: 'x' }, source: src, raw: -5 }])).toEqual([[{ a: 'x' }, 0]]);
    expect(s.read([{ labels: { a: 'x' }, source: src, raw: Number.NaN }])).toEqual([[{ a: 'x' }, 0]]);
    expect(s.read([{ labels: { a: 'x' }, source: src, raw: 2 }])).toEqual([[{ a: 'x' }, 2]]);
  });
});
