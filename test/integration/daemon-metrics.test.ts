// /metrics of a running tsvs-vswitchd: two guests ping, and their interface
// counters, the datapath's and the config DB's series follow; a deleted port
// leaves the exposition; a controller that cannot connect reads 0.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, ensureBuilt, runTool } from '../helpers/daemon.js';

describe('tsvs-vswitchd metrics endpoint', () => {
  const d = new DaemonProcess();
  let url = '';
  const tool = async (t: 'tsvs-vsctl' | 'tsvs-appctl', ...args: string[]): Promise<string> => {
    const r = await runTool(t, t === 'tsvs-vsctl' ? ['--timeout=10', ...args] : args, d.rundir);
    if (r.code !== 0) throw new Error(`${t} ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const scrape = async (): Promise<{ text: string; value: (series: string) => number | undefined }> => {
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const values = new Map<string, number>();
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const i = line.lastIndexOf(' ');
      values.set(line.slice(0, i), Number(line.slice(i + 1)));
    }
    return { text, value: (s) => values.get(s) };
  };

  beforeAll(async () => {
    ensureBuilt();
    await d.start(['--metrics-address=127.0.0.1:0']);
    const port = /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(d.log)?.[1];
    if (!port) throw new Error(`no metrics address in the log:\n${d.log}`);
    url = `http://127.0.0.1:${port}/metrics`;
    await tool('tsvs-vsctl', 'add-br', 'br0',
      '--', 'add-port', 'br0', 'g1', '--', 'set', 'Interface', 'g1', 'type=guest', 'options:mac=02:00:00:00:0a:01', 'options:ip=10.9.0.1/24',
      '--', 'add-port', 'br0', 'g2', '--', 'set', 'Interface', 'g2', 'type=guest', 'options:mac=02:00:00:00:0a:02', 'options:ip=10.9.0.2/24');
  }, 120_000);
  afterAll(async () => {
    await d.kill('SIGKILL');
    rmSync(d.dir, { recursive: true, force: true });
  });

  it('interface and datapath counters rise while the guests ping', async () => {
    const before = await scrape();
    const rx1 = 'tsvs_interface_rx_packets_total{bridge="br0",port="g1"}';
    const tx2 = 'tsvs_interface_tx_packets_total{bridge="br0",port="g2"}';
    const rxBytes1 = 'tsvs_interface_rx_bytes_total{bridge="br0",port="g1"}';
    const dpRx = 'tsvs_datapath_rx_packets_total{bridge="br0"}';
    expect(before.value(rx1)).toBeTypeOf('number');
    expect(before.value('tsvs_interface_carrier{bridge="br0",port="g1"}')).toBe(1);
    expect(before.value('tsvs_interface_info{bridge="br0",port="g2",type="guest"}')).toBe(1);
    expect(await tool('tsvs-appctl', 'guest/ping', 'g1', '10.9.0.2', '4')).toContain('4 received');
    expect(await tool('tsvs-appctl', 'guest/ping', 'g2', '10.9.0.1', '2')).toContain('2 received');
    const after = await scrape();
    // g1 sent 4 requests and 2 replies (and maybe an ARP): the switch received them all from g1.
    expect(after.value(rx1)! - before.value(rx1)!).toBeGreaterThanOrEqual(6);
    expect(after.value(tx2)! - before.value(tx2)!).toBeGreaterThanOrEqual(6);
    expect(after.value(rxBytes1)! - before.value(rxBytes1)!).toBeGreaterThanOrEqual(6 * 98);
    expect(after.value(dpRx)! - before.value(dpRx)!).toBeGreaterThanOrEqual(12);
    const hits = (s: typeof after): number =>
      s.value('tsvs_datapath_emc_hits_total{bridge="br0"}')! + s.value('tsvs_datapath_megaflow_hits_total{bridge="br0"}')! + s.value('tsvs_datapath_misses_total{bridge="br0"}')!;
    expect(hits(after) - hits(before)).toBeGreaterThanOrEqual(12);
    expect(after.value('tsvs_datapath_upcalls_total{bridge="br0"}')).toBeGreaterThan(0);
    expect(after.value('tsvs_datapath_flows{bridge="br0"}')).toBeGreaterThan(0);
    expect(after.value('tsvs_ofproto_rules{bridge="br0",table="0"}')).toBeTypeOf('number');
    expect(after.value('tsvs_process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('config DB series: cur_cfg reaches next_cfg once vsctl returns', async () => {
    await tool('tsvs-vsctl', 'set', 'Bridge', 'br0', 'other_config:x=1');
    const s = await scrape();
    const next = s.value('tsvs_configdb_next_cfg')!;
    expect(next).toBeGreaterThan(0);
    expect(s.value('tsvs_configdb_cur_cfg')).toBe(next);
    expect(s.value('tsvs_configdb_last_txn_id')).toBeGreaterThan(0);
    expect(s.value('tsvs_reconfigurations_total')).toBeGreaterThan(0);
  });

  it('a controller that cannot connect reads 0; a deleted port leaves the exposition', async () => {
    await tool('tsvs-vsctl', 'set-controller', 'br0', 'tcp:127.0.0.1:1');
    let s = await scrape();
    expect(s.text).toMatch(/^tsvs_controller_connected\{bridge="br0",target="tcp:127\.0\.0\.1:1",role="other"\} 0$/m);
    await tool('tsvs-vsctl', 'del-controller', 'br0', '--', 'del-port', 'br0', 'g2');
    s = await scrape();
    expect(s.text).not.toContain('port="g2"');
    expect(s.text).not.toContain('tsvs_controller_connected{');
    expect(s.value('tsvs_interface_rx_packets_total{bridge="br0",port="g1"}')).toBeGreaterThanOrEqual(6);
  });
});

describe('tsvs-vswitchd metrics address', () => {
  // Holds a port, then starts daemons that want it.
  const holdPort = async (): Promise<{ port: number; close: () => Promise<void> }> => {
    const { createServer } = await import('node:net');
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    const port = (s.address() as { port: number }).port;
    return { port, close: () => new Promise<void>((r) => s.close(() => r())) };
  };

  it('an explicit address that is taken stops start-up with one clear error', async () => {
    ensureBuilt();
    const held = await holdPort();
    const d = new DaemonProcess();
    try {
      await expect(d.start([`--metrics-address=127.0.0.1:${held.port}`])).rejects.toThrow(new RegExp(`--metrics-address=127.0.0.1:${held.port}: .*EADDRINUSE`));
    } finally {
      await held.close();
      await d.kill('SIGKILL').catch(() => {});
      rmSync(d.dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('--metrics-address=off serves nothing', async () => {
    ensureBuilt();
    const d = new DaemonProcess();
    try {
      await d.start(['--metrics-address=off']);
      expect(d.log).not.toContain('metrics on');
    } finally {
      await d.kill('SIGKILL');
      rmSync(d.dir, { recursive: true, force: true });
    }
  }, 60_000);
});
