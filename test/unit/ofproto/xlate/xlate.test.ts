import { describe, expect, it } from 'vitest';
import { formatActions } from '../../../../datapath/actions/odp-actions.js';
import type { DpAction } from '../../../../datapath/actions/types.js';
import { Datapath } from '../../../../datapath/dpif.js';
import { extractFlow } from '../../../../datapath/flow/extract.js';
import * as K from '../../../../datapath/flow/key.js';
import { buildArp } from '../../../../datapath/packet/arp.js';
import { buildEthernet } from '../../../../datapath/packet/ethernet.js';
import { buildIpv4 } from '../../../../datapath/packet/ipv4.js';
import { buildTcp } from '../../../../datapath/packet/tcp.js';
import { buildUdp } from '../../../../datapath/packet/udp.js';
import { newPortStats, type Port, type RxSink } from '../../../../datapath/ports/port.js';
import { dpMaskOf, W_OF_IN_PORT } from '../../../../ofproto/classifier/of-match.js';
import type { Action } from '../../../../ofproto/openflow/actions.js';
import { OFPAT, OFPGC, OFPGT, OFPIT, OFPMBT, OFPMC, OFPMF, OFPP, OFPR, OFPVID, OFPXMT as X } from '../../../../ofproto/openflow/constants.js';
import type { Instruction } from '../../../../ofproto/openflow/instructions.js';
import type { Match } from '../../../../ofproto/openflow/match.js';
import { oxm } from '../../../../ofproto/openflow/oxm.js';
import { xlate, type XlateResult } from '../../../../ofproto/xlate/xlate.js';
import { XlateTrace } from '../../../../ofproto/xlate/xlate-trace.js';
import { apply, flowMod, gotoTable, output, write } from '../../../helpers/ofproto-fixture.js';
import { Prng } from '../../../helpers/prng.js';
import { TestEnv } from './xlate-env.js';

const setField = (field: number, value: number | bigint | Buffer): Action => ({ type: OFPAT.SET_FIELD, field: oxm(field, value) });
const bare = (type: number): Action => ({ type }) as Action;

function frame(o: { vid?: number; pcp?: number; src?: string; dst?: string; ipDst?: string; ttl?: number; proto?: 'udp' | 'tcp'; sport?: number; dport?: number; tos?: number } = {}): Buffer {
  const src = [10, 0, 0, 1];
  const dst = (o.ipDst ?? '10.0.0.2').split('.').map(Number);
  const l4 =
    o.proto === 'tcp'
      ? buildTcp({ srcPort: o.sport ?? 1000, dstPort: o.dport ?? 80, flags: 0x02 }, { src: Uint8Array.from(src), dst: Uint8Array.from(dst) })
      : buildUdp({ srcPort: o.sport ?? 1000, dstPort: o.dport ?? 53, payload: Buffer.alloc(8) }, { src: Uint8Array.from(src), dst: Uint8Array.from(dst) });
  return buildEthernet({
    dst: o.dst ?? '02:00:00:00:00:02',
    src: o.src ?? '02:00:00:00:00:01',
    vlans: o.vid !== undefined ? [{ vid: o.vid, pcp: o.pcp ?? 0 }] : [],
    type: 0x0800,
    payload: buildIpv4({ src: Uint8Array.from(src), dst: Uint8Array.from(dst), protocol: o.proto === 'tcp' ? 6 : 17, ttl: o.ttl ?? 64, tos: o.tos ?? 0, payload: l4 }),
  });
}

function keyOf(f: Buffer, dpIn: number): Uint32Array {
  const key = K.newKey();
  extractFlow(f, 0, f.length, dpIn, key, K.newLayout());
  return key;
}

function run(env: TestEnv, f: Buffer | Uint32Array, ofIn: number, extra: { actions?: Action[]; trace?: XlateTrace; packet?: Uint8Array } = {}): XlateResult {
  const key = f instanceof Uint32Array ? f : keyOf(f, ofIn + 100);
  return xlate(env, key, { ofInPort: ofIn, packetBytes: 100, learn: false, ...extra });
}

const fmt = (r: XlateResult): string => formatActions(r.actions as DpAction[]);

describe('xlate: pipeline', () => {
  it('goto_table + write_metadata + metadata match; action set runs at the end in spec order', () => {
    const env = new TestEnv();
    for (const p of [1, 2, 3]) env.addPort(p);
    env.flow(flowMod({ match: [oxm(X.IN_PORT, 1)], instructions: [{ type: OFPIT.WRITE_METADATA, metadata: 0xaan, metadataMask: 0xffn }, write(output(3)), gotoTable(1)] }));
    env.flow(flowMod({ tableId: 1, match: [oxm(X.METADATA, 0xaan, 0xffn)], instructions: [write(setField(X.ETH_DST, Buffer.from('020000000099', 'hex')), output(2))] }));
    const trace = new XlateTrace();
    const r = run(env, frame(), 1, { trace });
    // write_actions in table 1 replaced the output of table 0; set_field runs before output.
    expect(fmt(r)).toBe('set(eth(dst=02:00:00:00:00:99)),102');
    expect(r.rules.map((x) => x.tableId)).toEqual([0, 1]);
    expect(trace.format()).toMatch(/goto_table:1/);
    // The metadata match is not a datapath field; in_port is.
    expect(dpMaskOf(r.wc)[K.W_IN_PORT]).toBe(0xffffffff);
    // clear_actions drops the written output
    env.flow(flowMod({ tableId: 1, priority: 200, match: [oxm(X.METADATA, 0xaan, 0xffn)], instructions: [{ type: OFPIT.CLEAR_ACTIONS, actions: [] }] }));
    expect(fmt(run(env, frame(), 1))).toBe('drop');
  });

  it('table miss drops in secure mode; fail-open goes to NORMAL', () => {
    const env = new TestEnv();
    env.addPort(1);
    env.addPort(2);
    expect(fmt(run(env, frame(), 1))).toBe('drop');
    env.failOpenFlag = true;
    expect(fmt(run(env, frame(), 1))).toBe('102');
  });

  it('output to the input port is skipped unless IN_PORT; FLOOD/ALL skip it; admin down / no_fwd ports are skipped', () => {
    const env = new TestEnv();
    env.addPort(1);
    env.addPort(2, { noFlood: true });
    env.addPort(3);
    env.flow(flowMod({ instructions: [apply(output(1), output(OFPP.IN_PORT), output(OFPP.FLOOD), output(OFPP.ALL))] }));
    expect(fmt(run(env, frame(), 1))).toBe('101,103,102,103');
    env.byOf.get(3)!.config = 1; // PORT_DOWN
    expect(fmt(run(env, frame(), 1))).toBe('101,102');
  });

  it('set_field on many fields, push/pop VLAN, dec_ttl commit as datapath actions', () => {
    const env = new TestEnv();
    env.addPort(1);
    env.addPort(2);
    env.flow(
      flowMod({
        match: [oxm(X.ETH_TYPE, 0x800)],
        instructions: [
          apply(
            setField(X.IPV4_DST, 0x0a000063),
            setField(X.UDP_DST, 5353),
            setField(X.IP_DSCP, 10),
            bare(OFPAT.DEC_NW_TTL),
            setField(X.VLAN_VID, OFPVID.PRESENT | 7),
            output(2),
            bare(OFPAT.POP_VLAN),
            output(2),
          ),
        ],
      }),
    );
    const r = run(env, frame({ ttl: 9 }), 1);
    expect(fmt(r)).toBe('push_vlan(vid=7,pcp=0),set(ipv4(dst=10.0.0.99,tos=0x28/0xfc,ttl=8)),set(udp(dst=5353)),102,pop_vlan,102');
  });

  it('dec_ttl with TTL 1 sends a packet-in with reason invalid_ttl and stops', () => {
    const env = new TestEnv();
    env.addPort(1);
    env.addPort(2);
    env.flow(flowMod({ cookie: 7n, instructions: [apply(bare(OFPAT.DEC_NW_TTL), output(2))] }));
    const r = run(env, frame({ ttl: 1 }), 1);
    expect(r.actions.map((a) => a.type)).toEqual(['userspace']);
    expect(env.pins[0]).toMatchObject({ reason: OFPR.INVALID_TTL, tableId: 0, cookie: 7n, ofInPort: 1 });
    expect(r.wc[K.W_NW_PROTO_TOS_TTL_FRAG]! & K.MASK_NW_TTL).toBe(K.MASK_NW_TTL);
  });

  it('CONTROLLER output: NO_MATCH for the table-miss rule, ACTION otherwise', () => {
    const env = new TestEnv();
    env.addPort(1);
    env.flow(flowMod({ priority: 0, instructions: [apply(output(OFPP.CONTROLLER, 128))] }));
    env.flow(flowMod({ priority: 5, tableId: 0, match: [oxm(X.IN_PORT, 1), oxm(X.ETH_TYPE, 0x806)], instructions: [apply(output(OFPP.CONTROLLER, 64))] }));
    run(env, frame(), 1);
    expect(env.pins[0]).toMatchObject({ reason: OFPR.NO_MATCH, maxLen: 128 });
    const arp = frame();
    arp.writeUInt16BE(0x0806, 12);
    run(env, arp, 1);
    expect(env.pins[1]).toMatchObject({ reason: OFPR.ACTION, maxLen: 64 });
  });

  it('groups: all (clone per bucket), indirect, select by 5-tuple with weights, fast-failover by liveness', () => {
    const env = new TestEnv();
    for (const p of [1, 2, 3, 4]) env.addPort(p);
    const b = (actions: Action[], weight = 0, watchPort = OFPP.ANY) => ({ weight, watchPort, watchGroup: 0xffffffff, actions });
    const gm = (groupId: number, groupType: number, buckets: ReturnType<typeof b>[]) =>
      env.groups.groupMod({ type: 15, version: 4, xid: 0, command: OFPGC.ADD, groupType, groupId, buckets }, 0, () => {});
    gm(1, OFPGT.ALL, [b([setField(X.ETH_DST, Buffer.from('020000000077', 'hex')), output(2)]), b([output(3)])]);
    gm(2, OFPGT.INDIRECT, [b([output(4)])]);
    gm(3, OFPGT.SELECT, [b([output(2)], 1), b([output(3)], 3)]);
    gm(4, OFPGT.FF, [b([output(2)], 0, 2), b([output(3)], 0, 3)]);
    const runGroup = (id: number, f = frame()) => {
      env.tables.tables[0]!.rules().next();
      const e2 = env;
      e2.tables.flowMod(flowMod({ command: 3, tableId: 0xff }), 0, () => {});
      e2.flow(flowMod({ instructions: [apply({ type: OFPAT.GROUP, groupId: id })] }));
      return run(e2, f, 1);
    };
    const all = runGroup(1);
    expect(fmt(all)).toBe('clone(set(eth(dst=02:00:00:00:00:77)),102),103');
    expect(all.groups.map((g) => g.bucket)).toEqual([0, 1]);
    expect(fmt(runGroup(2))).toBe('104');
    const counts = [0, 0];
    for (let i = 0; i < 400; i++) {
      const r = runGroup(3, frame({ sport: 1000 + i }));
      counts[r.groups[0]!.bucket]!++;
      expect(r.wc[K.W_TP_PORTS]).toBe(0xffffffff);
    }
    expect(counts[0]! > 50 && counts[0]! < 150).toBe(true); // weight 1 of 4
    expect(fmt(runGroup(4))).toBe('102');
    env.byOf.get(2)!.live = false;
    expect(fmt(runGroup(4))).toBe('103');
    env.byOf.get(3)!.live = false;
    expect(fmt(runGroup(4))).toBe('drop');
  });

  it('select hashes what the os-ken tester varies: random MACs (IP fixed), random ARP IPs; weights 1:2; hashed fields in the megaflow', () => {
    const env = new TestEnv();
    for (const p of [1, 2, 3]) env.addPort(p);
    const b = (port: number, weight: number) => ({ weight, watchPort: OFPP.ANY, watchGroup: 0xffffffff, actions: [output(port)] });
    env.groups.groupMod({ type: 15, version: 4, xid: 0, command: OFPGC.ADD, groupType: OFPGT.SELECT, groupId: 1, buckets: [b(2, 1), b(3, 2)] }, 0, () => {});
    env.flow(flowMod({ match: [oxm(X.IN_PORT, 1)], instructions: [apply({ type: OFPAT.GROUP, groupId: 1 })] }));
    const rng = new Prng(7);
    const mac = () => Array.from({ length: 6 }, (_, i) => (rng.int(256) & (i === 0 ? 0xfe : 0xff)).toString(16).padStart(2, '0')).join(':');
    const ip = () => Array.from({ length: 4 }, () => rng.int(256)).join('.');
    const N = 3000;
    const spread = (mk: () => Buffer): number[] => {
      const counts = [0, 0];
      for (let i = 0; i < N; i++) {
        const r = run(env, mk(), 1);
        counts[r.groups[0]!.bucket]!++;
        for (const w of [K.W_ETH_SRC_HI, K.W_ETH_SRC_LO, K.W_ETH_DST_HI, K.W_ETH_DST_LO, K.W_NW_SRC, K.W_NW_DST]) expect(r.wc[w]).toBe(0xffffffff);
      }
      return counts;
    };
    const macs = spread(() => frame({ src: mac(), dst: mac(), proto: 'tcp' }));
    const arps = spread(() =>
      buildEthernet({ dst: '22:22:22:22:22:22', src: '12:11:11:11:11:11', type: 0x0806, payload: buildArp({ op: 1, sha: '12:11:11:11:11:11', spa: ip(), tha: '00:00:00:00:00:00', tpa: ip() }) }),
    );
    for (const c of [macs, arps]) {
      expect(Math.abs(c[0]! - N / 3)).toBeLessThan(N * 0.04); // weight 1 of 3, well inside the tester's 10 %
      expect(Math.abs(c[1]! - (2 * N) / 3)).toBeLessThan(N * 0.04);
    }
  });

  it('a meter instruction becomes the datapath meter(id) action, before the actions; no such meter drops', () => {
    const env = new TestEnv();
    env.addPort(1);
    env.addPort(2);
    env.meters.meterMod({ type: 29, version: 4, xid: 0, command: OFPMC.ADD, flags: OFPMF.PKTPS | OFPMF.BURST, meterId: 1, bands: [{ type: OFPMBT.DROP, rate: 10, burstSize: 5 }] }, env.now);
    env.flow(flowMod({ instructions: [{ type: OFPIT.METER, meterId: 1 }, apply(output(2))] }));
    const r = xlate(env, keyOf(frame(), 101), { ofInPort: 1, packetBytes: 60 });
    expect(fmt(r)).toBe('meter(1),102');
    expect(r.meters).toEqual([1]);
    env.meters.meterMod({ type: 29, version: 4, xid: 0, command: OFPMC.DELETE, flags: 0, meterId: 1, bands: [] }, env.now);
    expect(fmt(xlate(env, keyOf(frame(), 101), { ofInPort: 1, packetBytes: 60 }))).toBe('drop');
  });
});

describe('xlate: NORMAL with VLANs', () => {
  it('access and trunk ports tag/untag, other VLANs are isolated, learning makes unicast', () => {
    const env = new TestEnv();
    env.addPort(1, { vlan: { tag: 10 } }); // access 10
    env.addPort(2, { vlan: { tag: 20 } }); // access 20
    env.addPort(3, { vlan: { trunks: [10, 20] } }); // trunk
    env.addPort(4, { vlan: { tag: 10, vlanMode: 'native-untagged', trunks: [20] } });
    env.flow(flowMod({ priority: 0, instructions: [apply(output(OFPP.NORMAL))] }));
    const bcast = frame({ dst: 'ff:ff:ff:ff:ff:ff' });
    const r1 = xlate(env, keyOf(bcast, 101), { ofInPort: 1, packetBytes: 60, learn: true });
    expect(fmt(r1)).toBe('push_vlan(vid=10,pcp=0),103,pop_vlan,104');
    expect(r1.macChanged).toBe(true);
    // From the trunk, tagged 20: to access port 2 untagged and to port 4 tagged (20 is not its native VLAN).
    const r2 = xlate(env, keyOf(frame({ vid: 20, src: '02:00:00:00:00:03', dst: 'ff:ff:ff:ff:ff:ff' }), 103), { ofInPort: 3, packetBytes: 60, learn: true });
    expect(fmt(r2)).toBe('pop_vlan,102,push_vlan(vid=20,pcp=0),104');
    // Tagged frame on an access port: dropped.
    expect(fmt(xlate(env, keyOf(frame({ vid: 10 }), 101), { ofInPort: 1, packetBytes: 60 }))).toBe('drop');
    // Unicast to the learned MAC 02:..:01 in VLAN 10 from the trunk.
    const r3 = xlate(env, keyOf(frame({ vid: 10, src: '02:00:00:00:00:03', dst: '02:00:00:00:00:01' }), 103), { ofInPort: 3, packetBytes: 60, learn: true });
    expect(fmt(r3)).toBe('pop_vlan,101');
    for (const w of [K.W_ETH_SRC_LO, K.W_ETH_DST_LO, W_OF_IN_PORT]) expect(r3.wc[w]).toBe(0xffffffff);
    expect(r3.wc[K.W_VLAN0]).toBe(0xffffffff);
  });
});

// --- differential: a megaflow must give every packet it matches the actions a fresh translation gives ---

function randomMatch(rng: Prng): Match {
  const m: Match = [];
  if (rng.int(2)) m.push(oxm(X.IN_PORT, 1 + rng.int(3)));
  const et = [0x800, 0x806, 0x86dd][rng.int(3)]!;
  if (rng.int(3)) {
    m.push(oxm(X.ETH_TYPE, et));
    if (et === 0x800) {
      if (rng.int(2)) m.push(oxm(X.IPV4_DST, 0x0a000000 | rng.int(4), [0xffffffff, 0xfffffffe, 0xfffffff0][rng.int(3)]));
      if (rng.int(2)) {
        const proto = [6, 17][rng.int(2)]!;
        m.push(oxm(X.IP_PROTO, proto));
        if (rng.int(2)) m.push(oxm(proto === 6 ? X.TCP_DST : X.UDP_DST, [53, 80, 443][rng.int(3)]!));
      }
      if (rng.int(4) === 0) m.push(oxm(X.IP_DSCP, rng.int(2) * 10));
    }
  }
  if (rng.int(4) === 0) m.push(oxm(X.VLAN_VID, [OFPVID.NONE, OFPVID.PRESENT | 10, OFPVID.PRESENT | 20][rng.int(3)]!));
  if (rng.int(4) === 0) m.push(oxm(X.ETH_SRC, Buffer.from([2, 0, 0, 0, 0, 1 + rng.int(3)]), rng.int(2) ? Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]) : undefined));
  return m;
}

function randomActions(rng: Prng, table: number): Instruction[] {
  const acts: Action[] = [];
  const n = 1 + rng.int(4);
  for (let i = 0; i < n; i++) {
    switch (rng.int(10)) {
      case 0:
        acts.push(setField(X.ETH_DST, Buffer.from([2, 0, 0, 0, 0, 1 + rng.int(3)])));
        break;
      case 1:
        acts.push(setField(X.IPV4_DST, 0x0a000000 | rng.int(4)));
        break;
      case 2:
        acts.push(setField(X.VLAN_VID, OFPVID.PRESENT | (10 * (1 + rng.int(2)))));
        break;
      case 3:
        acts.push(bare(OFPAT.POP_VLAN));
        break;
      case 4:
        acts.push(bare(OFPAT.DEC_NW_TTL));
        break;
      case 5:
        acts.push(output(OFPP.CONTROLLER, 128));
        break;
      case 6:
        acts.push({ type: OFPAT.GROUP, groupId: 1 });
        break;
      case 7:
        acts.push(output(OFPP.NORMAL));
        break;
      default:
        acts.push(output([1, 2, 3, OFPP.IN_PORT, OFPP.FLOOD][rng.int(5)]!));
    }
  }
  const ins: Instruction[] = [apply(...acts)];
  if (table === 0 && rng.int(2)) ins.push({ type: OFPIT.WRITE_METADATA, metadata: BigInt(rng.int(2)), metadataMask: 1n }, gotoTable(1));
  return ins;
}

function randomKey(rng: Prng): Uint32Array {
  const f = frame({
    vid: rng.int(3) === 0 ? undefined : [10, 20][rng.int(2)],
    src: `02:00:00:00:00:0${1 + rng.int(3)}`,
    dst: rng.int(4) === 0 ? 'ff:ff:ff:ff:ff:ff' : `02:00:00:00:00:0${1 + rng.int(3)}`,
    ipDst: `10.0.0.${rng.int(4)}`,
    ttl: [1, 2, 64][rng.int(3)],
    proto: rng.int(2) ? 'tcp' : 'udp',
    dport: [53, 80, 443][rng.int(3)],
    sport: 1000 + rng.int(4),
    tos: rng.int(2) * 40,
  });
  if (rng.int(5) === 0) f.writeUInt16BE(0x86dd, f.readUInt16BE(12) === 0x8100 ? 16 : 12);
  const inPort = 1 + rng.int(3);
  return keyOf(f, inPort + 100);
}

describe('xlate: megaflow differential', () => {
  it('for random rules and packets, any packet matching the megaflow translates to the same actions', () => {
    const rng = new Prng(2024);
    let compared = 0;
    for (let round = 0; round < 30; round++) {
      const env = new TestEnv();
      env.addPort(1, { vlan: {} });
      env.addPort(2, { vlan: { tag: 10 } });
      env.addPort(3, { vlan: { trunks: [10, 20] } });
      env.groups.groupMod(
        { type: 15, version: 4, xid: 0, command: OFPGC.ADD, groupType: OFPGT.SELECT, groupId: 1, buckets: [1, 2, 3].map((p) => ({ weight: 1, watchPort: OFPP.ANY, watchGroup: 0xffffffff, actions: [output(p)] })) },
        0,
        () => {},
      );
      // Known MACs so NORMAL does not change state between translations.
      for (const v of [0, 10, 20]) for (let m = 1; m <= 3; m++) env.mac.learn(v, 0x0200, m, m);
      for (let i = 0; i < 25; i++) {
        const table = rng.int(3) === 0 ? 1 : 0;
        const match = randomMatch(rng);
        if (table === 1 && rng.int(2)) match.push(oxm(X.METADATA, BigInt(rng.int(2)), 1n));
        try {
          env.flow(flowMod({ tableId: table, priority: rng.int(5), match, instructions: randomActions(rng, table) }));
        } catch {
          /* duplicate prerequisites etc. are fine to skip */
        }
      }
      for (let i = 0; i < 60; i++) {
        const p = randomKey(rng);
        const inP = p[K.W_IN_PORT]! - 100;
        const rp = xlate(env, p, { ofInPort: inP, packetBytes: 100, learn: false });
        const mask = dpMaskOf(rp.wc);
        for (let j = 0; j < 5; j++) {
          const other = randomKey(rng);
          const q = new Uint32Array(K.KEY_WORDS);
          for (let w = 0; w < K.KEY_WORDS; w++) q[w] = ((p[w]! & mask[w]!) | (other[w]! & ~mask[w]!)) >>> 0;
          const qIn = q[K.W_IN_PORT]! - 100;
          if (qIn < 1 || qIn > 3) continue;
          const rq = xlate(env, q, { ofInPort: qIn, packetBytes: 100, learn: false });
          expect(fmt(rq), `round ${round} packet ${i}`).toBe(fmt(rp));
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(5000);
  });
});

// --- the committed datapath actions really produce the translated headers ---

class CapturePort implements Port {
  readonly type = 'capture';
  portNo = 0;
  readonly stats = newPortStats();
  readonly carrier = true;
  readonly mtu = 1500;
  readonly mac = new Uint8Array(6);
  readonly frames: Buffer[] = [];
  constructor(readonly name: string) {}
  start(_s: RxSink): void {}
  send(buf: Uint8Array, off: number, len: number): void {
    this.frames.push(Buffer.from(buf.subarray(off, off + len)));
  }
  flush(): void {}
  stop(): void {}
}

describe('xlate: commit produces the translated headers on the wire', () => {
  it('random header rewrites, executed by the datapath, re-extract to the final flow', async () => {
    const rng = new Prng(99);
    const dp = new Datapath({ name: 'commit' });
    const inP = new CapturePort('in');
    const outP = new CapturePort('out');
    await dp.addPort(inP, 101);
    await dp.addPort(outP, 102);
    const env = new TestEnv();
    env.addPort(1);
    env.addPort(2);
    for (let round = 0; round < 300; round++) {
      const acts: Action[] = [];
      for (let i = 0; i < 1 + rng.int(5); i++) {
        switch (rng.int(9)) {
          case 0:
            acts.push(setField(X.ETH_SRC, Buffer.from([2, 0, 0, 0, rng.int(256), rng.int(256)])));
            break;
          case 1:
            acts.push(setField(X.IPV4_SRC, rng.u32()));
            break;
          case 2:
            acts.push(setField(X.VLAN_VID, OFPVID.PRESENT | rng.int(4096)));
            break;
          case 3:
            acts.push(setField(X.VLAN_PCP, rng.int(8)));
            break;
          case 4:
            acts.push(bare(OFPAT.POP_VLAN));
            break;
          case 5:
            acts.push({ type: OFPAT.PUSH_VLAN, ethertype: rng.int(2) ? 0x8100 : 0x88a8 });
            break;
          case 6:
            acts.push(bare(OFPAT.DEC_NW_TTL));
            break;
          case 7:
            acts.push(setField(X.IP_ECN, rng.int(4)));
            break;
          default:
            acts.push(setField(rng.int(2) ? X.TCP_SRC : X.TCP_DST, rng.int(65536)));
        }
      }
      acts.push(output(2));
      const f = frame({ proto: 'tcp', vid: rng.int(2) ? 5 : undefined, ttl: 64 });
      const r = run(env, f, 1, { actions: acts });
      outP.frames.length = 0;
      dp.execute(f, 101, r.actions);
      expect(outP.frames.length).toBe(1);
      const got = keyOf(outP.frames[0]!, 101);
      const want = r.flow.slice(0, K.KEY_WORDS);
      want[K.W_IN_PORT] = 101;
      expect(formatActions(r.actions as DpAction[]) + ' → ' + [...got].join(',')).toBe(formatActions(r.actions as DpAction[]) + ' → ' + [...want].join(','));
    }
    await dp.stop();
  });
});

describe('xlate: MPLS', () => {
  it('push_mpls copies the IP TTL, set_field/dec_mpls_ttl rewrite the LSE, pop_mpls restores the IP packet', async () => {
    const dp = new Datapath({ name: 'mpls' });
    const inP = new CapturePort('in');
    const outP = new CapturePort('out');
    await dp.addPort(inP, 101);
    await dp.addPort(outP, 102);
    const env = new TestEnv();
    env.addPort(1);
    env.addPort(2);
    const f = frame({ ttl: 30 });
    const r = run(env, f, 1, {
      actions: [{ type: OFPAT.PUSH_MPLS, ethertype: 0x8847 }, setField(X.MPLS_LABEL, 100), setField(X.MPLS_TC, 5), bare(OFPAT.DEC_MPLS_TTL), output(2)],
    });
    expect(fmt(r)).toBe('push_mpls(label=0,tc=0,ttl=30,bos=1,eth_type=0x8847),set(mpls(label=100,tc=5,ttl=29,bos=1)),102');
    dp.execute(f, 101, r.actions);
    const mpls = outP.frames[0]!;
    const k = keyOf(mpls, 101);
    expect(k[K.W_ETH_TYPE]).toBe(0x8847);
    expect(k[K.W_MPLS0]).toBe(((100 << 12) | (5 << 9) | 0x100 | 29) >>> 0);
    // ... and back: pop to IPv4 gives the original frame.
    const back = run(env, mpls, 1, { actions: [{ type: OFPAT.POP_MPLS, ethertype: 0x0800 }, output(2)] });
    expect(fmt(back)).toBe('pop_mpls(eth_type=0x800),102');
    dp.execute(mpls, 101, back.actions);
    expect(outP.frames[1]!.equals(f)).toBe(true);
    // dec_mpls_ttl at TTL 1 → invalid-ttl packet-in.
    const one = run(env, f, 1, { actions: [{ type: OFPAT.PUSH_MPLS, ethertype: 0x8847 }, { type: OFPAT.SET_MPLS_TTL, ttl: 1 }, bare(OFPAT.DEC_MPLS_TTL), output(2)] });
    expect(one.actions.map((a) => a.type)).toEqual(['push_mpls', 'set_masked', 'userspace']);
    expect(env.pins.at(-1)!.reason).toBe(OFPR.INVALID_TTL);
    await dp.stop();
  });

  it('pop_mpls of the bottom label parses the payload for the next table (slow path, like OVS recirculation)', async () => {
    const dp = new Datapath({ name: 'mplspop' });
    const inP = new CapturePort('in');
    const outP = new CapturePort('out');
    await dp.addPort(inP, 101);
    await dp.addPort(outP, 102);
    const env = new TestEnv();
    env.addPort(1);
    env.addPort(2);
    const ip = frame({ proto: 'tcp', sport: 11111, tos: 0x20 });
    const pushed = run(env, ip, 1, { actions: [{ type: OFPAT.PUSH_MPLS, ethertype: 0x8847 }, output(2)] });
    dp.execute(ip, 101, pushed.actions);
    const mpls = outP.frames[0]!;
    expect(keyOf(mpls, 101)[K.W_TP_PORTS]).toBe(0); // the key of an MPLS frame has no L4
    env.flow(flowMod({ instructions: [apply({ type: OFPAT.POP_MPLS, ethertype: 0x0800 }), gotoTable(1)] }));
    env.flow(flowMod({ tableId: 1, match: [oxm(X.ETH_TYPE, 0x0800), oxm(X.IP_PROTO, 6), oxm(X.TCP_SRC, 11111)], instructions: [apply(setField(X.TCP_SRC, 12345), output(2))] }));
    const r = run(env, mpls, 1, { packet: mpls });
    expect(r.slow).toBe(true);
    expect(fmt(r)).toMatch(/^pop_mpls\(eth_type=0x800\),set\(tcp\(src=12345.*\)\),102$/);
    dp.execute(mpls, 101, r.actions);
    expect(outP.frames[1]!.equals(frame({ proto: 'tcp', sport: 12345, tos: 0x20 }))).toBe(true);
    // Without the frame (ofproto/trace of a flow, revalidation of a megaflow) table 1 sees no TCP
    // header; the result is marked slow so the revalidator deletes such a megaflow instead of keeping it.
    const blind = run(env, mpls, 1);
    expect(fmt(blind)).toBe('pop_mpls(eth_type=0x800)');
    expect(blind.slow).toBe(true);
    await dp.stop();
  });
});

describe('xlate: PBB', () => {
  it('push_pbb emits the datapath push; pop_pbb + goto_table matches the customer frame; pbb_isid matches the I-TAG', async () => {
    const dp = new Datapath({ name: 'pbb' });
    const inP = new CapturePort('in');
    const outP = new CapturePort('out');
    await dp.addPort(inP, 101);
    await dp.addPort(outP, 102);
    const env = new TestEnv();
    env.addPort(1);
    env.addPort(2);
    const customer = frame({ proto: 'tcp', sport: 11111 });
    const pushed = run(env, customer, 1, { actions: [{ type: OFPAT.PUSH_PBB, ethertype: 0x88e7 }, output(2)] });
    expect(fmt(pushed)).toBe('push_pbb(itag=0x0),102');
    dp.execute(customer, 101, pushed.actions);
    const pbb = outP.frames[0]!;
    expect(pbb.subarray(0, 12).equals(customer.subarray(0, 12))).toBe(true);
    expect(pbb.subarray(12, 18).toString('hex')).toBe('88e700000000');
    expect(pbb.subarray(18).equals(customer)).toBe(true);

    env.flow(flowMod({ match: [oxm(X.ETH_TYPE, 0x88e7), oxm(X.PBB_ISID, 0x60, 0xf0)], instructions: [apply(output(2))] }));
    const isid = Buffer.from(pbb);
    isid[17] = 0x64;
    expect(fmt(run(env, isid, 1))).toBe('102');
    isid[17] = 0xcb;
    expect(fmt(run(env, isid, 1))).toBe('drop');

    const env2 = new TestEnv();
    env2.addPort(1);
    env2.addPort(2);
    env2.flow(flowMod({ instructions: [apply(bare(OFPAT.POP_PBB)), gotoTable(1)] }));
    env2.flow(flowMod({ tableId: 1, match: [oxm(X.ETH_TYPE, 0x0800), oxm(X.IP_PROTO, 6), oxm(X.TCP_SRC, 11111)], instructions: [apply(output(2))] }));
    const r = run(env2, pbb, 1, { packet: pbb });
    expect(fmt(r)).toBe('pop_pbb,102');
    expect(r.slow).toBe(true);
    dp.execute(pbb, 101, r.actions);
    expect(outP.frames[1]!.equals(customer)).toBe(true);
    await dp.stop();
  });
});

describe('xlate: tunnel_id, mpls_bos and ip_proto set_field', () => {
  it('eth_type is written by its own datapath action after pending changes', () => {
    const env = new TestEnv();
    env.addPort(1);
    env.addPort(2);
    const r = run(env, frame({ proto: 'tcp' }), 1, { actions: [setField(X.IPV4_DST, 0x0a000009), setField(X.ETH_TYPE, 0x8848), output(2)] });
    expect(fmt(r)).toBe('set(ipv4(dst=10.0.0.9)),set_eth_type(0x8848),102');
    expect(fmt(run(env, frame(), 1, { actions: [setField(X.ETH_TYPE, 0x0800), output(2)] }))).toBe('102');
  });
  it('ip_proto is committed as a masked ipv4 set of the protocol alone', () => {
    const env = new TestEnv();
    env.addPort(1);
    env.addPort(2);
    const r = run(env, frame({ proto: 'tcp' }), 1, { actions: [setField(X.IP_PROTO, 17), output(2)] });
    expect(fmt(r)).toBe('set(ipv4(proto=17)),102');
    const m = r.actions[0] as { mask: Uint32Array };
    expect(m.mask[K.W_NW_PROTO_TOS_TTL_FRAG]).toBe(K.MASK_NW_PROTO >>> 0);
  });
  it('tunnel_id written in table 0 is matched in table 1 (a pipeline field: no datapath action)', () => {
    const env = new TestEnv();
    env.addPort(1);
    env.addPort(2);
    env.flow(flowMod({ instructions: [apply(setField(X.TUNNEL_ID, 12345n)), gotoTable(1)] }));
    env.flow(flowMod({ tableId: 1, match: [oxm(X.TUNNEL_ID, 12345n)], instructions: [apply(output(2))] }));
    expect(fmt(run(env, frame(), 1))).toBe('102');
  });
  it('mpls_bos rewrites the bottom-of-stack bit of the top entry', () => {
    const env = new TestEnv();
    env.addPort(1);
    env.addPort(2);
    const r = run(env, frame({ ttl: 30 }), 1, { actions: [{ type: OFPAT.PUSH_MPLS, ethertype: 0x8847 }, setField(X.MPLS_BOS, 0), output(2)] });
    expect(fmt(r)).toBe('push_mpls(label=0,tc=0,ttl=30,bos=1,eth_type=0x8847),set(mpls(label=0,tc=0,ttl=30,bos=0)),102');
  });
});

describe('xlate: copy_ttl_out / copy_ttl_in', () => {
  it('copies the TTL of the IP packet behind a received label stack into the outermost label', async () => {
    const dp = new Datapath({ name: 'cpttl' });
    const inP = new CapturePort('in');
    const outP = new CapturePort('out');
    await dp.addPort(inP, 101);
    await dp.addPort(outP, 102);
    const env = new TestEnv();
    env.addPort(1);
    env.addPort(2);
    const ip = frame({ ttl: 32 });
    const pushed = run(env, ip, 1, { actions: [{ type: OFPAT.PUSH_MPLS, ethertype: 0x8847 }, { type: OFPAT.SET_MPLS_TTL, ttl: 64 }, output(2)] });
    dp.execute(ip, 101, pushed.actions);
    const mpls = outP.frames[0]!;
    const r = run(env, mpls, 1, { packet: mpls, actions: [bare(OFPAT.COPY_TTL_OUT), output(2)] });
    expect(fmt(r)).toBe('set(mpls(label=0/0x0,tc=0/0,ttl=32/0xff,bos=1/1)),102');
    expect(r.slow).toBe(true);
    // Two labels: the next label's TTL.
    const two = run(env, mpls, 1, { packet: mpls, actions: [{ type: OFPAT.PUSH_MPLS, ethertype: 0x8847 }, { type: OFPAT.SET_MPLS_TTL, ttl: 9 }, bare(OFPAT.COPY_TTL_OUT), output(2)] });
    expect(fmt(two)).toBe('push_mpls(label=0,tc=0,ttl=64,bos=0,eth_type=0x8847),102');
    // copy_ttl_in: the label's TTL (64) into the IPv4 header behind it, by the datapath.
    const inward = run(env, mpls, 1, { actions: [bare(OFPAT.COPY_TTL_IN), { type: OFPAT.POP_MPLS, ethertype: 0x0800 }, output(2)] });
    expect(fmt(inward)).toBe('copy_ttl_in,pop_mpls(eth_type=0x800),102');
    dp.execute(mpls, 101, inward.actions);
    expect(outP.frames.at(-1)!.equals(frame({ ttl: 64 }))).toBe(true);
    await dp.stop();
  });
});
