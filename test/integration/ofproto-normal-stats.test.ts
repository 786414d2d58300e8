// NORMAL with VLAN guests, stats attribution across revalidation flushes,
// PACKET_OUT through the tables, and the PACKET_IN rate limit.
import { afterEach, describe, expect, it } from 'vitest';
import { GuestPort } from '../../datapath/ports/guest.js';
import { OFPCML_NO_BUFFER, OFPMP, OFPP, OFPT, OFPXMT as X } from '../../ofproto/openflow/constants.js';
import { oxm } from '../../ofproto/openflow/oxm.js';
import { apply, flowMod, makeBridge, output, settle, type Bridge } from '../helpers/ofproto-fixture.js';

const bridges: Bridge[] = [];
afterEach(async () => {
  for (const b of bridges.splice(0)) await b.stop();
});
async function bridge(...args: Parameters<typeof makeBridge>): Promise<Bridge> {
  const b = await makeBridge(...args);
  bridges.push(b);
  return b;
}
const guest = (n: number, vlan?: number): GuestPort =>
  new GuestPort(`n${n}`, { mac: `02:00:00:00:02:${n.toString(16).padStart(2, '0')}`, ip: `10.2.0.${n}/24`, ...(vlan !== undefined ? { vlan } : {}) });

function flowCounts(br: Bridge): number[] {
  br.send({ type: OFPT.MULTIPART_REQUEST, version: 4, xid: 1, flags: 0, body: { mpType: OFPMP.FLOW, tableId: 0xff, outPort: OFPP.ANY, outGroup: 0xffffffff, cookie: 0n, cookieMask: 0n, match: [] } });
  const [r] = br.conn.take(OFPT.MULTIPART_REPLY);
  return (r!.body as { flows: Array<{ priority: number; packetCount: bigint }> }).flows.map((f) => Number(f.packetCount));
}

describe('ofproto: NORMAL with VLAN ports', () => {
  it('access ports on VLAN 10 reach a trunk guest tagged 10, not VLAN 20', async () => {
    const a = guest(1); // access 10
    const t = guest(2, 10); // trunk guest sending tagged 10
    const c = guest(3); // access 20
    const d = guest(4); // access 10
    const br = await bridge('br-vlan', [a, t, c, d], { failMode: 'standalone', portOptions: [{ vlan: { tag: 10 } }, { vlan: { trunks: [10, 20] } }, { vlan: { tag: 20 } }, { vlan: { tag: 10 } }] });
    expect((await a.ping('10.2.0.2', 2, { intervalMs: 0, timeoutMs: 1000 })).received).toBe(2);
    expect((await a.ping('10.2.0.4', 2, { intervalMs: 0, timeoutMs: 1000 })).received).toBe(2);
    expect((await a.ping('10.2.0.3', 1, { timeoutMs: 50 })).received).toBe(0);
    expect(c.stats.txPackets).toBe(0); // VLAN 20 heard nothing
    const vlans = new Set(br.of.mac.entries().map((e) => e.vlan));
    expect([...vlans]).toEqual([10]);
    // Every megaflow of NORMAL matches in_port, both MACs and the VLAN TCI.
    for (const f of br.dp.flowDump()) {
      expect(f.mask[0]).toBe(0xffffffff);
      for (const w of [5, 7, 9]) expect(f.mask[w]).not.toBe(0);
    }
  });
});

describe('ofproto: stats attribution', () => {
  it('counts stay exact across revalidation (megaflows kept) and flushes', async () => {
    const [a, b] = [guest(1), guest(2)];
    const br = await bridge('br-stats', [a, b]);
    br.send(flowMod({ priority: 5, match: [oxm(X.IN_PORT, 1)], instructions: [apply(output(2))] }));
    br.send(flowMod({ priority: 5, match: [oxm(X.IN_PORT, 2)], instructions: [apply(output(1))] }));
    for (let round = 0; round < 3; round++) {
      await a.ping('10.2.0.2', 3, { intervalMs: 0, timeoutMs: 1000 });
      // An unrelated change in the same table: revalidation keeps every megaflow (same actions),
      // then a flush drops them; their hits must not be lost either way.
      const before = br.dp.stats.flows;
      br.send(flowMod({ priority: 1, match: [oxm(X.ETH_TYPE, 0x86dd)], cookie: BigInt(round) }));
      br.of.revalidatePending();
      expect(br.dp.stats.flows).toBe(before);
      await a.ping('10.2.0.2', 2, { intervalMs: 0, timeoutMs: 1000 });
      br.of.revalidate();
      expect(br.dp.stats.flows).toBe(0);
    }
    await a.traffic({ dst: '10.2.0.2', flows: 8, packetsPerFlow: 4, dstPort: 9 });
    await settle();
    const counts = flowCounts(br);
    expect(counts.reduce((x, y) => x + y, 0)).toBe(a.stats.rxPackets + b.stats.rxPackets);
    expect(Math.max(...counts)).toBe(a.stats.rxPackets);
  });
});

describe('ofproto: PACKET_OUT and PACKET_IN limits', () => {
  it('PACKET_OUT with output:TABLE runs the pipeline and counts the rule', async () => {
    const [a, b] = [guest(1), guest(2)];
    const br = await bridge('br-po', [a, b], { controller: true });
    br.send(flowMod({ match: [oxm(X.IN_PORT, OFPP.CONTROLLER)], instructions: [apply(output(2))] }));
    const frame = Buffer.alloc(60);
    Buffer.from('ffffffffffff020000000299', 'hex').copy(frame);
    frame.writeUInt16BE(0x88b5, 12);
    br.send({ type: OFPT.PACKET_OUT, version: 4, xid: 1, bufferId: 0xffffffff, inPort: OFPP.CONTROLLER, actions: [output(OFPP.TABLE)], data: frame });
    await settle(5);
    expect(br.conn.take(OFPT.ERROR)).toEqual([]);
    expect(b.stats.txPackets).toBe(1);
    expect(a.stats.txPackets).toBe(0);
    expect(flowCounts(br)).toEqual([1]);
  });

  it('PACKET_OUT from CONTROLLER through NORMAL floods without learning', async () => {
    const [a, b, c] = [guest(1), guest(2), guest(3)];
    const br = await bridge('br-pon', [a, b, c], { controller: true });
    const frame = Buffer.alloc(60);
    Buffer.from('020000000201020000000299', 'hex').copy(frame);
    frame.writeUInt16BE(0x88b5, 12);
    br.send({ type: OFPT.PACKET_OUT, version: 4, xid: 1, bufferId: 0xffffffff, inPort: OFPP.CONTROLLER, actions: [output(OFPP.NORMAL)], data: frame });
    await settle(5);
    expect([a.stats.txPackets, b.stats.txPackets, c.stats.txPackets]).toEqual([1, 1, 1]);
    expect(br.of.mac.count).toBe(0);
  });

  it('PACKET_INs are rate limited', async () => {
    const [a, b] = [guest(1), guest(2)];
    const br = await bridge('br-rl', [a, b], { controller: true, fakeClock: true });
    br.send(flowMod({ priority: 0, instructions: [apply(output(OFPP.CONTROLLER, OFPCML_NO_BUFFER))] }));
    br.send(flowMod({ priority: 1, match: [oxm(X.ETH_TYPE, 0x800)], instructions: [apply(output(OFPP.CONTROLLER, OFPCML_NO_BUFFER))] }));
    // Answer ARP by hand so the guest sends its UDP flood.
    br.send(flowMod({ priority: 2, match: [oxm(X.ETH_TYPE, 0x806)], instructions: [apply(output(OFPP.FLOOD))] }));
    await a.resolve('10.2.0.2');
    await a.traffic({ dst: '10.2.0.2', flows: 1, packetsPerFlow: 1500, dstPort: 9 });
    await settle();
    const pins = br.conn.take(OFPT.PACKET_IN).length;
    expect(pins).toBe(1000); // the default burst; the fake clock did not advance
    expect(br.of.counters.packetInsRateLimited).toBeGreaterThanOrEqual(500);
  });
});
