// Meters through an OpenFlowBridge driven over OpenFlow: METER_MOD, a flow
// with a meter instruction, frames through the datapath (one upcall, then the
// megaflow's meter(id) action), DSCP remark on the wire and meter statistics.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ipv4HeaderChecksumValid } from '../../datapath/packet/checksum.js';
import { buildEthernet } from '../../datapath/packet/ethernet.js';
import { buildIpv4 } from '../../datapath/packet/ipv4.js';
import { buildUdp } from '../../datapath/packet/udp.js';
import { OpenFlowBridge } from '../../ofproto/bridge.js';
import { OFPIT, OFPMBT, OFPMC, OFPMF, OFPMP, OFPT, OFPXMT as X } from '../../ofproto/openflow/index.js';
import { oxm } from '../../ofproto/openflow/oxm.js';
import { apply, flowMod, output } from '../helpers/ofproto-fixture.js';
import { OfPeer } from '../helpers/of-peer.js';
import { WirePort } from '../helpers/wire-port.js';
import { connect } from 'node:net';

const SRC = Uint8Array.of(10, 0, 0, 1);
const DST = Uint8Array.of(10, 0, 0, 2);
const udp = (dscp: number) =>
  buildEthernet({
    dst: '02:00:00:00:00:02',
    src: '02:00:00:00:00:01',
    type: 0x0800,
    payload: buildIpv4({ src: SRC, dst: DST, protocol: 17, ttl: 64, tos: dscp << 2, payload: buildUdp({ srcPort: 1, dstPort: 2, payload: Buffer.alloc(100) }, { src: SRC, dst: DST }) }),
  });

const dir = mkdtempSync(join(tmpdir(), 'ofbridge-meters-'));
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('OpenFlowBridge meters in the datapath', () => {
  it('dscp_remark pktps: burst passes as is, the excess leaves remarked (AF21 → AF22), metered by the megaflow; meter stats', async () => {
    const clock = { now: 1_000_000 };
    const br = new OpenFlowBridge({ name: `brm${process.pid}`, rundir: dir, failMode: 'secure', services: ['ptcp:0:127.0.0.1'], clock: () => clock.now });
    cleanup.push(() => br.stop());
    await br.start();
    const [p1, p2] = [new WirePort('w1'), new WirePort('w2')];
    expect(await br.addPort(p1)).toBe(1);
    expect(await br.addPort(p2)).toBe(2);
    const peer = new OfPeer(connect(br.boundPort('ptcp:0:127.0.0.1')!, '127.0.0.1'));
    cleanup.push(() => peer.close());
    await peer.handshake();
    peer.send({ type: OFPT.METER_MOD, version: 4, xid: peer.xid(), command: OFPMC.ADD, flags: OFPMF.PKTPS | OFPMF.BURST | OFPMF.STATS, meterId: 1, bands: [{ type: OFPMBT.DSCP_REMARK, rate: 100, burstSize: 10, precLevel: 1 }] });
    peer.send(flowMod({ xid: peer.xid(), match: [oxm(X.IN_PORT, 1)], instructions: [{ type: OFPIT.METER, meterId: 1 }, apply(output(2))] }));
    peer.send({ type: OFPT.BARRIER_REQUEST, version: 4, xid: peer.xid() });
    await peer.nextOfType(OFPT.BARRIER_REPLY);

    p1.inject(Array.from({ length: 30 }, () => udp(18)));
    clock.now += 100; // 10 more packets' worth
    p1.inject(Array.from({ length: 20 }, () => udp(18)));
    expect(p2.sent).toHaveLength(50);
    const dscps = p2.sent.map((f) => f[15]! >>> 2);
    expect(dscps.filter((d) => d === 18)).toHaveLength(20);
    expect(dscps.filter((d) => d === 20)).toHaveLength(30);
    expect(dscps.slice(0, 10)).toEqual(Array(10).fill(18));
    expect(p2.sent.every((f) => ipv4HeaderChecksumValid(f, 14))).toBe(true);
    expect(br.datapath.stats.upcalls).toBe(1);
    expect(br.datapath.dumpFlowsText().join('\n')).toMatch(/actions:meter\(1\),2$/);

    peer.send({ type: OFPT.MULTIPART_REQUEST, version: 4, xid: peer.xid(), flags: 0, body: { mpType: OFPMP.METER, meterId: 1 } });
    const rep = (await peer.nextOfType(OFPT.MULTIPART_REPLY)) as unknown as { body: { meters: { packetInCount: bigint; byteInCount: bigint; bandStats: { packetBandCount: bigint }[] }[] } };
    const ms = rep.body.meters[0]!;
    expect(ms.packetInCount).toBe(50n);
    expect(ms.byteInCount).toBe(BigInt(50 * p2.sent[0]!.length));
    expect(ms.bandStats[0]!.packetBandCount).toBe(30n);

    // Deleting the meter removes its flow: nothing passes any more.
    peer.send({ type: OFPT.METER_MOD, version: 4, xid: peer.xid(), command: OFPMC.DELETE, flags: 0, meterId: 1, bands: [] });
    peer.send({ type: OFPT.BARRIER_REQUEST, version: 4, xid: peer.xid() });
    await peer.nextOfType(OFPT.BARRIER_REPLY);
    expect(br.datapath.meterGet(1)).toBeUndefined();
    p1.inject([udp(18)]);
    expect(p2.sent).toHaveLength(50);
  });
});
