import { describe, expect, it } from 'vitest';
import { extractFlow } from '../../../../datapath/flow/extract.js';
import * as K from '../../../../datapath/flow/key.js';
import { fixture, readPcap } from '../../../helpers/pcap.js';
import { Prng } from '../../../helpers/prng.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function extract(frame: Buffer, inPort = 7) {
  const key = K.newKey();
  const layout = K.newLayout();
  const l3len = extractFlow(frame, 0, frame.length, inPort, key, layout);
  return { key, layout, l3len };
}

describe('extractFlow on frames built from the RFCs', () => {
  it('802.1ad + 802.1Q double tag, IPv4 TCP (RFC 793 flags)', () => {
    const f = hex(`
      020000000002 020000000001 88a8 6064 8100 0014 0800
      45 00 0028 0001 0000 40 06 0000 0a000003 0a000004
      0005 0006 00000000 00000000 50 12 2000 0000 0000`);
    const { key, layout } = extract(f);
    expect(key[K.W_IN_PORT]).toBe(7);
    expect(key[K.W_VLAN0]).toBe(((0x88a8 << 16) | 0x6064 | K.VLAN_CFI) >>> 0);
    expect(key[K.W_VLAN1]).toBe(((0x8100 << 16) | 0x0014 | K.VLAN_CFI) >>> 0);
    expect(key[K.W_ETH_TYPE]).toBe(0x0800);
    expect(layout[K.L_VLANS]).toBe(2);
    expect(layout[K.L_ETH_TYPE]).toBe(20);
    expect(layout[K.L_L3]).toBe(22);
    expect(layout[K.L_L4]).toBe(42);
    expect(key[K.W_NW_SRC]).toBe(0x0a000003);
    expect(key[K.W_TP_PORTS]).toBe((5 << 16) | 6);
    expect(key[K.W_TCP_FLAGS]).toBe(0x012);
    expect(key[K.W_NW_PROTO_TOS_TTL_FRAG]).toBe(((6 << 24) | (64 << 8)) >>> 0);
  });

  it('IPv4 later fragment has no L4; first fragment does', () => {
    const later = hex(`020000000002 020000000001 0800 4500001c 0001 0005 4011 0000 0a010001 0a010002 00070008 00000000`);
    const a = extract(later);
    expect(a.key[K.W_NW_PROTO_TOS_TTL_FRAG] & 0xff).toBe(K.FRAG_ANY | K.FRAG_LATER);
    expect(a.key[K.W_TP_PORTS]).toBe(0);
    expect(a.layout[K.L_L4]).toBe(-1);
    const first = hex(`020000000002 020000000001 0800 4500001c 0001 2000 4011 0000 0a010001 0a010002 0007 0008 0010 0000`);
    const b = extract(first);
    expect(b.key[K.W_NW_PROTO_TOS_TTL_FRAG] & 0xff).toBe(K.FRAG_ANY);
    expect(b.key[K.W_TP_PORTS]).toBe((7 << 16) | 8);
  });

  it('IPv6 hop-by-hop + fragment(first) + UDP, and ND solicitation with SLL (RFC 8200, RFC 4861)', () => {
    const v6 = hex(`
      020000000002 020000000001 86dd
      60000000 0018 00 40 20010db8000000000000000000000001 20010db8000000000000000000000002
      2c 00 0100 00000000
      11 00 0001 00000007
      000f 0010 0008 0000`);
    const { key, layout } = extract(v6);
    expect(key[K.W_NW_PROTO_TOS_TTL_FRAG] >>> 24).toBe(17);
    expect(key[K.W_NW_PROTO_TOS_TTL_FRAG] & 0xff).toBe(K.FRAG_ANY);
    expect(key[K.W_TP_PORTS]).toBe((15 << 16) | 16);
    expect(layout[K.L_L4]).toBe(14 + 40 + 16);
    expect(key[K.W_NW_SRC + 3]).toBe(1);
    const ns = hex(`
      333300000002 020000000001 86dd
      60000000 0020 3a ff fe800000000000000000000000000001 ff0200000000000000000001ff000002
      87 00 0000 00000000 20010db8000000000000000000000002
      01 01 020000000001`);
    const n = extract(ns);
    expect(n.key[K.W_TP_PORTS]).toBe(135 << 16);
    expect(n.key[K.W_ND_TARGET]).toBe(0x20010db8);
    expect(n.key[K.W_ND_TARGET + 3]).toBe(2);
    expect(n.key[K.W_ARP_SHA_HI]).toBe(0x0200);
    expect(n.key[K.W_ARP_SHA_LO]).toBe(1);
  });

  it('IPv6 extension headers set the OpenFlow IPV6_EXTHDR flags above the flow label (OFPIEH_*)', () => {
    const v6 = (next: number, exts: string, upper = '000f 0010 0008 0000') => {
      const body = hex(exts + upper);
      return Buffer.concat([
        hex(`020000000002 020000000001 86dd 6000000a`),
        Buffer.from([body.length >> 8, body.length & 0xff, next, 0x40]),
        hex('20010db8000000000000000000000001 20010db8000000000000000000000002'),
        body,
      ]);
    };
    const ext = (f: Buffer) => {
      const { key } = extract(f);
      expect(key[K.W_IPV6_LABEL]! & 0xfffff).toBe(0xa);
      return (key[K.W_IPV6_LABEL]! & K.MASK_IPV6_EXTHDR) >>> K.SHIFT_IPV6_EXTHDR;
    };
    // hop-by-hop (8 bytes), AH (length 1: (1 + 2) * 4 = 12 bytes), UDP: HOP|AUTH = 68, as in the os-ken cases
    expect(ext(v6(0, '33 00 0000 00000000' + '11 01 0000 00000000 00000000'))).toBe(64 | 4);
    expect(ext(v6(17, ''))).toBe(0);
    expect(ext(v6(59, '', ''))).toBe(1); // no next header
    expect(ext(v6(50, '', '00000000 00000000'))).toBe(2); // ESP
    // fragment before hop-by-hop: out of order; two routing headers: repeated
    expect(ext(v6(44, '00 00 0001 00000007' + '11 00 0000 00000000'))).toBe(16 | 64 | 256);
    expect(ext(v6(43, '2b 00 0000 00000000' + '11 00 0000 00000000'))).toBe(32 | 128);
    // destination options before routing and again before the upper layer: both allowed
    expect(ext(v6(60, '2b 00 0000 00000000' + '3c 00 0000 00000000' + '11 00 0000 00000000'))).toBe(8 | 32);
  });

  it('MPLS two-label stack stops at bottom of stack (RFC 3032)', () => {
    const f = hex(`020000000002 020000000001 8847 00064240 000c853f 4500`);
    const { key, layout } = extract(f);
    expect(key[K.W_MPLS0]).toBe(0x00064240);
    expect(key[K.W_MPLS1]).toBe(0x000c853f);
    expect(key[K.W_MPLS2]).toBe(0);
    expect(layout[K.L_L2_5]).toBe(14);
  });

  it('802.3 frame without SNAP records eth_type 0x05ff; too-short frame only in_port', () => {
    expect(extract(hex(`020000000002 020000000001 0026 4242 03 000000`)).key[K.W_ETH_TYPE]).toBe(K.ETH_TYPE_NONE);
    const tiny = extract(hex(`0200000000020200000000`), 3);
    expect(Array.from(tiny.key).filter((w) => w !== 0)).toEqual([3]);
  });

  it('returns the IP end so Ethernet padding can be told apart', () => {
    const f = hex(`020000000002 020000000001 0806 0001 0800 06 04 0001 020000000001 0a090001 000000000000 0a090002 000000000000000000000000000000000000`);
    const r = extract(f);
    expect(r.key[K.W_ETH_TYPE]).toBe(0x0806);
    expect(r.key[K.W_NW_PROTO_TOS_TTL_FRAG] >>> 24).toBe(1);
    expect(r.l3len).toBe(f.length);
  });
});

describe('extractFlow robustness', () => {
  it('100,000 random and truncated frames: never throws, never reads past the frame', async () => {
    const seeds = (await readPcap(fixture('flow-traffic-dxv1.pcap'))).packets.map((p) => p.data);
    const p = new Prng(2);
    const rnd = () => p.u32() / 4294967296;
    const keyA = K.newKey();
    const keyB = K.newKey();
    const layA = K.newLayout();
    const layB = K.newLayout();
    const bufA = Buffer.alloc(4096);
    const bufB = Buffer.alloc(4096);
    let differ = 0;
    for (let n = 0; n < 100_000; n++) {
      let frame: Buffer;
      const kind = n % 4;
      if (kind === 0) {
        frame = Buffer.alloc(Math.floor(rnd() * 200));
        for (let i = 0; i < frame.length; i++) frame[i] = (rnd() * 256) | 0;
        // Make the interesting ethertypes common.
        if (frame.length > 13) frame.writeUInt16BE([0x0800, 0x86dd, 0x0806, 0x8100, 0x88a8, 0x8847][n % 6], 12);
      } else {
        const s = seeds[n % seeds.length];
        frame = Buffer.from(s.subarray(0, Math.floor(rnd() * (s.length + 1))));
        for (let k = 0; k < kind; k++) if (frame.length) frame[(rnd() * frame.length) | 0] = (rnd() * 256) | 0;
      }
      // Same frame at an offset, followed by different garbage: any read past
      // the frame would make the two keys differ.
      const off = 64 + (n % 32);
      bufA.fill(0x00);
      bufB.fill(0xff);
      frame.copy(bufA, off);
      frame.copy(bufB, off);
      extractFlow(bufA, off, frame.length, 1, keyA, layA);
      extractFlow(bufB, off, frame.length, 1, keyB, layB);
      for (let i = 0; i < K.KEY_WORDS; i++) if (keyA[i] !== keyB[i]) differ++;
      for (let i = 0; i < K.LAYOUT_SLOTS; i++) if (layA[i] !== layB[i]) differ++;
      for (let i = K.L_L2; i <= K.L_ETH_TYPE; i++) if (layA[i] > frame.length) differ++;
    }
    expect(differ).toBe(0);
  });
});
