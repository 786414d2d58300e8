// Tap and internal ports: a namespace host on a TAP that tsvs created pings an
// emulated guest; the host stack on an internal port (address on the host
// side) pings a guest; four idle native ports cost (almost) no CPU.
// Needs root and the built addon.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { Datapath } from '../../datapath/dpif.js';
import { nativeAvailable, nativeLoadError } from '../../datapath/native/index.js';
import { createPort } from '../../datapath/ports/factory.js';
import { GuestPort } from '../../datapath/ports/guest.js';
import { InternalPort } from '../../datapath/ports/internal.js';
import { SystemPort } from '../../datapath/ports/system.js';
import { TapPort } from '../../datapath/ports/tap.js';
import { fmtPct, idleCpuWindows } from '../helpers/idle-cpu.js';
import { learningSwitch } from '../helpers/learning-switch.js';
import { NetLab, ip, isRoot } from '../helpers/netlab.js';

const run = promisify(execFile);
const skipReason = !nativeAvailable() ? String(nativeLoadError()?.message) : !isRoot() ? 'not root' : '';
if (skipReason) console.warn(`[ports-tap tests] skipped: ${skipReason}`);

const sub = () => `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}`;

describe.skipIf(skipReason !== '')('tap and internal ports', () => {
  const lab = new NetLab('tsp');
  const dps: Datapath[] = [];

  async function bridge(name: string): Promise<Datapath> {
    const dp = new Datapath({ name });
    dps.push(dp);
    dp.setUpcallHandler(learningSwitch(dp));
    return dp;
  }

  afterAll(async () => {
    // Stop first: closing a TAP's fd deletes the device, before its namespace goes.
    for (const dp of dps.splice(0)) await dp.stop();
    lab.cleanup();
  });

  it('a namespace host on a tap port pings a guest port', async () => {
    const net = sub();
    const dp = await bridge('tsptap');
    const tap = createPort({ name: lab.name('t'), type: 'tap' }) as TapPort;
    const guest = new GuestPort('g', { mac: '02:00:00:00:07:02', ip: `${net}.2/24` });
    await dp.addPort(tap);
    await dp.addPort(guest);
    await dp.start();
    expect(ip('link', 'show', tap.name)).toMatch(/UP/);
    const ns = lab.netns('T');
    ip('link', 'set', tap.name, 'netns', ns);
    ip('-n', ns, 'addr', 'add', `${net}.1/24`, 'dev', tap.name);
    ip('-n', ns, 'link', 'set', tap.name, 'up');
    const { stdout } = await run('ip', ['netns', 'exec', ns, 'ping', '-c', '3', '-i', '0.2', '-W', '2', `${net}.2`], {
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(stdout).toMatch(/3 packets transmitted, 3 received/);
    expect(tap.stats.rxPackets).toBeGreaterThanOrEqual(4); // ARP + 3 echo requests
    expect(tap.stats.txPackets).toBeGreaterThanOrEqual(4);
  });

  it('the host pings a guest through an internal port with an address', async () => {
    const net = sub();
    const dp = await bridge('tspint');
    const internal = createPort({ name: lab.name('br'), type: 'internal' }) as InternalPort;
    const guest = new GuestPort('g', { mac: '02:00:00:00:08:02', ip: `${net}.2/24` });
    await dp.addPort(internal);
    await dp.addPort(guest);
    await dp.start();
    ip('addr', 'add', `${net}.1/24`, 'dev', internal.name);
    const { stdout } = await run('ping', ['-c', '3', '-i', '0.2', '-W', '2', '-I', internal.name, `${net}.2`], {
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(stdout).toMatch(/3 packets transmitted, 3 received/);
    expect(internal.type).toBe('internal');
    expect(internal.carrier).toBe(true);
    expect(internal.mtu).toBe(1500);
    await dp.stop();
    expect(() => ip('link', 'show', internal.name)).toThrow(); // the TAP is gone with the port
  });

  it('four idle ports use < 1 % CPU', async () => {
    const dp = await bridge('tspidle');
    const [a] = lab.veth('i');
    const [b] = lab.veth('j');
    const ports = [new SystemPort(a), new SystemPort(b), new TapPort(lab.name('it')), new InternalPort(lab.name('ii'))];
    for (const p of ports) await dp.addPort(p);
    await dp.start();
    await new Promise((r) => setTimeout(r, 300));
    const wakeups = () => ports.reduce((t, p) => t + (p.nativeStats?.rxWakeups ?? 0), 0);
    const rx = () => ports.reduce((t, p) => t + p.stats.rxPackets, 0);
    const w0 = wakeups();
    const r0 = rx();
    const windows = await idleCpuWindows(3, 1000);
    const woke = wakeups() - w0;
    const stray = rx() - r0;
    console.log(`[ports-tap] 4 idle ports, three 1 s windows: ${fmtPct(windows)} CPU (${woke} wake-ups, ${stray} stray frames)`);
    // Event-driven: no wake-up without a frame (no timer, no spinning).
    expect(woke).toBeLessThanOrEqual(stray);
    expect(Math.min(...windows)).toBeLessThan(1);
    await dp.stop();
  });
});
