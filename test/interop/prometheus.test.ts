// A real Prometheus server (Debian's `prometheus` package) scrapes
// tsvs-vswitchd's /metrics every second while two guests ping each other;
// its query API must show the guest ports' counters rising (increase() over
// scraped samples), the series typed as counters, and the target up.
// promtool lints the exposition. Our own Prometheus instance: a random
// loopback port, a temporary TSDB, never the packaged service on :9090.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, ensureBuilt, runTool } from '../helpers/daemon.js';
import { hasCommand } from '../helpers/ofbridge-interop.js';

const HAS_PROMETHEUS = hasCommand('prometheus', ['--version']);
// CI installs the package (.ci/run): there a missing binary is a failure, not a skip.
if (process.env.CI && !HAS_PROMETHEUS) throw new Error('prometheus is not installed (apt-get install prometheus)');

const POLL_MS = 250;

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

interface PromVector {
  status: string;
  data: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

describe.skipIf(!HAS_PROMETHEUS)('Prometheus scrapes tsvs-vswitchd', () => {
  const d = new DaemonProcess();
  const promDir = mkdtempSync(join(tmpdir(), 'tsvs-prometheus-'));
  let prom: ChildProcess | null = null;
  let promLog = '';
  let api = '';
  let metricsUrl = '';
  let pinging = false;
  let pingLoop: Promise<number> = Promise.resolve(0);

  const tool = async (t: 'tsvs-vsctl' | 'tsvs-appctl', ...args: string[]): Promise<string> => {
    const r = await runTool(t, t === 'tsvs-vsctl' ? ['--timeout=10', ...args] : args, d.rundir);
    if (r.code !== 0) throw new Error(`${t} ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const query = async (q: string): Promise<PromVector['data']['result']> => {
    const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await res.json()) as PromVector;
    if (body.status !== 'success') throw new Error(`${q}: ${JSON.stringify(body)}`);
    return body.data.result;
  };

  beforeAll(async () => {
    ensureBuilt();
    await d.start(['--metrics-address=127.0.0.1:0']);
    const port = /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(d.log)?.[1];
    if (!port) throw new Error(`no metrics address in the daemon's log:\n${d.log}`);
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    await tool('tsvs-vsctl', 'add-br', 'br0',
      '--', 'add-port', 'br0', 'g1', '--', 'set', 'Interface', 'g1', 'type=guest', 'options:mac=02:00:00:00:0b:01', 'options:ip=10.11.0.1/24',
      '--', 'add-port', 'br0', 'g2', '--', 'set', 'Interface', 'g2', 'type=guest', 'options:mac=02:00:00:00:0b:02', 'options:ip=10.11.0.2/24');

    const config = join(promDir, 'prometheus.yml');
    writeFileSync(config, [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      'scrape_configs:',
      '  - job_name: tsvs',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${port}']`,
      '',
    ].join('\n'));
    const webPort = await freePort();
    api = `http://127.0.0.1:${webPort}`;
    const p = spawn('prometheus', [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(promDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${webPort}`,
      '--log.level=warn',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    prom = p;
    p.stderr!.on('data', (b: Buffer) => (promLog += b.toString()));
    const exited = new Promise<never>((_, rej) => p.once('exit', (code) => rej(new Error(`prometheus exited with ${code}:\n${promLog}`))));
    exited.catch(() => undefined);
    await Promise.race([exited, waitFor('prometheus /-/ready', 30_000, async () => ((await fetch(`${api}/-/ready`)).ok ? true : undefined))]);
  }, 120_000);

  afterAll(async () => {
    pinging = false;
    await pingLoop.catch(() => 0);
    const p = prom;
    prom = null;
    if (p && p.exitCode === null && p.signalCode === null) {
      const gone = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill('SIGTERM');
      const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    }
    await d.kill('SIGTERM');
    rmSync(promDir, { recursive: true, force: true });
    rmSync(d.dir, { recursive: true, force: true });
  }, 30_000);

  it('promtool finds no problem in our series', async () => {
    const text = await (await fetch(metricsUrl)).text();
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    // prom-client's default Node.js gauges named *_total are its own naming; everything else must be clean.
    const problems = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '' && !/^tsvs_nodejs_active_\w+_total non-counter metrics should not have "_total" suffix$/.test(l));
    expect(problems).toEqual([]);
  });

  it('the query API shows the guest ports counters rising while the guests ping', async () => {
    await waitFor('target up', 30_000, async () => ((await query('up{job="tsvs"}'))[0]?.value[1] === '1' ? true : undefined));
    pinging = true;
    pingLoop = (async () => {
      let rounds = 0;
      while (pinging) {
        await Promise.all([tool('tsvs-appctl', 'guest/ping', 'g1', '10.11.0.2', '3'), tool('tsvs-appctl', 'guest/ping', 'g2', '10.11.0.1', '3')]);
        rounds++;
      }
      return rounds;
    })();
    pingLoop.catch(() => undefined);

    // Two scraped samples apart: increase() over them is positive for both directions.
    const rx = await waitFor('increase of g1 rx_packets', 45_000, async () => {
      const r = await query('increase(tsvs_interface_rx_packets_total{job="tsvs",bridge="br0",port="g1"}[15s])');
      const v = Number(r[0]?.value[1]);
      return v > 0 ? v : undefined;
    });
    expect(rx).toBeGreaterThan(0);
    const first = Number((await query('tsvs_interface_tx_packets_total{port="g2"}'))[0]!.value[1]);
    const later = await waitFor('g2 tx_packets rising across scrapes', 30_000, async () => {
      const v = Number((await query('tsvs_interface_tx_packets_total{port="g2"}'))[0]?.value[1]);
      return v > first ? v : undefined;
    });
    expect(later).toBeGreaterThan(first);
    const dp = await query('increase(tsvs_datapath_rx_packets_total{bridge="br0"}[15s])');
    expect(Number(dp[0]!.value[1])).toBeGreaterThan(0);

    pinging = false;
    expect(await pingLoop).toBeGreaterThan(0);

    // Prometheus read the TYPE lines: counters are counters, gauges gauges.
    const meta = (await (await fetch(`${api}/api/v1/metadata`)).json()) as { data: Record<string, Array<{ type: string }>> };
    expect(meta.data['tsvs_interface_rx_packets_total']?.[0]?.type).toBe('counter');
    expect(meta.data['tsvs_datapath_emc_hits_total']?.[0]?.type).toBe('counter');
    expect(meta.data['tsvs_datapath_flows']?.[0]?.type).toBe('gauge');
    const targets = (await (await fetch(`${api}/api/v1/targets`)).json()) as { data: { activeTargets: Array<{ health: string; lastError: string; scrapeUrl: string }> } };
    expect(targets.data.activeTargets).toEqual([expect.objectContaining({ health: 'up', lastError: '', scrapeUrl: metricsUrl })]);
  }, 120_000);
});
