// ofproto over a real datapath with emulated guests: FLOW_MODs make guests
// ping, NORMAL learns MACs, fail modes, table-miss → PACKET_IN and PACKET_OUT.
import { afterEach, describe, expect, it } from 'vitest';
import { GuestPort } from '../../datapath/ports/guest.js';
import { OFPCML_NO_BUFFER, OFPFC, OFPP, OFPR, OFPT, OFPXMT as X } from '../../ofproto/openflow/constants.js';
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

const guest = (n: number, o: { vlan?: number } = {}): GuestPort =>
  new GuestPort(`g${n}`, { mac: `02:00:00:00:00:${n.toString(16).padStart(2, '0')}`, ip: `10.0.0.${n}/24`, ...o });

describe('ofproto: OpenFlow rules over a real datapath', () => {
  it('in_port→output rules make two guests ping; flow stats count the frames', async () => {
    const a = guest(1);
    const b = guest(2);
    const br = await bridge('br-flows', [a, b]);
    br.send(flowMod({ match: [oxm(X.IN_PORT, 1)], instructions: [apply(output(2))] }));
    br.send(flowMod({ match: [oxm(X.IN_PORT, 2)], instructions: [apply(output(1))] }));
    expect(br.conn.take(OFPT.ERROR)).toEqual([]);
    const r = await a.ping('10.0.0.2', 5, { intervalMs: 0, timeoutMs: 2000 });
    expect(r.received).toBe(5);
    // Stats attribution: rule packet counts equal the frames the guests sent.
    br.send({ type: OFPT.MULTIPART_REQUEST, version: 4, xid: 9, flags: 0, body: { mpType: 1, tableId: 0xff, outPort: OFPP.ANY, outGroup: 0xffffffff, cookie: 0n, cookieMask: 0n, match: [] } });
    const [reply] = br.conn.take(OFPT.MULTIPART_REPLY);
    expect(reply!.body.mpType).toBe(1);
    const flows = (reply!.body as { flows: Array<{ match: unknown[]; packetCount: bigint }> }).flows;
    expect(flows.length).toBe(2);
    const total = flows.reduce((n, f) => n + Number(f.packetCount), 0);
    expect(total).toBe(a.stats.rxPackets + b.stats.rxPackets);
    expect(br.dp.stats.upcalls).toBeLessThanOrEqual(2);
  });

  it('NORMAL: guests ping and the MAC table learns both', async () => {
    const a = guest(1);
    const b = guest(2);
    const c = guest(3);
    const br = await bridge('br-normal', [a, b, c]);
    br.send(flowMod({ priority: 0, instructions: [apply(output(OFPP.NORMAL))] }));
    const r = await a.ping('10.0.0.2', 3, { intervalMs: 0, timeoutMs: 2000 });
    expect(r.received).toBe(3);
    const macs = br.of.mac.entries().map((e) => `${e.mac}@${e.port}`).sort();
    expect(macs).toEqual(['02:00:00:00:00:01@1', '02:00:00:00:00:02@2']);
    // c saw only the flooded ARP request, not the unicast echo traffic.
    expect(c.stats.txPackets).toBe(1);
    expect(br.of.fdbShow().split('\n').slice(1).map((l) => l.trim().split(/ +/).slice(0, 3).join(' ')).sort()).toEqual(['1 0 02:00:00:00:00:01', '2 0 02:00:00:00:00:02']);
  });

  it('fail_mode standalone without a controller behaves as NORMAL; secure drops', async () => {
    const a = guest(1);
    const b = guest(2);
    const sa = await bridge('br-sa', [a, b], { failMode: 'standalone' });
    expect((await a.ping('10.0.0.2', 2, { intervalMs: 0, timeoutMs: 2000 })).received).toBe(2);
    // When a controller connects, standalone stops acting on its own.
    sa.conns.controller = true;
    sa.of.connected(sa.conn);
    expect((await a.ping('10.0.0.2', 1, { timeoutMs: 50 })).received).toBe(0);

    const c = guest(3);
    const d = guest(4);
    await bridge('br-secure', [c, d], { failMode: 'secure' });
    expect((await c.ping('10.0.0.4', 1, { timeoutMs: 50 })).received).toBe(0);
  });

  it('table-miss → CONTROLLER gives PACKET_IN with the right fields; PACKET_OUT delivers', async () => {
    const a = guest(1);
    const b = guest(2);
    const br = await bridge('br-pin', [a, b], { controller: true });
    br.send(flowMod({ priority: 0, cookie: 0xabcn, instructions: [apply(output(OFPP.CONTROLLER, OFPCML_NO_BUFFER))] }));
    br.conn.missSendLen = 0xffff;
    const pinging = a.ping('10.0.0.2', 1, { timeoutMs: 300 });
    await settle(30);
    const pins = br.conn.take(OFPT.PACKET_IN);
    expect(pins.length).toBeGreaterThanOrEqual(1);
    const pin = pins[0]!;
    expect(pin.reason).toBe(OFPR.NO_MATCH);
    expect(pin.tableId).toBe(0);
    expect(pin.cookie).toBe(0xabcn);
    expect(pin.bufferId).toBe(0xffffffff);
    expect(pin.match).toEqual([oxm(X.IN_PORT, 1)]);
    expect(pin.data.readUInt16BE(12)).toBe(0x0806); // a's ARP request
    expect(pin.totalLen).toBe(pin.data.length);
    // The controller forwards it with PACKET_OUT; b answers, its reply comes back as a PACKET_IN on port 2.
    br.send({ type: OFPT.PACKET_OUT, version: 4, xid: 5, bufferId: 0xffffffff, inPort: 1, actions: [output(OFPP.FLOOD)], data: pin.data });
    await settle(30);
    const replies = br.conn.take(OFPT.PACKET_IN);
    expect(replies.some((p) => p.match[0]!.kind === 'basic' && (p.match[0] as { value: number }).value === 2)).toBe(true);
    expect(br.of.counters.packetOuts).toBe(1);
    expect(br.of.counters.packetIns).toBeGreaterThanOrEqual(2);
    await pinging;
  });

  it('miss_send_len limits table-miss PACKET_IN data', async () => {
    const a = guest(1);
    const b = guest(2);
    const br = await bridge('br-msl', [a, b], { controller: true });
    br.send(flowMod({ priority: 0, instructions: [apply(output(OFPP.CONTROLLER, OFPCML_NO_BUFFER))] }));
    br.send({ type: OFPT.SET_CONFIG, version: 4, xid: 1, flags: 0, missSendLen: 20 });
    void a.ping('10.0.0.2', 1, { timeoutMs: 30 });
    await settle(20);
    const [pin] = br.conn.take(OFPT.PACKET_IN);
    expect(pin!.data.length).toBe(20);
    expect(pin!.totalLen).toBe(42);
    br.send({ type: OFPT.GET_CONFIG_REQUEST, version: 4, xid: 2 });
    expect(br.conn.take(OFPT.GET_CONFIG_REPLY)[0]!.missSendLen).toBe(20);
  });

  it('DELETE flows stops forwarding (megaflows are revalidated)', async () => {
    const a = guest(1);
    const b = guest(2);
    const br = await bridge('br-del', [a, b]);
    br.send(flowMod({ instructions: [apply(output(OFPP.FLOOD))] }));
    expect((await a.ping('10.0.0.2', 1, { timeoutMs: 1000 })).received).toBe(1);
    expect(br.dp.stats.flows).toBeGreaterThan(0);
    br.send(flowMod({ command: OFPFC.DELETE, tableId: 0xff }));
    // Revalidation re-translates the megaflows (no rules now: drop) and changes them in place.
    br.of.revalidatePending();
    expect(br.dp.dumpFlowsText().every((l) => l.endsWith('actions:drop'))).toBe(true);
    expect(br.of.counters.megaflowsModified).toBeGreaterThan(0);
    expect((await a.ping('10.0.0.2', 1, { timeoutMs: 50 })).received).toBe(0);
  });
});
