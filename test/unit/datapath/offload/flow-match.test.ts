// The offload's classic BPF match, run in the test's cBPF interpreter against
// a corpus of frames: a compiled megaflow may accept only frames the megaflow
// matches in user space (never more), and must accept every eligible frame
// (untagged, IHL 5, no IPv6 extension headers) that it matches.
import { describe, expect, it } from 'vitest';
import { Megaflow } from '../../../../datapath/cache/megaflow.js';
import { runCbpf, toSockFilterBytes, toTcBytecode, BPF_MAXINSNS } from '../../../../datapath/offload/cbpf.js';
import { compileMatch, dropProgram, matchProgram } from '../../../../datapath/offload/flow-match.js';
import { extractFlow } from '../../../../datapath/flow/extract.js';
import * as K from '../../../../datapath/flow/key.js';
import { arp, eth, icmp4, icmp6, ipv4, ipv6, mpls, nd, sctp, tcp, udp } from '../../../helpers/frames.js';

const A = [0x02, 0, 0, 0, 0, 1];
const B = [0x02, 0, 0, 0, 0, 2];
const BC = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
const p4 = { v6: false, src: '10.0.0.1', dst: '10.0.0.2' };
const p6 = { v6: true, src: 'fd00::1', dst: 'fd00::2' };

function frames(): { name: string; bytes: Uint8Array; eligible: boolean }[] {
  const f: { name: string; bytes: number[]; eligible?: boolean }[] = [
    { name: 'icmp echo', bytes: [...eth(B, A, 0x0800), ...ipv4('10.0.0.1', '10.0.0.2', 1, icmp4(8, 0))] },
    { name: 'icmp reply', bytes: [...eth(A, B, 0x0800), ...ipv4('10.0.0.2', '10.0.0.1', 1, icmp4(0, 0))] },
    { name: 'tcp syn', bytes: [...eth(B, A, 0x0800), ...ipv4('10.0.0.1', '10.0.0.2', 6, tcp(p4, 1234, 80))] },
    { name: 'tcp ack tos ttl', bytes: [...eth(B, A, 0x0800), ...ipv4('10.0.0.1', '10.0.0.2', 6, tcp(p4, 1234, 80, [1, 2, 3], 0x10), { tos: 0xb8, ttl: 9 })] },
    { name: 'udp', bytes: [...eth(B, A, 0x0800), ...ipv4('10.0.0.1', '10.0.0.3', 17, udp(p4, 53, 5353, [1, 2]))] },
    { name: 'udp padded', bytes: [...eth(B, A, 0x0800), ...ipv4('10.0.0.1', '10.0.0.3', 17, udp(p4, 53, 5353, [1])), ...new Array(20).fill(0)] },
    { name: 'sctp', bytes: [...eth(B, A, 0x0800), ...ipv4('10.0.0.1', '10.0.0.2', 132, sctp(9, 10))] },
    { name: 'first fragment', bytes: [...eth(B, A, 0x0800), ...ipv4('10.0.0.1', '10.0.0.2', 17, udp(p4, 53, 5353, [1, 2]), { frag: 0x2000 })] },
    { name: 'later fragment', bytes: [...eth(B, A, 0x0800), ...ipv4('10.0.0.1', '10.0.0.2', 17, [0, 53, 0x14, 0xe9, 0, 10, 0, 0, 1, 2], { frag: 0x0001 })], eligible: false },
    { name: 'arp request', bytes: [...eth(BC, A, 0x0806), ...arp(1, A, '10.0.0.1', [0, 0, 0, 0, 0, 0], '10.0.0.2')] },
    { name: 'arp reply', bytes: [...eth(A, B, 0x0806), ...arp(2, B, '10.0.0.2', A, '10.0.0.1')] },
    { name: 'arp big opcode', bytes: [...eth(A, B, 0x0806), ...arp(0x102, B, '10.0.0.2', A, '10.0.0.1')], eligible: false },
    { name: 'ipv6 tcp', bytes: [...eth(B, A, 0x86dd), ...ipv6('fd00::1', 'fd00::2', 6, tcp(p6, 1, 2), { tclass: 0x20, label: 0x12345, hlim: 7 })] },
    { name: 'ipv6 udp', bytes: [...eth(B, A, 0x86dd), ...ipv6('fd00::1', 'fd00::2', 17, udp(p6, 3, 4))] },
    { name: 'ipv6 icmp echo', bytes: [...eth(B, A, 0x86dd), ...ipv6('fd00::1', 'fd00::2', 58, icmp6(p6, 128, 0))] },
    { name: 'ipv6 ns', bytes: [...eth(BC, A, 0x86dd), ...ipv6('fd00::1', 'ff02::1:ff00:2', 58, nd(p6, 135, 'fd00::2', A))] },
    { name: 'lldp-ish other type', bytes: [...eth(B, A, 0x88cc), 1, 2, 3, 4, ...new Array(40).fill(0)] },
    // Not eligible (stay in user space when the flow looks at what makes them odd):
    { name: 'vlan icmp', bytes: [...eth(B, A, 0x0800, [[0x8100, 10]]), ...ipv4('10.0.0.1', '10.0.0.2', 1, icmp4(8, 0))], eligible: false },
    { name: 'qinq', bytes: [...eth(B, A, 0x0800, [[0x88a8, 10], [0x8100, 20]]), ...ipv4('10.0.0.1', '10.0.0.2', 1, icmp4(8, 0))], eligible: false },
    { name: 'mpls', bytes: [...eth(B, A, 0x8847), ...mpls(5, 0, true, 64), ...ipv4('10.0.0.1', '10.0.0.2', 1, icmp4(8, 0))] },
    { name: '802.3 llc', bytes: [...eth(B, A, 0x0030), 0x42, 0x42, 3, ...new Array(45).fill(0)] },
    { name: 'ipv6 hop-by-hop', bytes: [...eth(B, A, 0x86dd), ...ipv6('fd00::1', 'fd00::2', 0, [6, 0, 1, 4, 0, 0, 0, 0, ...tcp(p6, 1, 2)])], eligible: false },
    { name: 'truncated ipv4', bytes: [...eth(B, A, 0x0800), 0x45, 0, 0, 40, 0, 0], eligible: false },
    { name: 'ipv4 bad totlen', bytes: [...eth(B, A, 0x0800), ...ipv4('10.0.0.1', '10.0.0.2', 1, icmp4(8, 0))].map((b, i) => (i === 17 ? 200 : b)), eligible: false },
    { name: 'tcp bad doff', bytes: [...eth(B, A, 0x0800), ...ipv4('10.0.0.1', '10.0.0.2', 6, tcp(p4, 1234, 80))].map((b, i) => (i === 46 ? 0x30 : b)), eligible: false },
    { name: 'truncated arp', bytes: [...eth(BC, A, 0x0806), ...arp(1, A, '10.0.0.1', [0, 0, 0, 0, 0, 0], '10.0.0.2').slice(0, 20)], eligible: false },
  ];
  // IPv4 with options (IHL 6): user space parses it; the offload leaves it there.
  const opt = ipv4('10.0.0.1', '10.0.0.2', 1, icmp4(8, 0));
  const withOpt = [0x46, ...opt.slice(1, 20), 1, 1, 1, 1, ...opt.slice(20)];
  withOpt[3] += 4;
  f.push({ name: 'ipv4 options', bytes: [...eth(B, A, 0x0800), ...withOpt], eligible: false });
  return f.map((x) => ({ name: x.name, bytes: Uint8Array.from(x.bytes), eligible: x.eligible ?? true }));
}

function keyOf(bytes: Uint8Array, inPort = 1): Uint32Array {
  const key = K.newKey();
  extractFlow(bytes, 0, bytes.length, inPort, key, K.newLayout());
  return key;
}

/** Masks like the ones xlate produces, from L2-only (NORMAL) to exact. */
function masks(): { name: string; mask: Uint32Array }[] {
  const out: { name: string; mask: Uint32Array }[] = [];
  const mk = (name: string, words: [number, number][]) => {
    const m = K.newKey();
    m[K.W_IN_PORT] = 0xffffffff;
    for (const [w, v] of words) m[w] = v >>> 0;
    out.push({ name, mask: m });
  };
  const F = 0xffffffff;
  mk('in_port only', []);
  mk('normal l2', [[K.W_ETH_DST_HI, 0xffff], [K.W_ETH_DST_LO, F], [K.W_ETH_SRC_HI, 0xffff], [K.W_ETH_SRC_LO, F], [K.W_VLAN0, F]]);
  mk('dst multicast bit', [[K.W_ETH_DST_HI, 0x0100], [K.W_VLAN0, 0x1fff]]);
  mk('eth_type', [[K.W_ETH_TYPE, 0xffff]]);
  mk('nw_dst /24', [[K.W_ETH_TYPE, 0xffff], [K.W_NW_DST, 0xffffff00]]);
  mk('nw exact', [[K.W_ETH_TYPE, 0xffff], [K.W_NW_SRC, F], [K.W_NW_DST, F], [K.W_NW_PROTO_TOS_TTL_FRAG, F]]);
  mk('proto + frag', [[K.W_ETH_TYPE, 0xffff], [K.W_NW_PROTO_TOS_TTL_FRAG, K.MASK_NW_PROTO | K.MASK_NW_FRAG]]);
  mk('tos dscp', [[K.W_ETH_TYPE, 0xffff], [K.W_NW_PROTO_TOS_TTL_FRAG, 0x00fc0000]]);
  mk('tp_dst', [[K.W_ETH_TYPE, 0xffff], [K.W_NW_PROTO_TOS_TTL_FRAG, K.MASK_NW_PROTO | K.MASK_NW_FRAG], [K.W_TP_PORTS, K.MASK_TP_DST]]);
  mk('tp both + flags', [[K.W_ETH_TYPE, 0xffff], [K.W_NW_PROTO_TOS_TTL_FRAG, K.MASK_NW_PROTO], [K.W_TP_PORTS, F], [K.W_TCP_FLAGS, 0xfff]]);
  mk('icmp type only', [[K.W_ETH_TYPE, 0xffff], [K.W_NW_PROTO_TOS_TTL_FRAG, K.MASK_NW_PROTO], [K.W_TP_PORTS, K.MASK_TP_SRC]]);
  mk('arp fields', [[K.W_ETH_TYPE, 0xffff], [K.W_NW_SRC, F], [K.W_NW_DST, F], [K.W_NW_PROTO_TOS_TTL_FRAG, K.MASK_NW_PROTO], [K.W_ARP_SHA_HI, 0xffff], [K.W_ARP_SHA_LO, F], [K.W_ARP_THA_HI, 0xffff], [K.W_ARP_THA_LO, F]]);
  mk('ipv6 addrs', [[K.W_ETH_TYPE, 0xffff], [K.W_NW_SRC, F], [K.W_NW_SRC + 1, F], [K.W_NW_SRC + 2, F], [K.W_NW_SRC + 3, F], [K.W_NW_DST, F], [K.W_NW_DST + 3, 0xffff0000]]);
  mk('ipv6 label tclass hlim', [[K.W_ETH_TYPE, 0xffff], [K.W_IPV6_LABEL, 0xfffff], [K.W_NW_PROTO_TOS_TTL_FRAG, F]]);
  mk('ipv6 exthdr', [[K.W_ETH_TYPE, 0xffff], [K.W_IPV6_LABEL, K.MASK_IPV6_EXTHDR], [K.W_NW_PROTO_TOS_TTL_FRAG, K.MASK_NW_PROTO]]);
  mk('mpls label', [[K.W_ETH_TYPE, 0xffff], [K.W_MPLS0, 0xfffff000]]);
  mk('skb_mark', [[K.W_SKB_MARK, F], [K.W_ETH_TYPE, 0xffff]]);
  const exact = K.newKey().fill(0xffffffff);
  out.push({ name: 'exact', mask: exact });
  return out;
}

describe('offload match compiler', () => {
  const corpus = frames();

  it('accepts a frame only if the megaflow matches it, and every eligible frame the megaflow matches', () => {
    let compiled = 0;
    let accepted = 0;
    for (const src of corpus) {
      for (const { name: mname, mask } of masks()) {
        const flow = new Megaflow(keyOf(src.bytes), mask, null);
        const m = compileMatch(flow.key, flow.mask);
        if (!m.ok) continue;
        compiled++;
        const prog = matchProgram(m.insns);
        expect(prog.length).toBeLessThanOrEqual(BPF_MAXINSNS);
        for (const fr of corpus) {
          const userMatch = flow.matches(keyOf(fr.bytes));
          const hit = runCbpf(prog, fr.bytes) !== 0;
          const what = `flow from "${src.name}" mask "${mname}" vs frame "${fr.name}"`;
          if (hit) {
            accepted++;
            expect(userMatch, `${what}: kernel accepts what user space would not`).toBe(true);
            expect(fr.name.startsWith('vlan') || fr.name === 'qinq', `${what}: a tagged frame was accepted`).toBe(false);
            // A tag the kernel stripped into skb metadata keeps the frame in user space.
            expect(runCbpf(prog, fr.bytes, { vlanTagPresent: true }), what).toBe(0);
          } else if (userMatch && fr.eligible && src.eligible) {
            expect.fail(`${what}: eligible matching frame not accepted`);
          }
        }
      }
    }
    expect(compiled).toBeGreaterThan(150);
    expect(accepted).toBeGreaterThan(compiled);
  });

  it('checks every masked field: flipping any bit under the mask of an exact flow loses the match', () => {
    for (const src of corpus.filter((c) => c.eligible)) {
      const flow = new Megaflow(keyOf(src.bytes), K.newKey().fill(0xffffffff), null);
      const m = compileMatch(flow.key, flow.mask);
      if (!m.ok) continue;
      const prog = matchProgram(m.insns);
      expect(runCbpf(prog, src.bytes), src.name).not.toBe(0);
      for (let i = 0; i < src.bytes.length; i++) {
        for (let bit = 0; bit < 8; bit++) {
          const b = Uint8Array.from(src.bytes);
          b[i] ^= 1 << bit;
          if (!flow.matches(keyOf(b))) expect(runCbpf(prog, b), `${src.name} byte ${i} bit ${bit}`).toBe(0);
        }
      }
    }
  });

  it('refuses what it cannot express', () => {
    const icmp = keyOf(corpus[0].bytes);
    const full = K.newKey().fill(0xffffffff);
    const refuse = (key: Uint32Array, mask: Uint32Array) => {
      const r = compileMatch(key, mask);
      expect(r.ok).toBe(false);
      return r.ok ? '' : r.reason;
    };
    const noInPort = full.slice();
    noInPort[K.W_IN_PORT] = 0;
    expect(refuse(icmp, noInPort)).toMatch(/in_port/);
    expect(refuse(keyOf(corpus.find((c) => c.name === 'vlan icmp')!.bytes), full)).toMatch(/VLAN/);
    expect(refuse(keyOf(corpus.find((c) => c.name === 'mpls')!.bytes), full)).toMatch(/MPLS/);
    expect(refuse(keyOf(corpus.find((c) => c.name === 'later fragment')!.bytes), full)).toMatch(/fragment/);
    expect(refuse(keyOf(corpus.find((c) => c.name === 'ipv6 ns')!.bytes), full)).toMatch(/neighbour/);
    expect(refuse(keyOf(corpus.find((c) => c.name === '802.3 llc')!.bytes), full)).toMatch(/802\.3/);
    const recirc = icmp.slice();
    recirc[K.W_RECIRC_ID] = 5;
    expect(refuse(recirc, full)).toMatch(/recirc_id/);
    const l3only = K.newKey();
    l3only[K.W_IN_PORT] = 0xffffffff;
    l3only[K.W_NW_SRC] = 0xffffffff;
    expect(refuse(icmp, l3only)).toMatch(/eth_type/);
  });

  it('socket filter: drops what any flow matches, passes the rest', () => {
    const full = K.newKey().fill(0xffffffff);
    const fa = compileMatch(keyOf(corpus[0].bytes), full);
    const fb = compileMatch(keyOf(corpus[2].bytes), full);
    if (!fa.ok || !fb.ok) throw new Error('compile');
    const prog = dropProgram([fa.insns, fb.insns]);
    expect(runCbpf(prog, corpus[0].bytes)).toBe(0);
    expect(runCbpf(prog, corpus[2].bytes)).toBe(0);
    expect(runCbpf(prog, corpus[1].bytes)).toBe(0xffffffff);
    expect(runCbpf(dropProgram([]), corpus[1].bytes)).toBe(0xffffffff);
    const bytes = toSockFilterBytes(prog);
    expect(bytes.length).toBe(prog.length * 8);
    const bc = toTcBytecode(matchProgram(fa.insns));
    expect(bc).toMatch(/^\d+,(\d+ \d+ \d+ \d+,)*\d+ \d+ \d+ \d+$/);
    expect(Number(bc.split(',')[0])).toBe(matchProgram(fa.insns).length);
  });
});
