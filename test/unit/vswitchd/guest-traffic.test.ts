// guest/traffic: argument checks, a bounded rate-limited UDP/ICMP run through
// a learning bridge with replies counted, stop, and status.
import { afterEach, describe, expect, it } from 'vitest';
import { GuestTraffic, parseTrafficArgs } from '../../../vswitchd/guest-traffic.js';
import { traceBridge, type TraceBridge } from '../../helpers/trace-bridge.js';

let t: TraceBridge | null = null;
afterEach(async () => {
  await t?.stop();
  t = null;
});

async function setup(): Promise<{ b: TraceBridge; gt: GuestTraffic }> {
  t = await traceBridge(`brt${Math.random().toString(36).slice(2, 7)}`, 2, { failMode: 'standalone' });
  const b = t;
  return { b, gt: new GuestTraffic((n) => b.guests.find((g) => g.name === n)) };
}

describe('guest/traffic arguments', () => {
  it('defaults and bounds', () => {
    expect(parseTrafficArgs(['10.0.0.2'])).toEqual({ dst: '10.0.0.2', ratePps: 100, count: 1000, sizeBytes: 64, proto: 'udp', flows: 1, dstPort: 7 });
    expect(parseTrafficArgs(['10.0.0.2', '--rate', '50', '--duration', '3', '--proto=tcp', '--flows', '4', '--size', '0', '--dport', '80'])).toMatchObject({ ratePps: 50, count: 150, proto: 'tcp', flows: 4, sizeBytes: 0, dstPort: 80 });
    const bad: [string[], RegExp][] = [
      [['nope'], /not an IPv4 or IPv6 address/],
      [['10.0.0.2', '--rate', '0'], /--rate "0" is not a whole number in 1..100000/],
      [['10.0.0.2', '--rate', '1e9'], /--rate/],
      [['10.0.0.2', '--count', '5', '--duration', '2'], /not both/],
      [['10.0.0.2', '--duration', '99999'], /--duration/],
      [['10.0.0.2', '--proto', 'gre'], /not udp, tcp or icmp/],
      [['10.0.0.2', '--proto', 'icmp', '--flows', '2'], /--flows applies to udp and tcp/],
      [['10.0.0.2', '--bogus'], /--bogus: unknown option/],
      [['10.0.0.2', '--count'], /--count "" is not/],
    ];
    for (const [args, re] of bad) expect(() => parseTrafficArgs(args), args.join(' ')).toThrow(re);
  });
});

describe('guest/traffic', () => {
  it('sends a bounded UDP run to the peer echo port and counts the echoes', async () => {
    const { gt } = await setup();
    expect(gt.command(['p1', '10.0.0.2', '--rate', '2000', '--count', '60', '--flows', '3'])).toBe('p1: started udp to 10.0.0.2 port 7, 3 flows, 60 packets of 64 bytes at 2000 pps\n');
    expect(() => gt.command(['p1', '10.0.0.2'])).toThrow(/already running/);
    await gt.finished('p1');
    await new Promise((r) => setTimeout(r, 20)); // the last echoes cross the bridge
    expect(gt.command(['p1'])).toMatch(/^p1: done, udp to 10.0.0.2 port 7, 3 flows, 60 packets of 64 bytes at 2000 pps: sent 60\/60, received 60 in \d+\.\d s\n$/);
  });

  it('ICMP echo requests; replies counted', async () => {
    const { gt } = await setup();
    gt.command(['p2', '10.0.0.1', '--proto', 'icmp', '--rate', '1000', '--count', '20']);
    await gt.finished('p2');
    await new Promise((r) => setTimeout(r, 20));
    expect(gt.command(['p2'])).toMatch(/p2: done, icmp to 10.0.0.1, 1 flow, 20 packets .*: sent 20\/20, received 20 /);
  });

  it('stop ends a run early; nothing is sent after it; errors name the port', async () => {
    const { b, gt } = await setup();
    gt.command(['p1', '10.0.0.2', '--rate', '100', '--duration', '60']);
    await new Promise((r) => setTimeout(r, 50));
    expect(gt.command(['p1', 'stop'])).toMatch(/^p1: stopped, .*: sent \d+\/6000/);
    await gt.finished('p1');
    const sent = b.guests[0]!.stats.rxPackets;
    await new Promise((r) => setTimeout(r, 50));
    expect(b.guests[0]!.stats.rxPackets).toBe(sent);
    expect(() => gt.command(['p1', 'stop'])).toThrow('p1: no traffic running');
    expect(() => gt.command(['nope'])).toThrow('nope: no such guest interface');
    expect(gt.command(['p2'])).toBe('p2: no traffic started\n');
  });

  it('a run to an address nobody answers fails with the ARP error', async () => {
    const { gt } = await setup();
    gt.command(['p1', '10.0.0.99', '--count', '5']);
    await gt.finished('p1');
    expect(gt.command(['p1'])).toMatch(/^p1: failed \(p1: no answer to ARP for 10.0.0.99\)/);
  }, 10_000);
});
