// ofproto/trace and fdb/flush on an in-process bridge: the printed tree
// (OVS 3.1's layout, checked against real OVS in test/interop/trace-vs-ovs),
// the Flow / Final flow / Megaflow / Datapath actions lines, errors, and that
// a trace changes nothing it should not.
import { afterEach, describe, expect, it } from 'vitest';
import { OFPT } from '../../../../ofproto/openflow/constants.js';
import { XlateTrace } from '../../../../ofproto/xlate/xlate-trace.js';
import { AppctlRegistry } from '../../../../vswitchd/rpc/appctl.js';
import { registerOfprotoAppctl } from '../../../../vswitchd/ofproto-appctl.js';
import { traceBridge, type TraceBridge } from '../../../helpers/trace-bridge.js';

let t: TraceBridge | null = null;
afterEach(async () => {
  await t?.stop();
  t = null;
});

async function bridge(failMode: 'secure' | 'standalone' = 'secure'): Promise<TraceBridge> {
  t = await traceBridge(`br${Math.random().toString(36).slice(2, 7)}`, 3, { failMode });
  return t;
}

/** The trace with the bridge name replaced by br0 (the helper picks a unique one). */
function trace(b: TraceBridge, ...args: string[]): string {
  return b.trace(...args).replace(/bridge\("br\w+"\)\n-+/, 'bridge("br0")\n-------------');
}

describe('ofproto/trace', () => {
  it('multi-table pipeline: goto_table, write_actions and the action set', async () => {
    const b = await bridge();
    b.addFlows(`
      table=0,priority=100,in_port=1,ip,actions=set_field:10.0.0.9->ip_dst,goto_table:1
      table=1,priority=10,ip,nw_dst=10.0.0.9,actions=output:3,write_actions(output:2)
    `);
    expect(trace(b, 'in_port=1,udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02,tp_dst=53')).toBe(
      `Flow: udp,in_port=1,vlan_tci=0x0000,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_tos=0,nw_ecn=0,nw_ttl=0,nw_frag=no,tp_src=0,tp_dst=53

bridge("br0")
-------------
 0. ip,in_port=1, priority 100
    set_field:10.0.0.9->ip_dst
    goto_table:1
     1. ip,nw_dst=10.0.0.9, priority 10
            output:3
            write_actions(output:2)
             -> action set is: output:2
--. Executing action set:
    output:2

Final flow: udp,in_port=1,vlan_tci=0x0000,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02,nw_src=10.0.0.1,nw_dst=10.0.0.9,nw_tos=0,nw_ecn=0,nw_ttl=0,nw_frag=no,tp_src=0,tp_dst=53
Megaflow: recirc_id=0,eth,ip,in_port=1,nw_dst=10.0.0.2
Datapath actions: set(ipv4(dst=10.0.0.9)),3,2
`,
    );
  });

  it('group buckets nest under the group action', async () => {
    const b = await bridge();
    b.addGroups('group_id=1,type=all,bucket=output:1,bucket=set_field:02:00:00:00:00:99->eth_src,output:2');
    b.addFlows('priority=40,in_port=3,arp,actions=group:1');
    const text = trace(b, 'in_port=3,arp,dl_src=02:00:00:00:00:03,dl_dst=ff:ff:ff:ff:ff:ff');
    expect(text).toContain(` 0. arp,in_port=3, priority 40
    group:1
    bucket 0
            output:1
    bucket 1
            set_field:02:00:00:00:00:99->eth_src
            output:2

Final flow: unchanged
`);
    expect(text).toMatch(/\nDatapath actions: 1,.*set\(eth\(src=02:00:00:00:00:99\)\),2\)?\n$/);
  });

  it('table miss and a rule without actions both print drop; cookies are shown', async () => {
    const b = await bridge();
    b.addFlows(`
      table=0,priority=10,cookie=0x1234,dl_dst=02:00:00:00:00:02,actions=goto_table:1
      table=1,priority=5,actions=drop
    `);
    expect(trace(b, 'in_port=3,dl_dst=02:00:00:00:00:05')).toBe(`Flow: in_port=3,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=02:00:00:00:00:05,dl_type=0x0000

bridge("br0")
-------------
 0. No match.
    drop

Final flow: unchanged
Megaflow: recirc_id=0,eth,in_port=3,dl_dst=02:00:00:00:00:05
Datapath actions: drop
`);
    expect(trace(b, 'in_port=3,dl_dst=02:00:00:00:00:02')).toContain(` 0. dl_dst=02:00:00:00:00:02, priority 10, cookie 0x1234
    goto_table:1
 1. priority 5
    drop
`);
  });

  it('NORMAL explains flooding and learned ports; only a trace with a packet learns (as OVS)', async () => {
    const b = await bridge();
    b.addFlows('priority=50,actions=NORMAL');
    const mac = b.br.ofproto.mac;
    const flood = trace(b, 'in_port=p2,dl_src=02:00:00:00:00:02,dl_dst=02:00:00:00:00:01');
    expect(flood).toContain('    NORMAL\n     -> no learned MAC for destination, flooding\n');
    expect(flood).toMatch(/Datapath actions: 1,3\n$/);
    expect(mac.count).toBe(0);
    // -generate composes a packet: that one is learned, like ovs-appctl ofproto/trace ... -generate.
    trace(b, 'in_port=2,dl_src=02:00:00:00:00:02,dl_dst=02:00:00:00:00:01', '-generate');
    expect(mac.entries().map((e) => [e.mac, e.port])).toEqual([['02:00:00:00:00:02', 2]]);
    const learned = trace(b, 'in_port=1,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02');
    expect(learned).toContain('    NORMAL\n     -> forwarding to learned port\n');
    expect(learned).toMatch(/Datapath actions: 2\n$/);
    expect(trace(b, 'in_port=2,dl_src=02:00:00:00:00:07,dl_dst=02:00:00:00:00:02')).toContain(' -> learned port is input port, dropping\n');
    expect(trace(b, 'in_port=1,dl_dst=01:00:5e:00:00:01')).toContain(' -> multicast traffic, flooding\n');
  });

  it('a trace has no side effects: no rule stats, no megaflows, no packet-in, no meter tokens', async () => {
    const b = await bridge();
    b.addFlows(`
      priority=10,in_port=1,actions=CONTROLLER:128,output:2
    `);
    const of = b.br.ofproto;
    const text = trace(b, 'in_port=1,tcp,tp_dst=80');
    expect(text).toContain('    CONTROLLER:128\n    output:2\n');
    expect([...of.tables.tables[0]!.rules()].every((r) => r.packetCount === 0)).toBe(true);
    expect(b.br.datapath.stats.flows).toBe(0);
    expect(b.conn.take(OFPT.PACKET_IN)).toEqual([]);
    expect(of.counters.packetIns).toBe(0);
  });

  it('packet bytes: the flow comes from the frame, in_port from FLOW', async () => {
    const b = await bridge();
    b.addFlows('priority=10,in_port=1,tcp,tp_dst=80,actions=output:3');
    const frame =
      '020000000002' + '020000000001' + '0800' + '45000028000100004006' + '0000' + '0a000001' + '0a000002' + '04d20050' + '00000000' + '00000000' + '5002ffff' + '00000000';
    const text = trace(b, 'in_port=1', frame);
    expect(text).toMatch(/^Flow: tcp,in_port=1,vlan_tci=0x0000,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=1234,tp_dst=80,tcp_flags=syn\n/);
    expect(text).toMatch(/Datapath actions: 3\n$/);
  });

  it('VLAN push in the final flow and a second tag word', async () => {
    const b = await bridge();
    b.addFlows('priority=10,in_port=1,actions=push_vlan:0x8100,set_field:4106->vlan_vid,output:2');
    const text = trace(b, 'in_port=1,dl_type=0x88b5');
    expect(text).toContain('Final flow: in_port=1,dl_vlan=10,dl_vlan_pcp=0,vlan_tci1=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,dl_type=0x88b5\n');
    expect(text).toMatch(/Datapath actions: push_vlan\(vid=10,pcp=0\),2\n$/);
  });

  it('clear one-line errors; nothing changes', async () => {
    const b = await bridge();
    const err = (...args: string[]): string => {
      try {
        b.trace(...args);
      } catch (e) {
        expect((e as Error).name).toBe('AppctlError');
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(err('in_port=1,foo=3')).toBe('Bad openflow flow syntax: foo: unknown field');
    expect(err('in_port=nope')).toBe('Bad openflow flow syntax: in_port=nope: no such port');
    expect(err('tcp')).toBe('Bad openflow flow syntax: the flow needs an in_port');
    expect(err('in_port=1,dl_src=02:00:00:00:00:00/ff:ff:ff:00:00:00')).toMatch(/masks are not allowed/);
    expect(err('in_port=1', 'zz')).toBe('Trailing garbage in packet data');
    expect(err('in_port=1', '-x')).toBe('-x: unknown option');
    expect(err('in_port=1', '-generate', '0000')).toBe('too many arguments');
    expect(() => b.trace()).toThrow(/needs BRIDGE FLOW/);
    const reg = new AppctlRegistry();
    registerOfprotoAppctl(reg, { list: () => [{ name: 'br0', of: b.br }] });
    await expect(reg.run('ofproto/trace', ['nobr', 'in_port=1'])).rejects.toThrow('nobr: unknown bridge');
    await expect(reg.run('fdb/flush', ['nobr'])).rejects.toThrow('no such bridge');
  });
});

describe('fdb/flush', () => {
  it('forgets learned MACs and revalidates the megaflows NORMAL built from them', async () => {
    const b = await bridge('standalone');
    const [g1, g2] = b.guests;
    const r = await g1!.ping('10.0.0.2', 2, { intervalMs: 0, timeoutMs: 500 });
    expect(r.received).toBe(2);
    const of = b.br.ofproto;
    expect(of.mac.count).toBeGreaterThanOrEqual(2);
    expect(b.br.datapath.stats.flows).toBeGreaterThan(0);
    // A megaflow forwards to g2's learned port (a single output).
    expect([...b.br.datapath.flowDump()].some((f) => f.actions.source.length === 1)).toBe(true);
    const reg = new AppctlRegistry();
    registerOfprotoAppctl(reg, { list: () => [{ name: b.br.name, of: b.br }] });
    const gen = of.generation;
    expect(await reg.run('fdb/flush', [b.br.name])).toBe('table successfully flushed\n');
    expect(of.mac.count).toBe(0);
    expect(b.br.datapath.stats.flows).toBe(0);
    expect(of.generation).toBeGreaterThan(gen);
    // The next packet floods and learns again.
    expect((await g2!.ping('10.0.0.1', 1, { intervalMs: 0, timeoutMs: 500 })).received).toBe(1);
    expect(of.mac.count).toBeGreaterThanOrEqual(2);
    expect(await reg.run('fdb/flush', [])).toBe('table successfully flushed\n');
    expect(of.mac.count).toBe(0);
  });
});

describe('XlateTrace printer', () => {
  it('indents terminal nodes one step past non-terminal siblings, as oftrace_node_print_details', () => {
    const tr = new XlateTrace();
    tr.bridge('br0');
    const t0 = tr.table(' 0. priority 1');
    tr.action('resubmit(,1)');
    const t1 = tr.table(' 1. priority 2');
    tr.warn('careful');
    tr.error('broken');
    tr.restore(t1);
    tr.detail('after');
    tr.restore(t0);
    expect(tr.format()).toBe(`
bridge("br0")
-------------
 0. priority 1
    resubmit(,1)
     1. priority 2
             >> careful
             >>>> broken <<<<
     -> after
`);
  });
});
