// Two QEMU guests (test/guests) whose NICs are TAPs QEMU opens itself
// (-netdev tap,ifname=...), attached to a tsvs-vswitchd bridge as `system`
// ports with tsvs-vsctl — the way OVS users attach VMs. The ports are added
// before QEMU exists: the daemon reports "could not open network device" and
// attaches each TAP once QEMU has created it. The guests ping each other and
// pass a TCP echo. (A `tap` port's TAP is opened by tsvs itself; QEMU cannot
// open the same TAP, so VMs use system ports on their own TAPs, or stream /
// dgram ports — see qemu-guests.test.ts.) Root and QEMU only.
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, ensureBuilt, runTool } from '../helpers/daemon.js';
import { isRoot } from '../helpers/netlab.js';
import { QemuGuest, buildGuests, qemuMissing } from '../helpers/qemu-guest.js';

const BOOT_MS = 90_000;

describe.skipIf(qemuMissing() !== null || !isRoot())('tsvs-vswitchd: QEMU guests on system ports (QEMU-opened TAPs)', () => {
  const d = new DaemonProcess();
  d.internalDevices = true; // unique bridge names: their TAPs do not clash
  const tag = `tsq${randomBytes(2).toString('hex')}`;
  const br = `${tag}br`;
  const guests: QemuGuest[] = [];
  let dir = '';
  const vsctl = async (...args: string[]): Promise<string> => {
    const r = await runTool('tsvs-vsctl', ['--timeout=10', ...args], d.rundir);
    if (r.code !== 0) throw new Error(`tsvs-vsctl ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };

  beforeAll(async () => {
    buildGuests();
    ensureBuilt();
    dir = mkdtempSync('/tmp/tsvs-dqemu-');
    await d.start(['--stats-interval=200']);
  }, 300_000);
  afterAll(async () => {
    await Promise.all(guests.map((g) => g.kill()));
    await d.kill('SIGTERM');
    rmSync(d.dir, { recursive: true, force: true });
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('two guests ping each other and pass a TCP echo through the bridge', async () => {
    const [ta, tb] = [`${tag}a`, `${tag}b`];
    await vsctl('add-br', br, '--', 'add-port', br, ta, '--', 'add-port', br, tb);
    expect(await vsctl('get', 'Interface', ta, 'error')).toBe(`"could not open network device ${ta} (No such device)"\n`);
    const guest = (name: string, net: string, ip: string, mac: string, job: string): QemuGuest => {
      const g = new QemuGuest({ name, net, ip, mac, job, logFile: join(dir, `${name}.log`) });
      guests.push(g);
      return g;
    };
    const gb = guest('DB', `tap:${tb}`, '10.0.5.2/24', '52:54:00:00:05:02', 'serve');
    const ga = guest('DA', `tap:${ta}`, '10.0.5.1/24', '52:54:00:00:05:01', 'ping 10.0.5.2 20 0.2 , tcpecho 10.0.5.2 , stop 10.0.5.2');
    // QEMU creates the TAPs at start; the daemon attaches them within a statistics period.
    await vsctl('--timeout=30', 'wait-until', 'Interface', ta, 'link_state=up', '--', 'wait-until', 'Interface', tb, 'link_state=up');
    expect(await vsctl('get', 'Interface', ta, 'error')).toBe('[]\n');
    await ga.waitFor(/JOB-DONE DA rc=\d+/, BOOT_MS + 60_000);
    expect(ga.output).toMatch(/^PING-OK 20\/20/m);
    expect(ga.output).toMatch(/^ECHO-OK/m);
    await gb.waitFor(/STOPPED DB/, 10_000);
    await runTool('tsvs-appctl', ['bridge/refresh-stats'], d.rundir);
    expect(Number((await vsctl('get', 'Interface', ta, 'statistics:rx_packets')).trim())).toBeGreaterThanOrEqual(21);
    await Promise.all([ga.exited, gb.exited]);
  }, 240_000);
});
