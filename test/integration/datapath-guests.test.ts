// Real frames through a running datapath: emulated guests ARP, ping and echo
// UDP through a datapath whose upcall handler is a tiny learning switch (the
// role ofproto's NORMAL plays later); patch ports join two datapaths.
import { afterEach, describe, expect, it } from 'vitest';
import { Datapath } from '../../datapath/dpif.js';
import { GuestPort } from '../../datapath/ports/guest.js';
import { PatchPort } from '../../datapath/ports/patch.js';
import { learningSwitch } from '../helpers/learning-switch.js';

const running: Datapath[] = [];
afterEach(async () => {
  for (const dp of running.splice(0)) await dp.stop();
});

async function bridge(name: string, guests: GuestPort[]): Promise<{ dp: Datapath; sw: ReturnType<typeof learningSwitch> }> {
  const dp = new Datapath({ name });
  running.push(dp);
  const sw = learningSwitch(dp);
  dp.setUpcallHandler(sw);
  for (const g of guests) await dp.addPort(g);
  await dp.start();
  return { dp, sw };
}

describe('datapath with emulated guests', () => {
  it('two guests ping each other; later packets hit megaflows', async () => {
    const a = new GuestPort('a', { mac: '02:00:00:00:00:0a', ip: '10.0.0.1/24' });
    const b = new GuestPort('b', { mac: '02:00:00:00:00:0b', ip: '10.0.0.2/24' });
    const { dp, sw } = await bridge('br0', [a, b]);
    const r = await a.ping('10.0.0.2', 5, { intervalMs: 0, timeoutMs: 2000 });
    expect(r).toMatchObject({ transmitted: 5, received: 5, lossPct: 0 });
    expect(r.rttsMs.every((t) => t >= 0 && t < 2000)).toBe(true);
    const st = dp.stats;
    // ARP request (flood), ARP reply, first echo request: a handful of misses only.
    expect(sw.misses).toBeLessThanOrEqual(6);
    expect(st.emcHits + st.megaflowHits).toBeGreaterThanOrEqual(6);
    expect(st.flows).toBeGreaterThanOrEqual(2);
    expect(a.stats.rxPackets).toBeGreaterThanOrEqual(6); // frames the switch received from a
    expect(b.stats.txPackets).toBeGreaterThanOrEqual(6); // frames the switch sent to b
    const flows = [...dp.flowDump()];
    expect(flows.reduce((n, f) => n + f.packets, 0)).toBeGreaterThanOrEqual(6);
  });

  it('UDP echo and IPv6 ping (neighbour discovery) through the switch', async () => {
    const a = new GuestPort('a6', { mac: '02:00:00:00:01:0a', ip: '10.1.0.1/24', ip6: '2001:db8::a/64' });
    const b = new GuestPort('b6', { mac: '02:00:00:00:01:0b', ip: '10.1.0.2/24', ip6: '2001:db8::b/64' });
    await bridge('br6', [a, b]);
    const r6 = await a.ping('2001:db8::b', 3, { intervalMs: 0, timeoutMs: 2000 });
    expect(r6.received).toBe(3);
    const t = await a.traffic({ dst: '10.1.0.2', flows: 4, packetsPerFlow: 5, dstPort: 7 });
    expect(t.sent).toBe(20);
    await new Promise((r) => setTimeout(r, 50));
    expect(b.udpReceived).toBe(20);
    expect(a.udpReceived).toBe(20); // the echoes
  });

  it('guests on different VLANs do not hear each other', async () => {
    const a = new GuestPort('va', { mac: '02:00:00:00:02:0a', ip: '10.2.0.1/24', vlan: 10 });
    const b = new GuestPort('vb', { mac: '02:00:00:00:02:0b', ip: '10.2.0.2/24', vlan: 20 });
    const c = new GuestPort('vc', { mac: '02:00:00:00:02:0c', ip: '10.2.0.3/24', vlan: 10 });
    await bridge('brv', [a, b, c]);
    expect((await a.ping('10.2.0.3', 1, { timeoutMs: 2000 })).received).toBe(1);
    expect((await a.ping('10.2.0.2', 1, { timeoutMs: 50 })).received).toBe(0);
  });

  it('patch ports join two datapaths', async () => {
    const a = new GuestPort('pa', { mac: '02:00:00:00:03:0a', ip: '10.3.0.1/24' });
    const b = new GuestPort('pb', { mac: '02:00:00:00:03:0b', ip: '10.3.0.2/24' });
    const p1 = new PatchPort('patch-1');
    const p2 = new PatchPort('patch-2');
    PatchPort.pair(p1, p2);
    await bridge('brA', [a, p1]);
    await bridge('brB', [b, p2]);
    const r = await a.ping('10.3.0.2', 3, { intervalMs: 0, timeoutMs: 2000 });
    expect(r.received).toBe(3);
    expect(p1.stats.txPackets).toBeGreaterThan(0);
  });

  it('a miss with no handler is a lost upcall, not a crash', async () => {
    const dp = new Datapath({ name: 'nohandler' });
    running.push(dp);
    const a = new GuestPort('x', { mac: '02:00:00:00:04:0a', ip: '10.4.0.1/24' });
    await dp.addPort(a);
    await dp.start();
    const r = await a.ping('10.4.0.2', 1, { timeoutMs: 20 });
    expect(r.received).toBe(0);
    expect(dp.stats.lostUpcalls).toBeGreaterThan(0);
  });
});
