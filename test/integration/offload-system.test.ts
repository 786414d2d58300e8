// hw-offload in process: a Datapath with offload on and three veth `system`
// ports acting as a hub (every frame to both other ports), so each cached
// flow goes into the kernel as mirred mirror + redirect. A pings B through
// the kernel path, C gets a copy of every frame, tsvs sees none of them once
// offloaded, and stop() leaves no qdisc behind. Root, tc and cls_bpf only.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DpAction } from '../../datapath/actions/types.js';
import { Datapath } from '../../datapath/dpif.js';
import * as K from '../../datapath/flow/key.js';
import { SystemPort } from '../../datapath/ports/system.js';
import { TapPort } from '../../datapath/ports/tap.js';
import { NetLab, ip } from '../helpers/netlab.js';
import { offloadSkipReason } from '../helpers/offload-skip.js';

const run = promisify(execFile);

const why = offloadSkipReason();
if (why) console.warn(`[offload-system tests] skipped: ${why}`);

const rxPackets = (ns: string, dev: string): number => {
  const j = JSON.parse(execFileSync('ip', ['-n', ns, '-j', '-s', 'link', 'show', dev], { encoding: 'utf8' })) as { stats64: { rx: { packets: number } } }[];
  return j[0].stats64.rx.packets;
};

describe.skipIf(why !== '')('hw-offload in process: a three-port hub on veths', () => {
  const lab = new NetLab('tsh');
  const warnings: string[] = [];
  const dp = new Datapath({ name: 'tshub', offload: { statsIntervalMs: 200, warn: (m) => warnings.push(m) } });
  const net = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}`;
  const ns: string[] = [];
  const inner: string[] = [];
  const ports: SystemPort[] = [];

  beforeAll(async () => {
    try {
      for (let i = 0; i < 3; i++) {
        const n = lab.netns(`n${i}`);
        for (const k of ['all', 'default']) lab.sysctl(`net.ipv6.conf.${k}.disable_ipv6`, '1', n);
        const [x, y] = lab.veth(`v${i}`);
        ip('link', 'set', y, 'netns', n);
        lab.exec(n, 'ip', ['addr', 'add', `${net}.${i + 1}/24`, 'dev', y]);
        lab.exec(n, 'ip', ['link', 'set', y, 'up']);
        ns.push(n);
        inner.push(y);
        const p = new SystemPort(x);
        ports.push(p);
        await dp.addPort(p);
      }
      const all = ports.map((p) => p.portNo);
      const mask = K.newKey();
      mask[K.W_IN_PORT] = 0xffffffff;
      dp.setUpcallHandler({
        miss: (inPort) => ({ actions: all.filter((n) => n !== inPort).map((port): DpAction => ({ type: 'output', port })), mask }),
      });
      await dp.start();
    } catch (e) {
      await dp.stop();
      lab.cleanup();
      throw e;
    }
  });

  afterAll(async () => {
    await dp.stop();
    lab.cleanup();
  });

  it('forwards and mirrors in the kernel; tsvs sees nothing after the first frames', async () => {
    await run('ip', ['netns', 'exec', ns[0], 'ping', '-c', '2', '-i', '0.2', '-W', '1', `${net}.2`], { timeout: 15_000 });
    const o = dp.offload!;
    await o.settled();
    for (let t = 0; t < 50 && o.stats.offloaded < 2; t++) await new Promise((r) => setTimeout(r, 100));
    expect(o.stats.offloaded).toBeGreaterThanOrEqual(2);
    expect(warnings).toEqual([]);
    const filters = execFileSync('tc', ['filter', 'show', 'dev', ports[0].name, 'ingress'], { encoding: 'utf8' });
    expect(filters).toMatch(/mirred \(Egress Mirror to device/);
    expect(filters).toMatch(/mirred \(Egress Redirect to device/);
    const tsvsRx0 = ports[0].stats.rxPackets + ports[1].stats.rxPackets;
    const c0 = rxPackets(ns[2], inner[2]);
    const out = await run('ip', ['netns', 'exec', ns[0], 'ping', '-c', '30', '-i', '0.02', '-W', '1', `${net}.2`], { timeout: 15_000, encoding: 'utf8' });
    expect(out.stdout).toMatch(/30 received/);
    expect(ports[0].stats.rxPackets + ports[1].stats.rxPackets - tsvsRx0).toBeLessThanOrEqual(2);
    // C got a copy of every request and reply.
    expect(rxPackets(ns[2], inner[2]) - c0).toBeGreaterThanOrEqual(60);
    await o.pollStats();
    const f = [...dp.flowDump()].find((x) => x.key[K.W_IN_PORT] === ports[0].portNo)!;
    expect(f.packets).toBeGreaterThanOrEqual(30);
  }, 60_000);

  it('stop() removes every qdisc it added', async () => {
    await dp.stop();
    for (const p of ports) expect(execFileSync('tc', ['qdisc', 'show', 'dev', p.name], { encoding: 'utf8' })).not.toMatch(/clsact/);
  });
});

describe.skipIf(why !== '')('hw-offload in process: a tap port (host stack) and a veth system port', () => {
  const lab = new NetLab('tst');
  const warnings: string[] = [];
  const dp = new Datapath({ name: 'tstap', offload: { statsIntervalMs: 0, warn: (m) => warnings.push(m) } });
  const net = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}`;
  let ns = '';
  let tap: TapPort;
  let sys: SystemPort;

  beforeAll(async () => {
    try {
      ns = lab.netns('n');
      for (const k of ['all', 'default']) lab.sysctl(`net.ipv6.conf.${k}.disable_ipv6`, '1', ns);
      const [x, y] = lab.veth('v');
      ip('link', 'set', y, 'netns', ns);
      lab.exec(ns, 'ip', ['addr', 'add', `${net}.2/24`, 'dev', y]);
      lab.exec(ns, 'ip', ['link', 'set', y, 'up']);
      tap = new TapPort(lab.name('t'));
      sys = new SystemPort(x);
      await dp.addPort(tap);
      await dp.addPort(sys);
      const mask = K.newKey();
      mask[K.W_IN_PORT] = 0xffffffff;
      // A wire: whatever comes in on one port goes out of the other.
      dp.setUpcallHandler({ miss: (inPort) => ({ actions: [{ type: 'output', port: inPort === tap.portNo ? sys.portNo : tap.portNo }], mask }) });
      await dp.start();
      lab.sysctl(`net.ipv6.conf.${tap.name}.disable_ipv6`, '1');
      ip('addr', 'add', `${net}.1/24`, 'dev', tap.name);
    } catch (e) {
      await dp.stop();
      lab.cleanup();
      throw e;
    }
  });

  afterAll(async () => {
    await dp.stop();
    lab.cleanup();
  });

  it('the host pings through the TAP: host -> veth in the kernel (TAP egress hook), replies through tsvs', async () => {
    await run('ping', ['-c', '2', '-i', '0.2', '-W', '1', `${net}.2`], { timeout: 15_000 });
    const o = dp.offload!;
    await o.settled();
    for (let t = 0; t < 50 && o.stats.offloaded < 1; t++) await new Promise((r) => setTimeout(r, 100));
    expect(o.stats.offloaded).toBe(1);
    expect(o.stats.refused).toEqual({ 'output to a tap/internal port': 1 });
    expect(warnings).toEqual([]);
    expect(execFileSync('tc', ['filter', 'show', 'dev', tap.name, 'egress'], { encoding: 'utf8' })).toMatch(/Egress Redirect to device/);
    const tapRx0 = tap.stats.rxPackets;
    const sysRx0 = sys.stats.rxPackets;
    const flow = [...dp.flowDump()].find((f) => f.key[K.W_IN_PORT] === tap.portNo)!;
    const [p0, b0] = [flow.packets, flow.bytes];
    const out = await run('ping', ['-c', '20', '-i', '0.02', '-W', '1', `${net}.2`], { timeout: 15_000, encoding: 'utf8' });
    expect(out.stdout).toMatch(/20 received/);
    expect(tap.stats.rxPackets - tapRx0).toBeLessThanOrEqual(2);
    expect(sys.stats.rxPackets - sysRx0).toBeGreaterThanOrEqual(20);
    await o.pollStats();
    // Egress counters already include the Ethernet header: whole 98-byte frames.
    expect(flow.packets - p0).toBeGreaterThanOrEqual(20);
    expect((flow.bytes - b0) / (flow.packets - p0)).toBeCloseTo(98, 0);
  }, 60_000);
});
