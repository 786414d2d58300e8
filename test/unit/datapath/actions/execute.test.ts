// The action executor against frames built byte by byte: every rewrite is
// compared with the frame built directly with the new values (whose checksums
// the builder computes in full), checksums are verified by full recompute, and
// the executor's updated key must equal a fresh extraction of the result.
import { describe, expect, it } from 'vitest';
import type { DpAction, SetAttr } from '../../../../datapath/actions/types.js';
import * as K from '../../../../datapath/flow/key.js';
import {
  MAC_A,
  MAC_B,
  arp,
  eth,
  icmp4,
  icmp6,
  ip4,
  ip6,
  ipv4,
  ipv6,
  mpls,
  nd,
  sctp,
  tcp,
  udp,
  verifyChecksums,
  type Pseudo,
} from '../../../helpers/frames.js';
import { extractFresh, runActions, words, type RunResult } from '../../../helpers/run-actions.js';

const MAC_C = [0x0a, 0xbb, 0xcc, 0xdd, 0xee, 0xff];
const macHi = (m: number[]) => (m[0] << 8) | m[1];
const macLo = (m: number[]) => ((m[2] << 24) | (m[3] << 16) | (m[4] << 8) | m[5]) >>> 0;
const w4 = (s: string) => {
  const b = ip4(s);
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
};
const w6 = (s: string) => {
  const b = ip6(s);
  return [0, 1, 2, 3].map((i) => ((b[i * 4] << 24) | (b[i * 4 + 1] << 16) | (b[i * 4 + 2] << 8) | b[i * 4 + 3]) >>> 0);
};

const P4: Pseudo = { v6: false, src: '10.0.0.1', dst: '10.0.0.2' };
const P6: Pseudo = { v6: true, src: 'fe80::1', dst: 'fe80::2' };

function tcp4(src = '10.0.0.1', dst = '10.0.0.2', sp = 1234, dp = 80, o: { ttl?: number; tos?: number } = {}) {
  return eth(MAC_B, MAC_A, 0x0800, []).concat(ipv4(src, dst, 6, tcp({ v6: false, src, dst }, sp, dp, [1, 2, 3]), o));
}
function udp4(src = '10.0.0.1', dst = '10.0.0.2', sp = 53, dp = 5353, noCsum = false, o: { ttl?: number; tos?: number } = {}) {
  return eth(MAC_B, MAC_A, 0x0800).concat(ipv4(src, dst, 17, udp({ v6: false, src, dst }, sp, dp, [9, 8, 7, 6, 5], noCsum), o));
}
function l4v6(proto: 'tcp' | 'udp' | 'icmp6', src = 'fe80::1', dst = 'fe80::2', o: { hlim?: number; tclass?: number; label?: number } = {}) {
  const p: Pseudo = { v6: true, src, dst };
  const seg = proto === 'tcp' ? tcp(p, 1, 2, [5]) : proto === 'udp' ? udp(p, 3, 4, [6, 7]) : icmp6(p, 128, 0, [0, 1, 0, 1, 0xaa]);
  return eth(MAC_B, MAC_A, 0x86dd).concat(ipv6(src, dst, proto === 'tcp' ? 6 : proto === 'udp' ? 17 : 58, seg, o));
}

/** The common checks: exact expected bytes, checksums, key == re-extraction. */
function check(r: RunResult, expected: number[]) {
  expect(r.frame.toString('hex')).toBe(Buffer.from(expected).toString('hex'));
  expect(verifyChecksums(r.frame)).toEqual([]);
  const fresh = extractFresh(r.frame);
  expect(Array.from(r.key)).toEqual(Array.from(fresh.key));
  expect(Array.from(r.layout)).toEqual(Array.from(fresh.layout));
}

const set = (attr: SetAttr, w: Record<number, number>): DpAction => ({ type: 'set', attr, key: words(w) });
const setM = (attr: SetAttr, w: Record<number, number>, m: Record<number, number>): DpAction => ({
  type: 'set_masked',
  attr,
  key: words(w),
  mask: words(m),
});

describe('set(eth)', () => {
  it('rewrites both MACs', () => {
    const r = runActions(tcp4(), [set('eth', { [K.W_ETH_SRC_HI]: macHi(MAC_C), [K.W_ETH_SRC_LO]: macLo(MAC_C), [K.W_ETH_DST_HI]: macHi(MAC_A), [K.W_ETH_DST_LO]: macLo(MAC_A) }), { type: 'output', port: 2 }]);
    const exp = tcp4();
    exp.splice(0, 12, ...MAC_A, ...MAC_C);
    check(r, exp);
    expect(r.outputs).toEqual([{ port: 2, bytes: Buffer.from(exp) }]);
  });
  it('masked: only the low byte of the source', () => {
    const r = runActions(tcp4(), [setM('eth', { [K.W_ETH_SRC_LO]: 0x77 }, { [K.W_ETH_SRC_LO]: 0xff })]);
    const exp = tcp4();
    exp[11] = 0x77;
    check(r, exp);
  });
});

describe('set(ipv4)', () => {
  it('src/dst over TCP: IP and TCP checksums follow', () => {
    const r = runActions(tcp4(), [set('ipv4', { [K.W_NW_SRC]: w4('192.168.1.10'), [K.W_NW_DST]: w4('172.16.0.9'), [K.W_NW_PROTO_TOS_TTL_FRAG]: 64 << 8 })]);
    check(r, tcp4('192.168.1.10', '172.16.0.9'));
  });
  it('masked src prefix (set(ipv4(src=10.9.8.0/255.255.255.0)))', () => {
    const r = runActions(udp4(), [setM('ipv4', { [K.W_NW_SRC]: w4('10.9.8.0') }, { [K.W_NW_SRC]: 0xffffff00 })]);
    check(r, udp4('10.9.8.1'));
  });
  it('tos and ttl update the header checksum', () => {
    const r = runActions(udp4(), [setM('ipv4', { [K.W_NW_PROTO_TOS_TTL_FRAG]: (0xb8 << 16) | (7 << 8) }, { [K.W_NW_PROTO_TOS_TTL_FRAG]: 0x00ffff00 })]);
    check(r, udp4(undefined, undefined, undefined, undefined, false, { tos: 0xb8, ttl: 7 }));
  });
  it('UDP without checksum (0) keeps 0', () => {
    const r = runActions(udp4(undefined, undefined, 53, 5353, true), [setM('ipv4', { [K.W_NW_DST]: w4('1.2.3.4') }, { [K.W_NW_DST]: 0xffffffff })]);
    check(r, udp4('10.0.0.1', '1.2.3.4', 53, 5353, true));
    expect(r.frame.readUInt16BE(14 + 20 + 6)).toBe(0);
  });
  it('ICMP: no pseudo-header, ICMP checksum untouched', () => {
    const f = eth(MAC_B, MAC_A, 0x0800).concat(ipv4('10.0.0.1', '10.0.0.2', 1, icmp4(8, 0)));
    const r = runActions(f, [setM('ipv4', { [K.W_NW_SRC]: w4('8.8.8.8') }, { [K.W_NW_SRC]: 0xffffffff })]);
    check(r, eth(MAC_B, MAC_A, 0x0800).concat(ipv4('8.8.8.8', '10.0.0.2', 1, icmp4(8, 0))));
  });
  it('inside two VLAN tags', () => {
    const mk = (s: string) => eth(MAC_B, MAC_A, 0x0800, [[0x88a8, 100], [0x8100, 0x2000 | 20]]).concat(ipv4(s, '10.0.0.2', 6, tcp({ v6: false, src: s, dst: '10.0.0.2' }, 1, 2)));
    const r = runActions(mk('10.0.0.1'), [setM('ipv4', { [K.W_NW_SRC]: w4('10.0.0.99') }, { [K.W_NW_SRC]: 0xffffffff })]);
    check(r, mk('10.0.0.99'));
  });
  it('on a frame cut short inside the IPv4 header: left unchanged and counted', () => {
    const f = tcp4().slice(0, 14 + 16);
    const r = runActions(f, [set('ipv4', { [K.W_NW_SRC]: 1 }), set('tcp', { [K.W_TP_PORTS]: 1 }), { type: 'dec_ttl', actions: [] }, { type: 'output', port: 1 }]);
    expect(r.frame.toString('hex')).toBe(Buffer.from(f).toString('hex'));
    expect(r.stats.setSkipped).toBe(2);
    expect(r.outputs).toHaveLength(1);
  });
  it('on a non-IPv4 frame: left unchanged and counted', () => {
    const f = l4v6('tcp');
    const r = runActions(f, [setM('ipv4', { [K.W_NW_SRC]: 1 }, { [K.W_NW_SRC]: 0xffffffff })]);
    check(r, f);
    expect(r.stats.setSkipped).toBe(1);
  });
});

describe('set(ipv6)', () => {
  for (const proto of ['tcp', 'udp', 'icmp6'] as const) {
    it(`src/dst over ${proto}: pseudo-header checksum follows`, () => {
      const r = runActions(l4v6(proto), [
        setM('ipv6', Object.fromEntries([...w6('2001:db8::1').map((v, i) => [K.W_NW_SRC + i, v]), ...w6('2001:db8:ffff::abcd').map((v, i) => [K.W_NW_DST + i, v])]), Object.fromEntries(Array.from({ length: 8 }, (_, i) => [K.W_NW_SRC + i, 0xffffffff]))),
      ]);
      check(r, l4v6(proto, '2001:db8::1', '2001:db8:ffff::abcd'));
    });
  }
  it('tclass, label and hop limit (exact set with the current addresses)', () => {
    const w: Record<number, number> = {};
    w6('fe80::1').forEach((v, i) => (w[K.W_NW_SRC + i] = v));
    w6('fe80::2').forEach((v, i) => (w[K.W_NW_DST + i] = v));
    w[K.W_IPV6_LABEL] = 0xabcde;
    w[K.W_NW_PROTO_TOS_TTL_FRAG] = (6 << 24) | (0x28 << 16) | (3 << 8);
    const r = runActions(l4v6('tcp'), [set('ipv6', w)]);
    check(r, l4v6('tcp', 'fe80::1', 'fe80::2', { hlim: 3, tclass: 0x28, label: 0xabcde }));
  });
});

describe('set(tcp/udp/sctp)', () => {
  it('tcp ports', () => {
    const r = runActions(tcp4(), [set('tcp', { [K.W_TP_PORTS]: (4321 << 16) | 8080 })]);
    check(r, tcp4(undefined, undefined, 4321, 8080));
  });
  it('udp dst port only (masked)', () => {
    const r = runActions(udp4(), [setM('udp', { [K.W_TP_PORTS]: 53 }, { [K.W_TP_PORTS]: 0xffff })]);
    check(r, udp4(undefined, undefined, 53, 53));
  });
  it('udp over IPv6', () => {
    const f = l4v6('udp');
    const r = runActions(f, [set('udp', { [K.W_TP_PORTS]: (1000 << 16) | 2000 })]);
    const exp = eth(MAC_B, MAC_A, 0x86dd).concat(ipv6('fe80::1', 'fe80::2', 17, udp(P6, 1000, 2000, [6, 7])));
    check(r, exp);
  });
  it('sctp ports recompute CRC32c', () => {
    const mk = (s: number, d: number) => eth(MAC_B, MAC_A, 0x0800).concat(ipv4('10.0.0.1', '10.0.0.2', 132, sctp(s, d, [1, 2, 3, 4, 5, 6, 7, 8])));
    const r = runActions(mk(5000, 6000), [set('sctp', { [K.W_TP_PORTS]: (7000 << 16) | 9 })]);
    check(r, mk(7000, 9));
  });
  it('sctp with a wrong CRC stays wrong by the same error', () => {
    const mk = (s: number, d: number) => eth(MAC_B, MAC_A, 0x0800).concat(ipv4('10.0.0.1', '10.0.0.2', 132, sctp(s, d)));
    const f = mk(1, 2);
    f[14 + 20 + 8] ^= 0x5a;
    const r = runActions(f, [set('sctp', { [K.W_TP_PORTS]: (3 << 16) | 4 })]);
    const exp = mk(3, 4);
    exp[14 + 20 + 8] ^= 0x5a;
    expect(r.frame.toString('hex')).toBe(Buffer.from(exp).toString('hex'));
  });
  it('tcp set on a UDP frame is skipped and counted', () => {
    const f = udp4();
    const r = runActions(f, [set('tcp', { [K.W_TP_PORTS]: 1 })]);
    check(r, f);
    expect(r.stats.setSkipped).toBe(1);
  });
  it('a later fragment has no L4 header: skipped', () => {
    const f = eth(MAC_B, MAC_A, 0x0800).concat(ipv4('10.0.0.1', '10.0.0.2', 6, [1, 2, 3, 4, 5, 6, 7, 8], { frag: 0x0010 }));
    const r = runActions(f, [set('tcp', { [K.W_TP_PORTS]: 1 })]);
    check(r, f);
    expect(r.stats.setSkipped).toBe(1);
  });
});

describe('set(icmp/icmpv6)', () => {
  it('icmp type/code updates the ICMP checksum', () => {
    const mk = (t: number, c: number) => eth(MAC_B, MAC_A, 0x0800).concat(ipv4('10.0.0.1', '10.0.0.2', 1, icmp4(t, c)));
    const r = runActions(mk(8, 0), [set('icmp', { [K.W_TP_PORTS]: (0 << 16) | 3 })]);
    check(r, mk(0, 3));
  });
  it('icmpv6 type/code', () => {
    const mk = (t: number) => eth(MAC_B, MAC_A, 0x86dd).concat(ipv6('fe80::1', 'fe80::2', 58, icmp6(P6, t, 0, [0, 1, 0, 1, 0xaa])));
    const r = runActions(mk(128), [set('icmpv6', { [K.W_TP_PORTS]: 129 << 16 })]);
    check(r, mk(129));
  });
});

describe('rewrites that change what extraction sees', () => {
  it('icmpv6 echo -> neighbour solicitation: key gains the ND fields', () => {
    const Pn = { v6: true, src: 'fe80::1', dst: 'fe80::2' };
    const body = [0, 0, 0, 0, ...ip6('fe80::2'), 1, 1, ...MAC_A];
    const f = eth(MAC_B, MAC_A, 0x86dd).concat(ipv6('fe80::1', 'fe80::2', 58, icmp6(Pn, 128, 0, body), { hlim: 255 }));
    const r = runActions(f, [set('icmpv6', { [K.W_TP_PORTS]: 135 << 16 })]);
    check(r, eth(MAC_B, MAC_A, 0x86dd).concat(ipv6('fe80::1', 'fe80::2', 58, icmp6(Pn, 135, 0, body), { hlim: 255 })));
    expect(r.key[K.W_ARP_SHA_LO]).toBe(macLo(MAC_A));
  });
  it('set(mpls) clearing bottom of stack: key reads the next entry', () => {
    const f = eth(MAC_B, MAC_A, 0x8847).concat(mpls(16, 0, true, 10), mpls(17, 0, true, 11), [0x45, 0, 0, 20]);
    const r = runActions(f, [setM('mpls', { [K.W_MPLS0]: 0 }, { [K.W_MPLS0]: 0x100 })]);
    check(r, eth(MAC_B, MAC_A, 0x8847).concat(mpls(16, 0, false, 10), mpls(17, 0, true, 11), [0x45, 0, 0, 20]));
    expect(r.key[K.W_MPLS1]).toBe(((17 << 12) | 0x100 | 11) >>> 0);
  });
});

describe('set(arp) and set(nd)', () => {
  it('arp: every field', () => {
    const mk = (op: number, sha: number[], spa: string, tha: number[], tpa: string) => eth(MAC_B, MAC_A, 0x0806).concat(arp(op, sha, spa, tha, tpa));
    const r = runActions(mk(1, MAC_A, '10.0.0.1', [0, 0, 0, 0, 0, 0], '10.0.0.2'), [
      set('arp', {
        [K.W_NW_SRC]: w4('10.0.0.2'),
        [K.W_NW_DST]: w4('10.0.0.1'),
        [K.W_NW_PROTO_TOS_TTL_FRAG]: 2 << 24,
        [K.W_ARP_SHA_HI]: macHi(MAC_C),
        [K.W_ARP_SHA_LO]: macLo(MAC_C),
        [K.W_ARP_THA_HI]: macHi(MAC_A),
        [K.W_ARP_THA_LO]: macLo(MAC_A),
      }),
    ]);
    check(r, mk(2, MAC_C, '10.0.0.2', MAC_A, '10.0.0.1'));
  });
  it('nd: NS target and SLL', () => {
    const mk = (target: string, sll: number[]) => eth(MAC_B, MAC_A, 0x86dd).concat(ipv6('fe80::1', 'ff02::1:ff00:2', 58, nd({ v6: true, src: 'fe80::1', dst: 'ff02::1:ff00:2' }, 135, target, sll), { hlim: 255 }));
    const w: Record<number, number> = { [K.W_ARP_SHA_HI]: macHi(MAC_C), [K.W_ARP_SHA_LO]: macLo(MAC_C) };
    w6('fe80::99').forEach((v, i) => (w[K.W_ND_TARGET + i] = v));
    const r = runActions(mk('fe80::2', MAC_A), [set('nd', w)]);
    check(r, mk('fe80::99', MAC_C));
  });
  it('nd: NA TLL only (masked)', () => {
    const mk = (tll: number[]) => eth(MAC_B, MAC_A, 0x86dd).concat(ipv6('fe80::2', 'fe80::1', 58, nd({ v6: true, src: 'fe80::2', dst: 'fe80::1' }, 136, 'fe80::2', tll), { hlim: 255 }));
    const r = runActions(mk(MAC_B), [setM('nd', { [K.W_ARP_THA_HI]: macHi(MAC_C), [K.W_ARP_THA_LO]: macLo(MAC_C) }, { [K.W_ARP_THA_HI]: 0xffff, [K.W_ARP_THA_LO]: 0xffffffff })]);
    check(r, mk(MAC_C));
  });
});

describe('VLAN push/pop', () => {
  it('push_vlan inserts the outermost tag; pop_vlan restores the bytes', () => {
    const f = tcp4();
    const r = runActions(f, [{ type: 'push_vlan', tpid: 0x8100, tci: 0x1000 | (5 << 13) | 10 }, { type: 'output', port: 1 }, { type: 'pop_vlan' }, { type: 'output', port: 2 }]);
    const tagged = eth(MAC_B, MAC_A, 0x0800, [[0x8100, (5 << 13) | 10]]).concat(tcp4().slice(14));
    expect(r.outputs[0].bytes.toString('hex')).toBe(Buffer.from(tagged).toString('hex'));
    check(r, f);
  });
  it('two pushes make 802.1ad over 802.1Q, key and layout follow', () => {
    const r = runActions(tcp4(), [
      { type: 'push_vlan', tpid: 0x8100, tci: 0x1000 | 20 },
      { type: 'push_vlan', tpid: 0x88a8, tci: 0x1000 | 300 },
    ]);
    const exp = eth(MAC_B, MAC_A, 0x0800, [[0x88a8, 300], [0x8100, 20]]).concat(tcp4().slice(14));
    check(r, exp);
    expect(r.key[K.W_VLAN0]).toBe(((0x88a8 << 16) | 0x1000 | 300) >>> 0);
    expect(r.key[K.W_VLAN1]).toBe(((0x8100 << 16) | 0x1000 | 20) >>> 0);
  });
  it('a third tag hides L3, like extraction', () => {
    const f = eth(MAC_B, MAC_A, 0x0800, [[0x88a8, 1], [0x8100, 2]]).concat(tcp4().slice(14));
    const r = runActions(f, [{ type: 'push_vlan', tpid: 0x8100, tci: 0x1003 }]);
    check(r, eth(MAC_B, MAC_A, 0x0800, [[0x8100, 3], [0x88a8, 1], [0x8100, 2]]).concat(tcp4().slice(14)));
    expect(r.key[K.W_ETH_TYPE]).toBe(0x8100);
  });
  it('pop on an untagged frame is counted and changes nothing', () => {
    const r = runActions(tcp4(), [{ type: 'pop_vlan' }]);
    check(r, tcp4());
    expect(r.stats.popSkipped).toBe(1);
  });
  it('push without headroom moves the frame up instead', () => {
    const r = runActions(tcp4(), [{ type: 'push_vlan', tpid: 0x8100, tci: 0x1007 }], [], false);
    check(r, eth(MAC_B, MAC_A, 0x0800, [[0x8100, 7]]).concat(tcp4().slice(14)));
  });
  it('then set(ipv4) uses the shifted layout', () => {
    const r = runActions(tcp4(), [{ type: 'push_vlan', tpid: 0x8100, tci: 0x1007 }, set('ipv4', { [K.W_NW_SRC]: w4('1.1.1.1'), [K.W_NW_DST]: w4('10.0.0.2'), [K.W_NW_PROTO_TOS_TTL_FRAG]: 64 << 8 })]);
    check(r, eth(MAC_B, MAC_A, 0x0800, [[0x8100, 7]]).concat(tcp4('1.1.1.1').slice(14)));
  });
});

describe('MPLS push/pop/set', () => {
  it('push_mpls after the VLAN tag, pop_mpls restores', () => {
    const f = eth(MAC_B, MAC_A, 0x0800, [[0x8100, 10]]).concat(tcp4().slice(14));
    const lse = ((100 << 12) | 0x100 | 64) >>> 0;
    const r = runActions(f, [{ type: 'push_mpls', lse, ethertype: 0x8847 }, { type: 'output', port: 1 }, { type: 'pop_mpls', ethertype: 0x0800 }]);
    const pushed = eth(MAC_B, MAC_A, 0x8847, [[0x8100, 10]]).concat(mpls(100, 0, true, 64), tcp4().slice(14));
    expect(r.outputs[0].bytes.toString('hex')).toBe(Buffer.from(pushed).toString('hex'));
    check(r, f);
  });
  it('push on an MPLS stack goes on top; set(mpls) rewrites the top entry', () => {
    const f = eth(MAC_B, MAC_A, 0x8847).concat(mpls(16, 0, true, 10), [0x45, 0, 0, 20]);
    const r = runActions(f, [
      { type: 'push_mpls', lse: ((17 << 12) | 9) >>> 0, ethertype: 0x8847 },
      setM('mpls', { [K.W_MPLS0]: 33 }, { [K.W_MPLS0]: 0xff }),
    ]);
    check(r, eth(MAC_B, MAC_A, 0x8847).concat(mpls(17, 0, false, 33), mpls(16, 0, true, 10), [0x45, 0, 0, 20]));
    expect(r.key[K.W_MPLS1]).toBe(((16 << 12) | 0x100 | 10) >>> 0);
  });
  it('pop_mpls of a padded 60-byte frame keeps the Ethernet minimum with zero padding', () => {
    const ip = ipv4('10.0.0.1', '10.0.0.2', 1, [8, 0, 0xf7, 0xff, 0, 0, 0, 0]); // 28-byte ICMP echo
    const padded = eth(MAC_B, MAC_A, 0x8847).concat(mpls(16, 0, true, 10), ip);
    const f = padded.concat(new Array(60 - padded.length).fill(0xee));
    const r = runActions(f, [{ type: 'pop_mpls', ethertype: 0x0800 }]);
    const want = eth(MAC_B, MAC_A, 0x0800).concat(ip, new Array(60 - padded.length).fill(0xee));
    expect(r.frame.toString('hex')).toBe(Buffer.from(want.concat(new Array(60 - want.length).fill(0))).toString('hex'));
  });
  it('pop_mpls of the last entry exposes IPv4 again in the key', () => {
    const f = eth(MAC_B, MAC_A, 0x8847).concat(mpls(16, 0, true, 10), tcp4().slice(14));
    const r = runActions(f, [{ type: 'pop_mpls', ethertype: 0x0800 }]);
    check(r, tcp4());
    expect(r.key[K.W_NW_SRC]).toBe(w4('10.0.0.1'));
  });
});

describe('set ip_proto (masked set only)', () => {
  it('IPv4: protocol byte, IP checksum and the TCP checksum\'s pseudo header; the key re-reads L4 as UDP', () => {
    const f = tcp4();
    const r = runActions(f, [setM('ipv4', { [K.W_NW_PROTO_TOS_TTL_FRAG]: 17 << 24 }, { [K.W_NW_PROTO_TOS_TTL_FRAG]: 0xff000000 })]);
    const want = tcp4().slice();
    want[14 + 9] = 17;
    expect(r.key[K.W_NW_PROTO_TOS_TTL_FRAG] >>> 24).toBe(17);
    // Expected: IPv4 checksum recomputed, TCP checksum over a pseudo header saying 17 (as a sender building this frame would).
    const b = Buffer.from(want);
    b.writeUInt16BE(0, 24);
    let sum = 0;
    for (let i = 14; i < 34; i += 2) sum += b.readUInt16BE(i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    b.writeUInt16BE(~sum & 0xffff, 24);
    const seg = b.subarray(34);
    const ck = 34 + 16;
    b.writeUInt16BE(0, ck);
    sum = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 17 + seg.length;
    for (let i = 0; i < seg.length; i += 2) sum += (seg[i]! << 8) | (seg[i + 1] ?? 0);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    b.writeUInt16BE(~sum & 0xffff, ck);
    expect(r.frame.toString('hex')).toBe(b.toString('hex'));
  });
  it('IPv6: next header byte and the checksum follow; an exact set() never writes it', () => {
    const r = runActions(l4v6('tcp'), [setM('ipv6', { [K.W_NW_PROTO_TOS_TTL_FRAG]: 17 << 24 }, { [K.W_NW_PROTO_TOS_TTL_FRAG]: 0xff000000 })]);
    expect(r.frame[14 + 6]).toBe(17);
    expect(r.key[K.W_NW_PROTO_TOS_TTL_FRAG] >>> 24).toBe(17);
    // The TCP checksum moved by exactly the pseudo header's 6 -> 17 (one's complement: -11 on the stored sum).
    const at = 14 + 40 + 16;
    const before = Buffer.from(l4v6('tcp')).readUInt16BE(at);
    let want = (before + 0xffff - 11) % 0xffff;
    if (want === 0) want = 0xffff;
    expect(r.frame.readUInt16BE(at)).toBe(want);
    const exact = runActions(l4v6('tcp'), [{ type: 'set', attr: 'ipv6', key: extractFresh(Buffer.from(l4v6('udp'))).key }]);
    expect(exact.frame[14 + 6]).toBe(6);
  });
});

describe('copy_ttl_in', () => {
  it('label TTL into the IPv4 TTL (checksum fixed) or IPv6 hop limit behind a bottom-of-stack label', () => {
    const v4 = eth(MAC_B, MAC_A, 0x8847).concat(mpls(16, 0, true, 64), tcp4(undefined, undefined, undefined, undefined, { ttl: 32 }).slice(14));
    check(runActions(v4, [{ type: 'copy_ttl_in' }]), eth(MAC_B, MAC_A, 0x8847).concat(mpls(16, 0, true, 64), tcp4(undefined, undefined, undefined, undefined, { ttl: 64 }).slice(14)));
    const v6 = eth(MAC_B, MAC_A, 0x8847).concat(mpls(16, 0, true, 9), l4v6('udp', undefined, undefined, { hlim: 200 }).slice(14));
    check(runActions(v6, [{ type: 'copy_ttl_in' }]), eth(MAC_B, MAC_A, 0x8847).concat(mpls(16, 0, true, 9), l4v6('udp', undefined, undefined, { hlim: 9 }).slice(14)));
    // Not bottom of stack: left alone.
    const two = eth(MAC_B, MAC_A, 0x8847).concat(mpls(17, 0, false, 5), mpls(16, 0, true, 64), tcp4().slice(14));
    check(runActions(two, [{ type: 'copy_ttl_in' }]), two);
  });
});

describe('set_eth_type', () => {
  it('rewrites the ethertype after the VLAN tags; the key re-reads the headers as that type', () => {
    const f = eth(MAC_B, MAC_A, 0x0800, [[0x8100, 10]]).concat(tcp4().slice(14));
    const r = runActions(f, [{ type: 'set_eth_type', ethertype: 0x8848 }]);
    const want = eth(MAC_B, MAC_A, 0x8848, [[0x8100, 10]]).concat(tcp4().slice(14));
    expect(r.frame.toString('hex')).toBe(Buffer.from(want).toString('hex'));
    expect(r.key[K.W_ETH_TYPE]).toBe(0x8848);
    expect(r.key[K.W_NW_SRC]).toBe(0);
    expect(r.key[K.W_MPLS0]).toBe(extractFresh(Buffer.from(want)).key[K.W_MPLS0]);
  });
});

describe('PBB push/pop', () => {
  const itag = (isid: number) => [0, (isid >>> 16) & 0xff, (isid >>> 8) & 0xff, isid & 0xff];
  it('push_pbb wraps the frame in B-DA/B-SA (copied), 0x88e7 and the I-TAG; the key holds the I-TAG', () => {
    const f = eth(MAC_B, MAC_A, 0x0800, [[0x8100, 10]]).concat(tcp4().slice(14));
    const r = runActions(f, [{ type: 'push_pbb', itag: 0x64 }, { type: 'output', port: 1 }, { type: 'push_pbb', itag: 0 }]);
    const once = eth(MAC_B, MAC_A, 0x88e7).concat(itag(0x64), f);
    expect(r.outputs[0].bytes.toString('hex')).toBe(Buffer.from(once).toString('hex'));
    check(r, eth(MAC_B, MAC_A, 0x88e7).concat(itag(0), once));
    expect(r.key[K.W_ETH_TYPE]).toBe(0x88e7);
    expect(r.key[K.W_PBB_ITAG]).toBe(0);
    expect(extractFresh(Buffer.from(once)).key[K.W_PBB_ITAG]).toBe(0x64);
  });
  it('pop_pbb leaves the customer frame, also behind a B-TAG; a non-PBB frame is left alone', () => {
    const inner = eth(MAC_A, MAC_C, 0x0800, [[0x88a8, 10], [0x8100, 100]]).concat(tcp4().slice(14));
    check(runActions(eth(MAC_B, MAC_A, 0x88e7).concat(itag(100), inner), [{ type: 'pop_pbb' }]), inner);
    check(runActions(eth(MAC_B, MAC_A, 0x88e7, [[0x88a8, 5]]).concat(itag(100), inner), [{ type: 'pop_pbb' }]), inner);
    const r = runActions(tcp4(), [{ type: 'pop_pbb' }]);
    check(r, tcp4());
  });
});

describe('dec_ttl', () => {
  it('decrements IPv4 TTL with checksum', () => {
    const r = runActions(tcp4(undefined, undefined, undefined, undefined, { ttl: 9 }), [{ type: 'dec_ttl', actions: [{ type: 'output', port: 9 }] }, { type: 'output', port: 1 }]);
    check(r, tcp4(undefined, undefined, undefined, undefined, { ttl: 8 }));
    expect(r.outputs.map((o) => o.port)).toEqual([1]);
  });
  it('decrements IPv6 hop limit', () => {
    const r = runActions(l4v6('udp', undefined, undefined, { hlim: 2 }), [{ type: 'dec_ttl', actions: [] }]);
    check(r, l4v6('udp', undefined, undefined, { hlim: 1 }));
  });
  it('TTL 1: runs the expiry actions and stops the packet', () => {
    const f = tcp4(undefined, undefined, undefined, undefined, { ttl: 1 });
    const r = runActions(f, [{ type: 'dec_ttl', actions: [{ type: 'userspace', pid: 0, cookie: Uint8Array.of(1, 2) }] }, { type: 'output', port: 1 }]);
    expect(r.ok).toBe(false);
    expect(r.outputs).toEqual([]);
    expect(r.upcalls).toHaveLength(1);
    expect(Array.from(r.upcalls[0].cookie!)).toEqual([1, 2]);
    expect(r.stats.ttlExpired).toBe(1);
    check(r, f);
  });
  it('non-IP frames pass unchanged', () => {
    const f = eth(MAC_B, MAC_A, 0x0806).concat(arp(1, MAC_A, '1.1.1.1', MAC_B, '2.2.2.2'));
    const r = runActions(f, [{ type: 'dec_ttl', actions: [] }, { type: 'output', port: 3 }]);
    check(r, f);
    expect(r.outputs).toHaveLength(1);
  });
});

describe('sample, clone, truncate, userspace', () => {
  const rewrite = set('tcp', { [K.W_TP_PORTS]: (1 << 16) | 1 });
  it('sample runs its actions with the given probability, on a copy', () => {
    const acts: DpAction[] = [{ type: 'sample', probability: 0x80000000, actions: [rewrite, { type: 'output', port: 7 }] }, { type: 'output', port: 1 }];
    const hit = runActions(tcp4(), acts, [0x7fffffff]);
    expect(hit.outputs.map((o) => o.port)).toEqual([7, 1]);
    expect(hit.outputs[0].bytes.toString('hex')).toBe(Buffer.from(tcp4(undefined, undefined, 1, 1)).toString('hex'));
    check(hit, tcp4());
    const miss = runActions(tcp4(), acts, [0x80000000]);
    expect(miss.outputs.map((o) => o.port)).toEqual([1]);
    expect(hit.stats.sampled).toBe(1);
  });
  it('sample 100% ignores random; 0% never samples', () => {
    expect(runActions(tcp4(), [{ type: 'sample', probability: 0xffffffff, actions: [{ type: 'output', port: 4 }] }], [0xffffffff]).outputs).toHaveLength(1);
    expect(runActions(tcp4(), [{ type: 'sample', probability: 0, actions: [{ type: 'output', port: 4 }] }], [0]).outputs).toHaveLength(0);
  });
  it('clone leaves the outer packet unchanged', () => {
    const r = runActions(tcp4(), [
      { type: 'clone', actions: [{ type: 'push_vlan', tpid: 0x8100, tci: 0x1001 }, rewrite, { type: 'output', port: 5 }] },
      { type: 'output', port: 6 },
    ]);
    expect(r.outputs[0].bytes.toString('hex')).toBe(Buffer.from(eth(MAC_B, MAC_A, 0x0800, [[0x8100, 1]]).concat(tcp4(undefined, undefined, 1, 1).slice(14))).toString('hex'));
    expect(r.outputs[1].bytes.toString('hex')).toBe(Buffer.from(tcp4()).toString('hex'));
    check(r, tcp4());
  });
  it('nested clones and a dec_ttl expiry inside a clone stop only the clone', () => {
    const f = tcp4(undefined, undefined, undefined, undefined, { ttl: 1 });
    const r = runActions(f, [
      { type: 'clone', actions: [{ type: 'clone', actions: [{ type: 'output', port: 1 }] }, { type: 'dec_ttl', actions: [{ type: 'output', port: 2 }] }, { type: 'output', port: 3 }] },
      { type: 'output', port: 4 },
    ]);
    expect(r.outputs.map((o) => o.port)).toEqual([1, 2, 4]);
    expect(r.ok).toBe(true);
  });
  it('clone as the last action works in place', () => {
    const r = runActions(tcp4(), [{ type: 'output', port: 1 }, { type: 'clone', actions: [rewrite, { type: 'output', port: 2 }] }]);
    expect(r.outputs[1].bytes.toString('hex')).toBe(Buffer.from(tcp4(undefined, undefined, 1, 1)).toString('hex'));
  });
  it('truncate limits the next output only, not the packet', () => {
    const f = tcp4();
    const r = runActions(f, [{ type: 'truncate', maxLen: 20 }, { type: 'output', port: 1 }, { type: 'output', port: 2 }, { type: 'truncate', maxLen: 1000 }, { type: 'output', port: 3 }]);
    expect(r.outputs.map((o) => o.bytes.length)).toEqual([20, f.length, f.length]);
    expect(r.outputs[0].bytes.toString('hex')).toBe(Buffer.from(f.slice(0, 20)).toString('hex'));
    check(r, f);
  });
  it('userspace gets in_port, cookie, pid and the current key', () => {
    const r = runActions(tcp4(), [rewrite, { type: 'userspace', pid: 42 }]);
    expect(r.upcalls).toHaveLength(1);
    expect(r.upcalls[0]).toMatchObject({ inPort: 1, cookie: null, pid: 42 });
    expect(r.upcalls[0].key[K.W_TP_PORTS]).toBe((1 << 16) | 1);
  });
  it('empty list drops', () => {
    const r = runActions(tcp4(), []);
    expect(r.outputs).toEqual([]);
    expect(r.ok).toBe(true);
  });
});

describe('randomised: sets keep checksums valid and the key equal to re-extraction', () => {
  it('500 random masked rewrites over TCP/UDP/ICMP, v4 and v6, with and without VLANs', () => {
    let seed = 12345;
    const rnd = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    const attrsFor: Record<string, SetAttr[]> = { tcp4: ['eth', 'ipv4', 'tcp'], udp4: ['eth', 'ipv4', 'udp'], tcp6: ['ipv6', 'tcp'], udp6: ['ipv6', 'udp'], icmp6: ['ipv6', 'icmpv6'] };
    const writable: Record<string, [number, number][]> = {
      eth: [[K.W_ETH_DST_HI, 0xffff], [K.W_ETH_DST_LO, 0xffffffff], [K.W_ETH_SRC_HI, 0xfeff], [K.W_ETH_SRC_LO, 0xffffffff]],
      ipv4: [[K.W_NW_SRC, 0xffffffff], [K.W_NW_DST, 0xffffffff], [K.W_NW_PROTO_TOS_TTL_FRAG, 0x00ffff00]],
      ipv6: [...[0, 1, 2, 3].map((i) => [K.W_NW_SRC + i, 0xffffffff] as [number, number]), ...[0, 1, 2, 3].map((i) => [K.W_NW_DST + i, 0xffffffff] as [number, number]), [K.W_IPV6_LABEL, 0xfffff], [K.W_NW_PROTO_TOS_TTL_FRAG, 0x00ffff00]],
      tcp: [[K.W_TP_PORTS, 0xffffffff]],
      udp: [[K.W_TP_PORTS, 0xffffffff]],
      icmpv6: [[K.W_TP_PORTS, 0x00ff00ff]],
    };
    for (let n = 0; n < 500; n++) {
      const kind = Object.keys(attrsFor)[rnd() % 5];
      let f = kind === 'tcp4' ? tcp4() : kind === 'udp4' ? udp4(undefined, undefined, 1, 2, rnd() % 2 === 0) : l4v6(kind === 'tcp6' ? 'tcp' : kind === 'udp6' ? 'udp' : 'icmp6');
      if (rnd() % 2) f = f.slice(0, 12).concat([0x81, 0, 0, 5], f.slice(12));
      const acts: DpAction[] = [];
      for (let a = 0; a < 3; a++) {
        const attr = attrsFor[kind][rnd() % attrsFor[kind].length];
        const v: Record<number, number> = {};
        const m: Record<number, number> = {};
        for (const [w, bits] of writable[attr]) {
          v[w] = rnd() & bits;
          m[w] = rnd() & bits;
        }
        // Now and then land exactly on an ND type (the executor re-extracts then).
        if (attr === 'icmpv6' && rnd() % 4 === 0) {
          v[K.W_TP_PORTS] = (135 + (rnd() % 2)) << 16;
          m[K.W_TP_PORTS] = 0x00ff00ff;
        }
        acts.push(setM(attr, v, m));
      }
      if (rnd() % 3 === 0) acts.push({ type: 'dec_ttl', actions: [] });
      const r = runActions(f, acts);
      expect(verifyChecksums(r.frame)).toEqual([]);
      const fresh = extractFresh(r.frame);
      if (r.ok) expect(Array.from(r.key)).toEqual(Array.from(fresh.key));
    }
  });
});
