// Real QEMU guests (test/guests: Debian kernel + busybox, TCG) on tsvs
// `stream` and `dgram` ports of one Datapath switched by a learning handler:
// ping and TCP echo between two guests, a guest restart, a switch restart with
// QEMU listening, a dgram guest pinging an emulated `guest` port, and ping RTT
// through tsvs against the same guests on a Linux bridge. Skipped when
// qemu-system-x86_64 is missing.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Datapath } from '../../datapath/dpif.js';
import { DgramPort } from '../../datapath/ports/dgram.js';
import { GuestPort } from '../../datapath/ports/guest.js';
import type { Port } from '../../datapath/ports/port.js';
import { StreamPort } from '../../datapath/ports/stream.js';
import { learningSwitch } from '../helpers/learning-switch.js';
import { isRoot } from '../helpers/netlab.js';
import { QemuGuest, buildGuests, qemuMissing, type QemuGuestOptions } from '../helpers/qemu-guest.js';

const missing = qemuMissing();
const BOOT_MS = 90_000; // boot to READY; generous: TCG on 2 shared cores
const quiet = (): void => undefined;

let dir = '';
const guests: QemuGuest[] = [];
const datapaths: Datapath[] = [];
interface Rtt {
  min: number;
  median: number;
  avg: number;
  max: number;
  n: number;
}
const rtt: { tsvs?: Rtt; bridge?: Rtt } = {};
const fmt = (r: Rtt | undefined): string =>
  r === undefined ? 'not measured' : `min/median/avg/max ${r.min}/${r.median}/${r.avg.toFixed(3)}/${r.max} ms (${r.n} pings)`;

function guest(opts: Omit<QemuGuestOptions, 'logFile'>): QemuGuest {
  const g = new QemuGuest({ ...opts, logFile: join(dir, `${opts.name}.log`) });
  guests.push(g);
  return g;
}

async function switchWith(name: string, ports: Port[]): Promise<Datapath> {
  const dp = new Datapath({ name });
  datapaths.push(dp);
  dp.setUpcallHandler(learningSwitch(dp));
  for (const p of ports) await dp.addPort(p);
  await dp.start();
  return dp;
}

/** Ping from an emulated guest port until one reply comes back (the QEMU guest may still be booting). */
async function pingUntil(from: GuestPort, ip: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await from.ping(ip, 1, { timeoutMs: 500 });
    if (r.received === 1) return r.rttsMs[0];
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error(`${from.name}: no answer from ${ip} within ${timeoutMs} ms`);
}

/** The guest's per-reply ping times (PING-TIMES): the median resists TCG's scheduling spikes. */
function rttOf(g: QemuGuest): Rtt {
  const m = /^PING-TIMES ([\d. ]*)$/m.exec(g.output);
  if (!m) throw new Error(`${g.opts.name}: no PING-TIMES line`);
  const t = m[1].trim().split(/\s+/).map(Number).sort((x, y) => x - y);
  const mid = t.length >> 1;
  const median = t.length % 2 ? t[mid] : Math.round(((t[mid - 1] + t[mid]) / 2) * 1000) / 1000;
  return { min: t[0], median, avg: t.reduce((x, y) => x + y, 0) / t.length, max: t[t.length - 1], n: t.length };
}

const PING_JOB = (peer: string): string => `ping ${peer} 30 0.2 , tcpecho ${peer} , stop ${peer}`;

describe.skipIf(missing !== null)('QEMU guests on stream and dgram ports', () => {
  beforeAll(() => {
    buildGuests();
    // Short path: unix socket paths must fit 107 bytes.
    dir = mkdtempSync('/tmp/tsvs-qemu-');
  }, 300_000);

  afterAll(async () => {
    await Promise.all(guests.map((g) => g.kill()));
    for (const dp of datapaths) await dp.stop();
    if (rtt.tsvs !== undefined || rtt.bridge !== undefined) {
      console.log(`ping RTT between two QEMU guests\n  tsvs stream ports:   ${fmt(rtt.tsvs)}\n  Linux bridge (taps): ${fmt(rtt.bridge)}`);
      if (rtt.tsvs && rtt.bridge) console.log(`  tsvs/bridge median ratio ${(rtt.tsvs.median / rtt.bridge.median).toFixed(2)}`);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('two guests on stream ports ping each other and pass a TCP echo', async () => {
    const a = new StreamPort('qa', { path: join(dir, 'qa.sock'), log: quiet });
    const b = new StreamPort('qb', { path: join(dir, 'qb.sock'), log: quiet });
    await switchWith('br-stream', [a, b]);
    const gb = guest({ name: 'B', net: `stream:${b.path}`, ip: '10.0.0.2/24', mac: '52:54:00:00:00:02', job: 'serve' });
    const ga = guest({ name: 'A', net: `stream:${a.path}`, ip: '10.0.0.1/24', mac: '52:54:00:00:00:01', job: PING_JOB('10.0.0.2') });
    await ga.waitFor(/JOB-DONE A rc=\d+/, BOOT_MS + 60_000);
    expect(ga.output).toMatch(/^PING-OK 30\/30/m);
    expect(ga.output).toMatch(/^ECHO-OK/m);
    await gb.waitFor(/STOPPED B/, 10_000);
    rtt.tsvs = rttOf(ga);
    expect(a.stats.rxPackets).toBeGreaterThanOrEqual(32);
    expect(b.stats.txPackets).toBeGreaterThanOrEqual(32);
    expect(a.stats.rxErrors + b.stats.rxErrors).toBe(0);
    await Promise.all([ga.exited, gb.exited]);
  }, 240_000);

  it.skipIf(!isRoot())('baseline: the same two guests on a Linux bridge (tap NICs)', async () => {
    const ns = `tsvsq${randomBytes(3).toString('hex')}`;
    const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });
    ip('netns', 'add', ns);
    try {
      ip('-n', ns, 'link', 'add', 'br0', 'type', 'bridge');
      for (const t of ['tap0', 'tap1']) {
        ip('-n', ns, 'tuntap', 'add', 'dev', t, 'mode', 'tap');
        ip('-n', ns, 'link', 'set', t, 'master', 'br0');
        ip('-n', ns, 'link', 'set', t, 'up');
      }
      ip('-n', ns, 'link', 'set', 'br0', 'up');
      const gb = guest({ name: 'BB', net: 'tap:tap1', netns: ns, ip: '10.0.0.2/24', mac: '52:54:00:00:01:02', job: 'serve' });
      const ga = guest({ name: 'BA', net: 'tap:tap0', netns: ns, ip: '10.0.0.1/24', mac: '52:54:00:00:01:01', job: PING_JOB('10.0.0.2') });
      await ga.waitFor(/JOB-DONE BA rc=\d+/, BOOT_MS + 60_000);
      expect(ga.output).toMatch(/^PING-OK 30\/30/m);
      rtt.bridge = rttOf(ga);
      await gb.kill();
      await ga.kill();
    } finally {
      execFileSync('ip', ['netns', 'del', ns]);
    }
  }, 240_000);

  describe('restarts and dgram (concurrently)', { concurrent: true }, () => {
    it('a guest restarts on its stream port and traffic resumes', async () => {
      const s = new StreamPort('qr', { path: join(dir, 'qr.sock'), log: quiet });
      const host = new GuestPort('hr', { mac: '02:00:00:00:02:09', ip: '10.0.2.9/24' });
      await switchWith('br-restart', [s, host]);
      const job = 'sleep 200';
      const g1 = guest({ name: 'R1', net: `stream:${s.path}`, ip: '10.0.2.1/24', mac: '52:54:00:00:02:01', job });
      await g1.waitFor(/READY R1/, BOOT_MS);
      await pingUntil(host, '10.0.2.1', 30_000);
      await g1.kill();
      expect(s.carrier).toBe(false);
      expect((await host.ping('10.0.2.1', 1, { timeoutMs: 300 })).received).toBe(0);
      const g2 = guest({ name: 'R2', net: `stream:${s.path}`, ip: '10.0.2.1/24', mac: '52:54:00:00:02:01', job });
      await g2.waitFor(/READY R2/, BOOT_MS);
      await pingUntil(host, '10.0.2.1', 30_000);
      expect(s.connections).toBe(2);
      expect((await host.ping('10.0.2.1', 5, { intervalMs: 100, timeoutMs: 2000 })).received).toBe(5);
      await g2.kill();
    }, 240_000);

    it('the switch restarts its client-role stream port (QEMU listens) and traffic resumes', async () => {
      const path = join(dir, 'ql.sock');
      const g = guest({ name: 'L', net: `stream-listen:${path}`, ip: '10.0.3.1/24', mac: '52:54:00:00:03:01', job: 'sleep 200' });
      // tsvs starts first: the port retries until QEMU listens.
      const mk = (): [StreamPort, GuestPort] => [
        new StreamPort('ql', { path, role: 'client', backoffMinMs: 100, backoffMaxMs: 500, log: quiet }),
        new GuestPort('hl', { mac: '02:00:00:00:03:09', ip: '10.0.3.9/24' }),
      ];
      const [p1, h1] = mk();
      const dp1 = await switchWith('br-client1', [p1, h1]);
      await g.waitFor(/READY L/, BOOT_MS);
      await pingUntil(h1, '10.0.3.1', 30_000);
      expect(p1.carrier).toBe(true);
      await dp1.stop(); // the switch goes away...
      const [p2, h2] = mk();
      await switchWith('br-client2', [p2, h2]); // ...and comes back
      await pingUntil(h2, '10.0.3.1', 30_000);
      expect((await h2.ping('10.0.3.1', 5, { intervalMs: 100, timeoutMs: 2000 })).received).toBe(5);
      await g.kill();
    }, 240_000);

    it('a guest on a dgram (UDP) port pings an emulated guest port', async () => {
      const [lp, rp] = await twoFreeUdpPorts();
      const d = new DgramPort('qd', { local: `127.0.0.1:${lp}`, remote: `127.0.0.1:${rp}`, log: quiet });
      const host = new GuestPort('hd', { mac: '02:00:00:00:04:09', ip: '10.0.4.9/24' });
      await switchWith('br-dgram', [d, host]);
      const g = guest({ name: 'D', net: `udp:${rp}:${lp}`, ip: '10.0.4.1/24', mac: '52:54:00:00:04:01', job: 'ping 10.0.4.9 5 0.2' });
      await g.waitFor(/JOB-DONE D rc=\d+/, BOOT_MS + 60_000);
      expect(g.output).toMatch(/^PING-OK 5\/5/m);
      expect(d.stats.rxPackets).toBeGreaterThanOrEqual(6);
      expect(d.stats.txPackets).toBeGreaterThanOrEqual(6);
      await g.exited;
    }, 240_000);
  });
});

async function twoFreeUdpPorts(): Promise<[number, number]> {
  const socks = [dgram.createSocket('udp4'), dgram.createSocket('udp4')];
  await Promise.all(socks.map((s) => new Promise<void>((r) => s.bind(0, '127.0.0.1', r))));
  const ports = socks.map((s) => s.address().port) as [number, number];
  await Promise.all(socks.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

if (missing !== null) {
  describe('QEMU guests', () => {
    it.skip(`skipped: ${missing}`, () => undefined);
  });
}
