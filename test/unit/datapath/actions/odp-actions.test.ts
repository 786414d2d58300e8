// ODP action text: strings as Open vSwitch 3.1 printed them (dpctl/dump-flows
// after dpctl/add-flow on a netdev datapath) parse and print back identically;
// forms OVS 3.1 cannot parse (push/pop_mpls, dec_ttl) are checked against its
// formatter's source form; parsed lists compile and run.
import { describe, expect, it } from 'vitest';
import { compileActions } from '../../../../datapath/actions/compile.js';
import { formatActions, formatDpFlow, parseActions, parseDpFlow } from '../../../../datapath/actions/odp-actions.js';
import type { DpAction } from '../../../../datapath/actions/types.js';
import * as K from '../../../../datapath/flow/key.js';
import { OdpParseError } from '../../../../datapath/flow/odp.js';
import { MAC_A, MAC_B, eth, ipv4, tcp, verifyChecksums } from '../../../helpers/frames.js';
import { runActions, words } from '../../../helpers/run-actions.js';

const OVS_PRINTED = [
  'set(ipv4(src=10.0.0.1/255.255.255.0)),2',
  'pop_vlan,1',
  '1,2',
  'drop',
  'set(ipv4(src=1.1.1.1,dst=2.2.2.2,tos=0,ttl=3)),set(tcp(src=1,dst=2)),set(udp(dst=53)),1',
  'set(ipv6(src=::1,dst=fe80::1,label=0x5,tclass=0x3,hlimit=4)),set(icmp(type=0,code=0)),set(mpls(label=3,tc=0,ttl=9,bos=1)),set(arp(op=2)),set(nd(target=::1)),set(sctp(src=1,dst=2))',
  'push_vlan(vid=10,pcp=0),sample(sample=50.0%,actions(1)),userspace(pid=0,userdata(0102030400000000)),clone(set(eth(src=02:00:00:00:00:01,dst=02:00:00:00:00:02)),2),trunc(100),3',
  'push_vlan(tpid=0x88a8,vid=100,pcp=3),2',
  'set(mpls(label=3/0xff,tc=0/0,ttl=9/0xff,bos=1/1))',
  'set(tcp(src=1/0xff))',
  'set(ipv4(ttl=63)),1,2,3',
  'sample(sample=12.3%,actions(userspace(pid=1,userdata(0102030405060708))))',
  'set(ipv6(src=::1,dst=::2,label=0,proto=6,tclass=0,hlimit=1,frag=no))',
  'set(icmpv6(type=1,code=2))',
  'meter(0),clone(meter(4294967295),2),1',
  'set(ipv4(src=1.2.3.4,dst=5.6.7.8,proto=6,tos=0,ttl=64,frag=no))',
  'set(ipv4(tos=0x4/0xfc))',
  'set(eth(src=02:00:00:00:00:01/ff:ff:ff:00:00:00))',
  'set(nd(target=fe80::1,sll=02:00:00:00:00:01,tll=02:00:00:00:00:02))',
  'set(arp(sip=1.1.1.1,tip=2.2.2.2,op=1,sha=02:00:00:00:00:01,tha=02:00:00:00:00:02))',
  'sample(sample=0.0%,actions(1))',
  'set(ipv6(label=0x5/0xf))',
  'clone(drop)',
  'sample(sample=100.0%,actions(drop))',
  'sample(sample=33.3%,actions(clone(1),2))',
];

/** Forms from OVS's formatter (format_odp_action) that OVS 3.1's parser does not take. */
const FORMATTER_ONLY = [
  'push_mpls(label=100,tc=0,ttl=64,bos=1,eth_type=0x8847),2',
  'pop_mpls(eth_type=0x800),1',
  'dec_ttl(le_1(userspace(pid=0))),1',
  'dec_ttl(le_1(drop)),2',
  'userspace(pid=4294967295)',
];

/** tsvs's own forms for OpenFlow 1.3's PBB actions (OVS has no PBB). */
const TSVS_ONLY = ['push_pbb(itag=0x64),pop_pbb,2', 'set_eth_type(0x8848),1', 'copy_ttl_in,3'];

describe('parseActions/formatActions', () => {
  for (const s of [...OVS_PRINTED, ...FORMATTER_ONLY, ...TSVS_ONLY]) {
    it(s.slice(0, 100), () => {
      const list = parseActions(s);
      expect(formatActions(list)).toBe(s);
    });
  }
  it('exact vs masked sets follow OVS: every field named exactly = set', () => {
    expect(parseActions('set(eth(src=02:00:00:00:00:01,dst=02:00:00:00:00:02))')[0].type).toBe('set');
    expect(parseActions('set(ipv4(src=1.1.1.1,dst=2.2.2.2,tos=0,ttl=3))')[0].type).toBe('set_masked');
    expect(parseActions('set(tcp(src=1,dst=2))')[0].type).toBe('set');
    expect(parseActions('set(mpls(label=3,tc=0,ttl=9,bos=1))')[0].type).toBe('set');
  });
  it('accepts the empty nested forms OVS parses (clone(), actions())', () => {
    expect(parseActions('clone()')).toEqual([{ type: 'clone', actions: [] }]);
    expect(formatActions(parseActions('sample(sample=100.0%,actions())'))).toBe('sample(sample=100.0%,actions(drop))');
    expect(parseActions('')).toEqual([]);
  });
  it('probabilities: percent -> u32 fraction as OVS (truncated) and back', () => {
    expect(parseActions('sample(sample=50.0%,actions(1))')[0]).toMatchObject({ probability: 0x7fffffff });
    expect(parseActions('sample(sample=100%,actions(1))')[0]).toMatchObject({ probability: 0xffffffff });
    const a: DpAction = { type: 'sample', probability: 0x20000000, actions: [] };
    expect(formatActions([a])).toBe('sample(sample=12.5%,actions(drop))');
  });
  it('builder-made lists print like OVS', () => {
    const key = words({ [K.W_NW_SRC]: 0x0a000001, [K.W_NW_DST]: 0x0a000002, [K.W_NW_PROTO_TOS_TTL_FRAG]: (6 << 24) | (64 << 8) });
    expect(
      formatActions([
        { type: 'set', attr: 'ipv4', key },
        { type: 'set_masked', attr: 'ipv4', key, mask: words({ [K.W_NW_PROTO_TOS_TTL_FRAG]: 0xff00 }) },
        { type: 'push_vlan', tpid: 0x8100, tci: 0x1000 | (5 << 13) | 7 },
        { type: 'push_mpls', lse: (16 << 12) | 0x100 | 9, ethertype: 0x8848 },
        { type: 'userspace', pid: 3, cookie: Uint8Array.of(0xde, 0xad) },
        { type: 'truncate', maxLen: 64 },
        { type: 'output', port: 1 },
      ]),
    ).toBe(
      'set(ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no)),set(ipv4(ttl=64)),push_vlan(vid=7,pcp=5),' +
        'push_mpls(label=16,tc=0,ttl=9,bos=1,eth_type=0x8848),userspace(pid=3,userdata(dead)),trunc(64),1',
    );
  });
  it('parsed text compiles and runs', () => {
    const P = { v6: false, src: '10.0.0.1', dst: '10.0.0.2' };
    const f = eth(MAC_B, MAC_A, 0x0800).concat(ipv4('10.0.0.1', '10.0.0.2', 6, tcp(P, 1, 2)));
    const list = parseActions('set(ipv4(src=192.168.0.0/255.255.0.0,ttl=9)),set(tcp(dst=443)),push_vlan(vid=10,pcp=0),3');
    compileActions(list);
    const r = runActions(f, list);
    const P2 = { v6: false, src: '192.168.0.1', dst: '10.0.0.2' };
    const exp = eth(MAC_B, MAC_A, 0x0800, [[0x8100, 10]]).concat(ipv4('192.168.0.1', '10.0.0.2', 6, tcp(P2, 1, 443), { ttl: 9 }));
    expect(r.outputs[0].bytes.toString('hex')).toBe(Buffer.from(exp).toString('hex'));
    expect(verifyChecksums(r.outputs[0].bytes)).toEqual([]);
  });
});

describe('action parse errors', () => {
  const err = (s: string) => {
    try {
      parseActions(s);
    } catch (e) {
      expect(e).toBeInstanceOf(OdpParseError);
      return [(e as OdpParseError).code, (e as OdpParseError).position];
    }
    return null;
  };
  it('codes and positions', () => {
    expect(err('1,frob(2)')).toEqual(['ODP_UNKNOWN_ACTION', 2]);
    expect(err('set(vlan(vid=1))')).toEqual(['ODP_UNSUPPORTED', 4]);
    expect(err('set(ipv4(srcip=1.2.3.4))')).toEqual(['ODP_UNKNOWN_FIELD', 9]);
    expect(err('set(ipv4(src=1.2.3))')).toEqual(['ODP_BAD_VALUE', 13]);
    expect(err('1,2,')).toEqual(['ODP_SYNTAX', 4]);
    expect(err('sample(sample=150%,actions(1))')).toEqual(['ODP_BAD_VALUE', 14]);
    expect(err('clone(1')).toEqual(['ODP_SYNTAX', 7]);
    expect(err('drop,1')).toEqual(['ODP_SYNTAX', 0]);
    expect(err('userspace(pid=1,userdata(xyz))')).toEqual(['ODP_BAD_VALUE', 25]);
  });
});

describe('whole dump-flows lines', () => {
  const LINES = [
    'recirc_id(0),in_port(1),eth(src=02:00:00:00:00:01,dst=02:00:00:00:00:02),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1234,dst=80), packets:0, bytes:0, used:never, actions:set(ipv4(src=10.0.0.1/255.255.255.0)),2',
    'recirc_id(0),in_port(1),eth(),eth_type(0x0800),ipv4(frag=no), packets:1, bytes:58, used:0.645s, actions:set(ipv4(src=10.9.9.9,ttl=5)),push_vlan(vid=10,pcp=3),2',
    'recirc_id(0),in_port(2),eth(),eth_type(0x0800),ipv4(proto=6,frag=no),tcp(dst=80), packets:12, bytes:1200, used:1.250s, flags:SFP.[800], actions:drop',
    'ufid:4b4e2d64-2c8b-4f55-8b7d-0d3c2a6c9f01, recirc_id(0),in_port(3),eth(),eth_type(0x0806), packets:0, bytes:0, used:never, actions:1',
    'recirc_id(0),in_port(1),eth(src=02:00:00:00:00:01,dst=02:00:00:00:00:02), packets:41, bytes:4018, used:0.200s, offloaded:yes, dp:tc, actions:2',
  ];
  for (const l of LINES) it(l.slice(0, 80), () => expect(formatDpFlow(parseDpFlow(l))).toBe(l));
  it('reads the stats', () => {
    const f = parseDpFlow(LINES[2]);
    expect(f).toMatchObject({ packets: 12, bytes: 1200, usedSec: 1.25, tcpFlags: 0x81b, actions: [] });
    expect(f.offloaded).toBeUndefined();
    expect(parseDpFlow(LINES[4]).offloaded).toBe(true);
  });
  it('error positions point into the line', () => {
    try {
      parseDpFlow('  in_port(1),eth(), packets:0, bytes:0, used:never, actions:1,frob');
    } catch (e) {
      expect((e as OdpParseError).code).toBe('ODP_UNKNOWN_ACTION');
      expect((e as OdpParseError).position).toBe(62);
      return;
    }
    throw new Error('no error');
  });
});
