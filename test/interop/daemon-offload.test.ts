// hw-offload (tc) end to end: tsvs-vswitchd with other_config:hw-offload=true,
// two network namespaces on veth `system` ports. After the first exchange the
// megaflows are in the kernel (cls_bpf + mirred on each veth's ingress): pings
// keep working while the input port's user-space rx counter stays put, and
// the OpenFlow rule's counters still rise (credited from tc's counters).
// Turning the offload off mid-ping loses nothing; deleting a port takes its
// filters and qdisc away. Root, tc and cls_bpf only (skips with the reason).
// Also: two QEMU guests on their TAPs as system ports with hw-offload on,
// pinging each other; the median RTT is printed beside a Linux bridge's.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, ensureBuilt, runTool } from '../helpers/daemon.js';
import { NetLab, ip } from '../helpers/netlab.js';
import { QemuGuest, buildGuests, qemuMissing } from '../helpers/qemu-guest.js';
import { until } from '../helpers/until.js';
import { offloadSkipReason } from '../helpers/offload-skip.js';

const run = promisify(execFile);

const skipReason = offloadSkipReason();
if (skipReason) console.warn(`[daemon-offload tests] skipped: ${skipReason}`);

const tcShow = (dev: string, what: 'filter' | 'qdisc'): string => {
  try {
    return execFileSync('tc', what === 'filter' ? ['filter', 'show', 'dev', dev, 'ingress'] : ['qdisc', 'show', 'dev', dev], { encoding: 'utf8' });
  } catch (e) {
    return String((e as { stderr?: string }).stderr ?? e);
  }
};

describe.skipIf(skipReason !== '')('hw-offload: veth system ports in two namespaces', () => {
  const d = new DaemonProcess();
  const lab = new NetLab('tso');
  const br = lab.name('br');
  const net = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}`;
  const hosts: { ns: string; port: string }[] = [];
  const tool = async (t: 'tsvs-vsctl' | 'tsvs-appctl' | 'tsvs-ofctl', ...args: string[]): Promise<string> => {
    const r = await runTool(t, t === 'tsvs-vsctl' ? ['--timeout=10', ...args] : args, d.rundir);
    if (r.code !== 0) throw new Error(`${t} ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const vsctl = (...a: string[]) => tool('tsvs-vsctl', ...a);
  const ping = (from: number, count: number, interval = '0.05') =>
    run('ip', ['netns', 'exec', hosts[from].ns, 'ping', '-c', String(count), '-i', interval, '-W', '1', `${net}.${2 - from}`], { encoding: 'utf8', timeout: 30_000 });
  const rxPackets = async (port: string): Promise<number> => Number((await vsctl('get', 'Interface', port, 'statistics:rx_packets')).trim());
  const offloadedLines = async (): Promise<number> => (await tool('tsvs-appctl', 'dpctl/dump-flows')).split('\n').filter((l) => l.includes('offloaded:yes, dp:tc')).length;
  const ruleStats = async (): Promise<number> => {
    const m = /n_packets=(\d+)/.exec(await tool('tsvs-ofctl', 'dump-flows', br));
    return m ? Number(m[1]) : -1;
  };

  beforeAll(async () => {
    ensureBuilt();
    try {
      for (const [i, host] of [[0, 1], [1, 2]] as const) {
        const ns = lab.netns(`n${i}`);
        // No IPv6 (MLD/ND multicast would be counted as user-space frames below).
        for (const k of ['all', 'default']) lab.sysctl(`net.ipv6.conf.${k}.disable_ipv6`, '1', ns);
        const [inner, outer] = lab.veth(`v${i}`);
        ip('link', 'set', inner, 'netns', ns);
        lab.exec(ns, 'ip', ['addr', 'add', `${net}.${host}/24`, 'dev', inner]);
        lab.exec(ns, 'ip', ['link', 'set', inner, 'up']);
        lab.exec(ns, 'ip', ['link', 'set', 'lo', 'up']);
        hosts.push({ ns, port: outer });
      }
      await d.start(['--stats-interval=200']);
      await vsctl('set', 'Open_vSwitch', '.', 'other_config:hw-offload=true');
      await vsctl('add-br', br, '--', 'set-fail-mode', br, 'secure', '--', 'add-port', br, hosts[0].port, '--', 'add-port', br, hosts[1].port);
      await tool('tsvs-ofctl', 'add-flow', br, 'actions=NORMAL');
    } catch (e) {
      await d.kill('SIGTERM');
      lab.cleanup();
      throw e;
    }
  }, 120_000);

  afterAll(async () => {
    await d.kill('SIGTERM');
    lab.cleanup();
    rmSync(d.dir, { recursive: true, force: true });
  }, 30_000);

  it('after the first exchange frames stay in the kernel; rule stats still count them', async () => {
    await until('first ping', 15_000, async () => ((await ping(0, 1).then(() => true, () => false)) ? true : undefined));
    // Both directions of the ICMP exchange (and ARP) get offloaded shortly after they are installed.
    await until('offloaded megaflows', 10_000, async () => ((await offloadedLines()) >= 2 ? true : undefined));
    expect(tcShow(hosts[0].port, 'filter')).toMatch(/pref 30303 bpf/);
    expect(tcShow(hosts[0].port, 'qdisc')).toMatch(/clsact/);
    await new Promise((r) => setTimeout(r, 500)); // statistics settle
    const rx0 = await rxPackets(hosts[0].port);
    const n0 = await ruleStats();
    const out = await ping(0, 40);
    expect(out.stdout).toMatch(/40 received/);
    await new Promise((r) => setTimeout(r, 600));
    const rx1 = await rxPackets(hosts[0].port);
    console.log(`[daemon-offload] user-space rx on ${hosts[0].port} during 40 offloaded pings: ${rx1 - rx0}`);
    if (rx1 - rx0 > 2) console.log(await tool('tsvs-appctl', 'dpctl/dump-flows'));
    expect(rx1 - rx0).toBeLessThanOrEqual(2);
    const n1 = await until('rule stats credited from tc', 5_000, async () => {
      const n = await ruleStats();
      return n >= n0 + 80 ? n : undefined;
    });
    expect(n1).toBeGreaterThanOrEqual(n0 + 80);
    const dump = await tool('tsvs-appctl', 'dpctl/dump-flows');
    expect(dump).toMatch(/packets:[1-9]\d*, bytes:\d+, used:\d+\.\d+s, offloaded:yes, dp:tc, actions:\d/);
    expect(await tool('tsvs-appctl', 'dpctl/show')).toMatch(/hw-offload \(tc\): offloaded:[1-9]/);
  }, 60_000);

  it('an OpenFlow change reaches the kernel flows at once (no frame through user space needed)', async () => {
    await ping(0, 3);
    await until('offloaded', 10_000, async () => ((await offloadedLines()) >= 2 ? true : undefined));
    await tool('tsvs-ofctl', 'add-flow', br, 'priority=40000,icmp,actions=drop');
    // Revalidation runs right after the flow-mod and takes the NORMAL flows out of tc (ARP may come back:
    // the new rule only drops ICMP).
    await until('ICMP flows out of the kernel', 5_000, async () => {
      const lines = (await tool('tsvs-appctl', 'dpctl/dump-flows')).split('\n').filter((l) => l.includes('offloaded:yes'));
      return lines.every((l) => l.includes('eth_type(0x0806)')) ? true : undefined;
    });
    await expect(ping(0, 3, '0.2')).rejects.toThrow();
    await tool('tsvs-ofctl', '--strict', 'del-flows', br, 'priority=40000,icmp');
    expect((await ping(0, 3, '0.2')).stdout).toMatch(/3 received/);
  }, 60_000);

  it('turning the offload off under a running ping loses nothing and removes every filter', async () => {
    const p = ping(1, 60, '0.05');
    await new Promise((r) => setTimeout(r, 1000));
    await vsctl('set', 'Open_vSwitch', '.', 'other_config:hw-offload=false');
    const out = await p;
    expect(out.stdout).toMatch(/60 received/);
    expect(tcShow(hosts[0].port, 'qdisc')).not.toMatch(/clsact/);
    expect(tcShow(hosts[1].port, 'qdisc')).not.toMatch(/clsact/);
    expect(await offloadedLines()).toBe(0);
    // And user space forwards again.
    const rx0 = await rxPackets(hosts[1].port);
    await ping(1, 10);
    await new Promise((r) => setTimeout(r, 500));
    expect((await rxPackets(hosts[1].port)) - rx0).toBeGreaterThanOrEqual(10);
  }, 60_000);

  it('deleting a port removes its filters and qdisc; flows out of it leave the kernel', async () => {
    await vsctl('set', 'Open_vSwitch', '.', 'other_config:hw-offload=true');
    await ping(0, 3);
    await until('offloaded again', 10_000, async () => ((await offloadedLines()) >= 2 ? true : undefined));
    await vsctl('del-port', br, hosts[1].port);
    expect(tcShow(hosts[1].port, 'qdisc')).not.toMatch(/clsact/);
    // Flows from port 0 redirected to the deleted port are gone from port 0's ingress too.
    expect(tcShow(hosts[0].port, 'filter')).not.toMatch(/redirect|bpf/);
    await expect(ping(0, 2, '0.2')).rejects.toThrow();
  }, 60_000);
});

const qemuSkip = skipReason || qemuMissing();
describe.skipIf(!!qemuSkip)('hw-offload: two QEMU guests on TAP system ports', () => {
  const lab = new NetLab('tsq');
  let dir = '';
  const guests: QemuGuest[] = [];
  const d = new DaemonProcess();
  d.internalDevices = true;

  beforeAll(async () => {
    buildGuests();
    ensureBuilt();
    dir = mkdtempSync('/tmp/tsvs-offq-');
  }, 300_000);
  afterAll(async () => {
    await Promise.all(guests.map((g) => g.kill()));
    await d.kill('SIGTERM');
    lab.cleanup();
    rmSync(d.dir, { recursive: true, force: true });
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  /** Guest A pings B `n` times; returns A's reply times (ms). */
  async function pingRun(tag: string, netA: string, netB: string, netns?: string): Promise<number[]> {
    const mk = (name: string, net: string, last: number, job: string): QemuGuest => {
      const g = new QemuGuest({ name, net, ip: `10.0.7.${last}/24`, mac: `52:54:00:00:07:0${last}`, job, logFile: join(dir, `${name}.log`), ...(netns ? { netns } : {}) });
      guests.push(g);
      return g;
    };
    const gb = mk(`${tag}B`, netB, 2, 'serve');
    const ga = mk(`${tag}A`, netA, 1, 'ping 10.0.7.2 40 0.2 , stop 10.0.7.2');
    try {
      await ga.waitFor(new RegExp(`JOB-DONE ${tag}A rc=\\d+`), 240_000);
      expect(ga.output).toMatch(/^PING-OK 40\/40/m);
      const m = /^PING-TIMES ([\d. ]*)$/m.exec(ga.output);
      return m ? m[1].trim().split(/\s+/).map(Number) : [];
    } finally {
      await Promise.all([ga.kill(), gb.kill()]);
    }
  }
  const median = (t: number[]): number => {
    const s = [...t].sort((x, y) => x - y);
    return s.length === 0 ? NaN : s.length % 2 ? s[s.length >> 1] : (s[(s.length >> 1) - 1] + s[s.length >> 1]) / 2;
  };

  it('guests ping each other through offloaded flows; RTT printed against a Linux bridge', async () => {
    const tag = lab.name('');
    await d.start(['--stats-interval=200']);
    const vsctl = async (...args: string[]): Promise<string> => {
      const r = await runTool('tsvs-vsctl', ['--timeout=30', ...args], d.rundir);
      if (r.code !== 0) throw new Error(`tsvs-vsctl ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
      return r.stdout;
    };
    const [ta, tb, br] = [`${tag}a`, `${tag}b`, `${tag}br`];
    await vsctl('set', 'Open_vSwitch', '.', 'other_config:hw-offload=true', '--', 'add-br', br, '--', 'add-port', br, ta, '--', 'add-port', br, tb);
    const tsvs = await pingRun('OA', `tap:${ta}`, `tap:${tb}`);
    const dump = (await runTool('tsvs-appctl', ['dpctl/dump-flows'], d.rundir)).stdout;
    expect(dump).toMatch(/offloaded:yes, dp:tc/);
    // The same guests through a Linux bridge in a namespace.
    const ns = lab.netns('q');
    const inNs = (...a: string[]) => execFileSync('ip', ['-n', ns, ...a]);
    inNs('link', 'add', 'br0', 'type', 'bridge');
    for (const t of ['tap0', 'tap1']) {
      inNs('tuntap', 'add', 'dev', t, 'mode', 'tap');
      inNs('link', 'set', t, 'master', 'br0');
      inNs('link', 'set', t, 'up');
    }
    inNs('link', 'set', 'br0', 'up');
    const bridge = await pingRun('OB', 'tap:tap0', 'tap:tap1', ns);
    console.log(
      `[daemon-offload] QEMU ping median RTT: tsvs hw-offload ${median(tsvs).toFixed(3)} ms, Linux bridge ${median(bridge).toFixed(3)} ms (ratio ${(median(tsvs) / median(bridge)).toFixed(2)})`,
    );
  }, 600_000);
});

