// Real peer: Open vSwitch 3.1's own datapath executes the same action lists on
// the same frames. A private ovsdb-server + ovs-vswitchd (dummy datapath and
// ports, revalidators paused) gets an exact-match datapath flow whose key is
// tsvs's formatFlowKey() of the frame and whose actions are the ODP text; the
// frame goes in with netdev-dummy/receive and comes out in the ports'
// tx_pcap files. tsvs parses the same text, compiles and executes it; the
// bytes on every port must be identical. (push_mpls/pop_mpls/dec_ttl are not
// parseable by OVS 3.1's dpctl, so they are covered by the unit tests only.)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatActions, formatDpFlow, parseActions, parseDpFlow } from '../../datapath/actions/odp-actions.js';
import type { DpAction, SetAttr } from '../../datapath/actions/types.js';
import { SET_WRITABLE } from '../../datapath/actions/compile.js';
import { extractFlow } from '../../datapath/flow/extract.js';
import * as K from '../../datapath/flow/key.js';
import { KEY_WORDS, newKey, newLayout } from '../../datapath/flow/key.js';
import { formatFlowKey, parseFlowKey } from '../../datapath/flow/odp.js';
import { MAC_A, MAC_B, arp, eth, icmp4, icmp6, ipv4, ipv6, mpls, nd, sctp, tcp, udp } from '../helpers/frames.js';
import { runActions } from '../helpers/run-actions.js';
import { dummyOvsEnv, startDummyOvs, stopDummyOvs } from '../helpers/dummy-ovs.js';

const dir = mkdtempSync(join(tmpdir(), 'tsvs-ovs-actions-'));
const env = dummyOvsEnv(dir);
const ctl = join(dir, 'vswitchd.ctl');
const OUT_PORTS = ['p2', 'p3'];
const portNo: Record<string, number> = {};
const seen: Record<string, number> = {};

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
const appctl = (...args: string[]) => run('ovs-appctl', ['-t', ctl, ...args]);

function pcapRecords(file: string): Buffer[] {
  if (!existsSync(file)) return [];
  const d = readFileSync(file);
  const out: Buffer[] = [];
  for (let o = 24; o + 16 <= d.length; ) {
    const n = d.readUInt32LE(o + 8);
    if (o + 16 + n > d.length) break;
    out.push(d.subarray(o + 16, o + 16 + n));
    o += 16 + n;
  }
  return out;
}

beforeAll(() => {
  const vsctl = startDummyOvs(dir, ctl);
  run('ovs-vsctl', [...vsctl, 'add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=dummy', 'fail-mode=secure']);
  run('ovs-vsctl', [...vsctl, 'add-port', 'br0', 'p1', '--', 'set', 'interface', 'p1', 'type=dummy']);
  for (const p of OUT_PORTS) run('ovs-vsctl', [...vsctl, 'add-port', 'br0', p, '--', 'set', 'interface', p, 'type=dummy', `options:tx_pcap=${join(dir, p + '.pcap')}`]);
  for (const m of appctl('dpctl/show').matchAll(/port (\d+): (\S+)/g)) portNo[m[2]] = Number(m[1]);
  for (const p of OUT_PORTS) seen[p] = 0;
  // Keep ofproto's revalidators from replacing the hand-installed flows.
  appctl('revalidator/pause');
}, 30000);

afterAll(() => {
  stopDummyOvs(dir);
  if (!process.env.TSVS_KEEP_OVS_DIR) rmSync(dir, { recursive: true, force: true });
});

async function ovsExecute(frame: number[], actions: string): Promise<Record<string, string[]>> {
  const key = newKey();
  extractFlow(Uint8Array.from(frame), 0, frame.length, portNo.p1, key, newLayout());
  appctl('dpctl/del-flows');
  appctl('dpctl/add-flow', formatFlowKey(key), actions);
  appctl('netdev-dummy/receive', 'p1', Buffer.from(frame).toString('hex'));
  // The dummy datapath runs in the main thread: wait until the flow has been hit.
  for (let i = 0; i < 100 && !/packets:1/.test(appctl('dpctl/dump-flows')); i++) await new Promise((r) => setTimeout(r, 20));
  expect(appctl('dpctl/dump-flows')).toMatch(/packets:1/);
  const out: Record<string, string[]> = {};
  for (const p of OUT_PORTS) {
    const recs = pcapRecords(join(dir, p + '.pcap'));
    out[p] = recs.slice(seen[p]).map((b) => b.toString('hex'));
    seen[p] = recs.length;
  }
  return out;
}

function tsvsExecute(frame: number[], actions: string): Record<string, string[]> {
  const r = runActions(frame, parseActions(actions));
  const out: Record<string, string[]> = {};
  for (const p of OUT_PORTS) out[p] = r.outputs.filter((o) => o.port === portNo[p]).map((o) => o.bytes.toString('hex'));
  return out;
}

const P4 = { v6: false, src: '10.0.0.1', dst: '10.0.0.2' };
const P6 = { v6: true, src: 'fe80::1', dst: 'fe80::2' };
const tcp4 = eth(MAC_B, MAC_A, 0x0800).concat(ipv4('10.0.0.1', '10.0.0.2', 6, tcp(P4, 1234, 80, [1, 2, 3]), { tos: 0x10 }));
const udp4 = eth(MAC_B, MAC_A, 0x0800).concat(ipv4('10.0.0.1', '10.0.0.2', 17, udp(P4, 53, 5353, [1, 2, 3, 4])));
const udp4nocsum = eth(MAC_B, MAC_A, 0x0800).concat(ipv4('10.0.0.1', '10.0.0.2', 17, udp(P4, 53, 5353, [1, 2, 3, 4], true)));
const icmpv4 = eth(MAC_B, MAC_A, 0x0800).concat(ipv4('10.0.0.1', '10.0.0.2', 1, icmp4(8, 0)));
const sctp4 = eth(MAC_B, MAC_A, 0x0800).concat(ipv4('10.0.0.1', '10.0.0.2', 132, sctp(5000, 6000, [0, 1, 0, 4, 9, 9, 9, 9])));
const tcp6 = eth(MAC_B, MAC_A, 0x86dd).concat(ipv6('fe80::1', 'fe80::2', 6, tcp(P6, 1, 2, [7]), { tclass: 0x20, label: 0x12345 }));
const udp6 = eth(MAC_B, MAC_A, 0x86dd).concat(ipv6('fe80::1', 'fe80::2', 17, udp(P6, 3, 4, [8, 9])));
const echo6 = eth(MAC_B, MAC_A, 0x86dd).concat(ipv6('fe80::1', 'fe80::2', 58, icmp6(P6, 128, 0, [0, 1, 0, 1])));
const NSP = { v6: true, src: 'fe80::1', dst: 'ff02::1:ff00:2' };
const ns = eth(MAC_B, MAC_A, 0x86dd).concat(ipv6('fe80::1', 'ff02::1:ff00:2', 58, nd(NSP, 135, 'fe80::2', MAC_A), { hlim: 255 }));
const arpReq = eth(MAC_B, MAC_A, 0x0806).concat(arp(1, MAC_A, '10.0.0.1', [0, 0, 0, 0, 0, 0], '10.0.0.2'));
const tagged = eth(MAC_B, MAC_A, 0x0800, [[0x8100, 0x2000 | 10]]).concat(tcp4.slice(14));
const mplsFrame = eth(MAC_B, MAC_A, 0x8847).concat(mpls(100, 1, true, 64), tcp4.slice(14));

const CASES: [string, number[], string][] = [
  ['set(eth)', tcp4, 'set(eth(src=0a:bb:cc:dd:ee:ff,dst=02:00:00:00:00:09)),2'],
  ['set(ipv4) exact over TCP', tcp4, 'set(ipv4(src=192.168.1.10,dst=172.16.0.9,proto=6,tos=0x20,ttl=9,frag=no)),2'],
  ['set(ipv4) masked src, ttl over UDP', udp4, 'set(ipv4(src=10.9.8.0/255.255.255.0,ttl=3)),2'],
  ['set(ipv4) on UDP without checksum', udp4nocsum, 'set(ipv4(dst=1.2.3.4)),2'],
  ['set(ipv4) tos masked over ICMP', icmpv4, 'set(ipv4(tos=0x4/0xfc)),2'],
  ['set(tcp)', tcp4, 'set(tcp(src=4321,dst=8080)),2'],
  ['set(udp) masked', udp4, 'set(udp(dst=53/0xff)),2'],
  ['set(sctp)', sctp4, 'set(sctp(src=7000,dst=9)),2'],
  ['set(icmp)', icmpv4, 'set(icmp(type=0,code=3)),2'],
  ['set(ipv6) addresses over TCP', tcp6, 'set(ipv6(src=2001:db8::1,dst=2001:db8:ffff::abcd)),2'],
  ['set(ipv6) label/tclass/hlimit over UDP', udp6, 'set(ipv6(label=0xabcde,tclass=0x28,hlimit=3)),2'],
  ['set(ipv6) src over ICMPv6', echo6, 'set(ipv6(src=fe80::99)),2'],
  ['set(icmpv6)', echo6, 'set(icmpv6(type=129,code=0)),2'],
  ['set(nd)', ns, 'set(nd(target=fe80::99,sll=0a:bb:cc:dd:ee:ff)),2'],
  ['set(arp)', arpReq, 'set(arp(sip=10.0.0.2,tip=10.0.0.1,op=2,sha=0a:bb:cc:dd:ee:ff,tha=02:00:00:00:00:01)),2'],
  ['set(mpls)', mplsFrame, 'set(mpls(label=200,tc=3,ttl=9,bos=1)),2'],
  ['push_vlan', tcp4, 'push_vlan(vid=10,pcp=5),2'],
  ['push_vlan 802.1ad over a tag', tagged, 'push_vlan(tpid=0x88a8,vid=100,pcp=0),2'],
  ['pop_vlan', tagged, 'pop_vlan,2'],
  ['clone leaves the packet unchanged', tcp4, 'clone(set(tcp(dst=1)),push_vlan(vid=1,pcp=0),2),3'],
  ['sample 100%', udp4, 'sample(sample=100.0%,actions(set(udp(src=1)),3)),2'],
  ['sample 0%', udp4, 'sample(sample=0.0%,actions(3)),2'],
  ['trunc applies to the next output', tcp4, 'trunc(20),2,3'],
  ['several outputs with rewrites between', tcp4, '2,set(ipv4(ttl=1)),3,push_vlan(vid=7,pcp=0),2'],
];

describe('datapath actions: tsvs executor vs OVS 3.1 dummy datapath', () => {
  for (const [name, frame, actions] of CASES) {
    it(`${name}: ${actions}`, async () => {
      const ovs = await ovsExecute(frame, actions);
      const mine = tsvsExecute(frame, actions);
      expect(mine).toEqual(ovs);
      expect(Object.values(ovs).flat().length).toBeGreaterThan(0);
    });
  }
  it('whole dump-flows lines with stats and TCP flags parse and print back', async () => {
    await ovsExecute(tcp4, '2');
    const line = appctl('dpctl/dump-flows').split('\n').find((l) => l.includes('actions:'))!;
    expect(line).toMatch(/packets:1, bytes:\d+, used:\d+\.\d{3}s, flags:S, actions:2$/);
    expect(formatDpFlow(parseDpFlow(line))).toBe(line);
  });
  it('OVS prints the installed flows as tsvs does', () => {
    const key = newKey();
    extractFlow(Uint8Array.from(tcp6), 0, tcp6.length, portNo.p1, key, newLayout());
    appctl('dpctl/del-flows');
    const acts = 'set(ipv6(label=0xabcde,tclass=0x28,hlimit=3)),push_vlan(tpid=0x88a8,vid=100,pcp=0),sample(sample=25.0%,actions(2)),trunc(64),3';
    appctl('dpctl/add-flow', formatFlowKey(key), acts);
    const line = appctl('dpctl/dump-flows').split('\n').find((l) => l.includes('actions:'))!;
    expect(line.replace(/, packets:.*actions:/, ' actions:')).toBe(`${formatFlowKey(key)} actions:${acts}`);
  });
});

describe('randomised action lists: tsvs vs OVS 3.1', () => {
  // Each frame with the set attributes that apply to it.
  const frames: [number[], SetAttr[]][] = [
    [tcp4, ['eth', 'ipv4', 'tcp']],
    [udp4, ['eth', 'ipv4', 'udp']],
    [udp4nocsum, ['ipv4', 'udp']],
    [icmpv4, ['ipv4', 'icmp']],
    [sctp4, ['ipv4', 'sctp']],
    [tcp6, ['eth', 'ipv6', 'tcp']],
    [udp6, ['ipv6', 'udp']],
    [echo6, ['ipv6', 'icmpv6']],
    [ns, ['ipv6', 'nd']],
    [arpReq, ['eth', 'arp']],
    [tagged, ['eth', 'ipv4', 'tcp']],
    [mplsFrame, ['eth', 'mpls']],
  ];
  let seed = Number(process.env.SEED ?? 0x5eed);
  const rnd = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed;
  };
  const pick = <T>(a: readonly T[]) => a[rnd() % a.length];

  function randomSet(attr: SetAttr, frame: number[]): DpAction {
    const key = newKey();
    extractFlow(Uint8Array.from(frame), 0, frame.length, 1, key, newLayout());
    const value = new Uint32Array(KEY_WORDS);
    const mask = new Uint32Array(KEY_WORDS);
    for (const [w, bits] of SET_WRITABLE[attr]) {
      value[w] = rnd() & bits;
      const r = rnd() % 3;
      mask[w] = (r === 0 ? 0 : r === 1 ? bits : rnd() & bits) >>> 0;
    }
    if (attr === 'mpls') {
      // Keep bottom-of-stack as it is so both sides see the same packet shape.
      mask[SET_WRITABLE.mpls[0][0]] &= ~0x100;
    }
    // OVS's userspace datapath has only the exact form of set(icmp)/set(icmpv6)
    // (a masked one reaches OVS_NOT_REACHED in odp-execute.c).
    if (rnd() % 4 === 0 || attr === 'icmp' || attr === 'icmpv6') {
      // Exact set: every writable field; proto/frag from the frame, as OVS requires.
      for (const [w, bits] of SET_WRITABLE[attr]) value[w] = (value[w] & bits) | (key[w] & ~bits);
      if (attr === 'mpls') value[SET_WRITABLE.mpls[0][0]] = (value[SET_WRITABLE.mpls[0][0]] & ~0x100) | (key[SET_WRITABLE.mpls[0][0]] & 0x100);
      return { type: 'set', attr, key: value };
    }
    // Values pre-masked, as ofproto emits them: OVS's userspace datapath ORs in
    // value bits outside the mask and the Linux datapath rejects them, while
    // tsvs ignores them.
    for (let w = 0; w < KEY_WORDS; w++) value[w] &= mask[w];
    return { type: 'set_masked', attr, key: value, mask };
  }

  function randomList(frame: number[], attrs: SetAttr[], depth: number): DpAction[] {
    const out: DpAction[] = [];
    const n = 1 + (rnd() % 4);
    for (let i = 0; i < n; i++) {
      const r = rnd() % 10;
      if (r < 5) out.push(randomSet(pick(attrs), frame));
      else if (r === 5) out.push({ type: 'push_vlan', tpid: pick([0x8100, 0x88a8]), tci: 0x1000 | (rnd() & 0xefff) });
      else if (r === 6 && depth < 2) out.push({ type: 'clone', actions: randomList(frame, attrs, depth + 1) });
      else if (r === 7 && depth < 2) out.push({ type: 'sample', probability: pick([0, 0xffffffff]), actions: randomList(frame, attrs, depth + 1) });
      else if (r === 8) out.push({ type: 'truncate', maxLen: 14 + (rnd() % 60) });
      else if (r === 9) out.push({ type: 'pop_vlan' });
      out.push({ type: 'output', port: portNo[pick(OUT_PORTS)] });
    }
    return out;
  }

  it('random lists give byte-identical outputs (env SEED, N to explore further)', async () => {
    const failures: string[] = [];
    for (let i = 0; i < Number(process.env.N ?? 80); i++) {
      const [frame, attrs] = pick(frames);
      const text = formatActions(randomList(frame, attrs, 0));
      if (process.env.TSVS_KEEP_OVS_DIR) console.log(`case ${i}: ${text} on ${Buffer.from(frame).toString("hex")}`);
      const ovs = await ovsExecute(frame, text);
      const mine = tsvsExecute(frame, text);
      if (JSON.stringify(ovs) !== JSON.stringify(mine)) failures.push(`${text}\n  frame ${Buffer.from(frame).toString('hex')}\n  ovs  ${JSON.stringify(ovs)}\n  tsvs ${JSON.stringify(mine)}`);
    }
    expect(failures.slice(0, 3).join('\n')).toBe('');
  }, 600000);
});

describe('megaflow keys with random masks: formatFlowKey vs OVS 3.1 dpctl/dump-flows', () => {
  const frames = [tcp4, udp4, icmpv4, sctp4, tcp6, udp6, echo6, ns, arpReq, tagged, mplsFrame];
  let seed = Number(process.env.SEED ?? 0xf00d);
  const rnd = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed;
  };
  it('prints every installed megaflow exactly as OVS does', () => {
    const failures: string[] = [];
    for (let i = 0; i < Number(process.env.N ?? 60); i++) {
      const frame = frames[rnd() % frames.length];
      const key = newKey();
      extractFlow(Uint8Array.from(frame), 0, frame.length, portNo.p1, key, newLayout());
      const mask = new Uint32Array(KEY_WORDS);
      for (let w = 0; w < KEY_WORDS; w++) {
        const r = rnd() % 3;
        mask[w] = r === 0 ? 0 : r === 1 ? 0xffffffff : rnd();
      }
      // What OVS insists on for a megaflow: exact in_port/recirc_id/ethertype/
      // VLAN TPIDs, exact IP protocol and fragment state; no other metadata.
      mask[K.W_IN_PORT] = mask[K.W_RECIRC_ID] = 0xffffffff;
      mask[K.W_SKB_MARK] = mask[K.W_DP_HASH] = 0;
      mask[K.W_ETH_TYPE] = 0xffff;
      mask[K.W_VLAN0] |= 0xffff1000;
      mask[K.W_VLAN1] |= 0xffff1000;
      mask[K.W_NW_PROTO_TOS_TTL_FRAG] = (mask[K.W_NW_PROTO_TOS_TTL_FRAG] | 0xff000003) & 0xffffff03;
      mask[K.W_TCP_FLAGS] &= 0xfff;
      mask[K.W_IPV6_LABEL] &= 0xfffff;
      mask[K.W_TP_PORTS] &= key[K.W_NW_PROTO_TOS_TTL_FRAG] >>> 24 === 1 || key[K.W_NW_PROTO_TOS_TTL_FRAG] >>> 24 === 58 ? 0x00ff00ff : 0xffffffff;
      // dpif-netdev also wants the L4 attribute present (non-zero mask) when the
      // protocol is exact, although its own printout omits a wildcarded one.
      mask[K.W_TP_PORTS] |= 0x00010000;
      if (key[K.W_TP_PORTS] === 135 << 16) {
        // ...and ND fields only under an exact ICMPv6 type and code.
        mask[K.W_TP_PORTS] = 0x00ff00ff;
        mask[K.W_ND_TARGET] |= 1;
      }
      // OVS always matches the MPLS bottom-of-stack bits (flow_count_mpls_labels()).
      for (let i = 0; i < 3; i++) mask[K.W_MPLS0 + i] |= 0x100;
      for (let w = 0; w < KEY_WORDS; w++) key[w] &= mask[w];
      const text = formatFlowKey(key, mask);
      appctl('dpctl/del-flows');
      try {
        appctl('dpctl/add-flow', text, '2');
      } catch (e) {
        failures.push(`OVS rejected ${text}: ${(e as Error).message.split('\n')[0]}`);
        continue;
      }
      const line = appctl('dpctl/dump-flows').split('\n').find((l) => l.includes(`in_port(${portNo.p1})`)) ?? '';
      const printed = line.replace(/, packets:.*$/, '');
      if (printed !== text) failures.push(`tsvs ${text}\n   ovs ${printed}`);
      const back = parseFlowKey(printed);
      if (formatFlowKey(back.key, back.mask) !== printed) failures.push(`round trip of ${printed}`);
    }
    expect(failures.slice(0, 4).join('\n')).toBe('');
  }, 60000);
});

describe('actions OVS translates from OpenFlow (push/pop_mpls, mpls and ttl rewrites) run alike in tsvs', () => {
  // OVS 3.1's dpctl cannot parse push_mpls/pop_mpls, so let its own ofproto
  // produce them: an OpenFlow flow, a frame through the upcall path, then the
  // datapath actions from dump-flows are parsed and executed by tsvs.
  const mgmt = () => `unix:${join(dir, 'br0.mgmt')}`;
  const twoLabels = eth(MAC_B, MAC_A, 0x8847).concat(mpls(100, 1, false, 64), mpls(200, 2, true, 63), tcp4.slice(14));
  const CASES_OF: [string, number[], string][] = [
    ['push_mpls on IPv4', tcp4, 'push_mpls:0x8847,output:p2'],
    ['push_mpls (multicast) after a VLAN tag', tagged, 'push_mpls:0x8848,set_mpls_label:77,output:p2'],
    ['pop_mpls to IPv4', mplsFrame, 'pop_mpls:0x0800,output:p2'],
    ['pop_mpls of the top of two labels', twoLabels, 'pop_mpls:0x8847,output:p2,pop_mpls:0x0800,output:p3'],
    ['mpls label/tc/ttl rewrites', mplsFrame, 'set_mpls_label:5,set_mpls_tc:3,dec_mpls_ttl,output:p2'],
    ['push_mpls on MPLS', mplsFrame, 'push_mpls:0x8847,set_mpls_ttl:9,output:p2'],
    ['dec_ttl and rewrites', tcp4, 'dec_ttl,mod_nw_tos:32,mod_tp_dst:99,output:p2'],
    ['VLAN push with vid/pcp', udp4, 'mod_vlan_vid:10,mod_vlan_pcp:5,output:p2'],
    ['IPv6 hop limit', udp6, 'dec_ttl,output:p2'],
  ];
  for (const [name, frame, ofActions] of CASES_OF) {
    it(`${name}: ${ofActions}`, async () => {
      run('ovs-ofctl', ['del-flows', mgmt()]);
      // Drop the datapath flows (also those installed by hand above) and
      // ofproto's ukeys, so this frame takes the upcall path again.
      appctl('dpctl/del-flows');
      appctl('revalidator/purge');
      run('ovs-ofctl', ['add-flow', mgmt(), `in_port=p1,actions=${ofActions}`]);
      appctl('netdev-dummy/receive', 'p1', Buffer.from(frame).toString('hex'));
      let line = '';
      for (let i = 0; i < 100 && !line; i++) {
        line = appctl('dpctl/dump-flows').split('\n').find((l) => l.includes(`in_port(${portNo.p1})`) && l.includes('actions:')) ?? '';
        if (!line) await new Promise((r) => setTimeout(r, 20));
      }
      const keyText = line.slice(0, line.indexOf(', packets:'));
      const actText = line.slice(line.indexOf('actions:') + 8);
      expect(() => parseFlowKey(keyText)).not.toThrow();
      const ovs: Record<string, string[]> = {};
      for (const p of OUT_PORTS) {
        const recs = pcapRecords(join(dir, p + '.pcap'));
        ovs[p] = recs.slice(seen[p]).map((b) => b.toString('hex'));
        seen[p] = recs.length;
      }
      if (process.env.TSVS_KEEP_OVS_DIR) console.log(line);
      const list = parseActions(actText);
      expect(formatActions(list)).toBe(actText);
      expect(tsvsExecute(frame, actText)).toEqual(ovs);
    });
  }
});
