// decodeFrame must never throw and never read outside its input, whatever the
// bytes; and encodeFrame(decodeFrame(x)) must give x back even for garbage.
// Every input sits in an exact-size ArrayBuffer, so any read past its end
// through Buffer methods throws a RangeError and fails the test.
import { beforeAll, describe, expect, it } from 'vitest';
import { ETH_TYPE_MPLS, ETH_TYPE_QINQ, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from '../../../../datapath/flow/key.js';
import { buildEthernet } from '../../../../datapath/packet/ethernet.js';
import { decodeFrame, encodeFrame } from '../../../../datapath/packet/frame.js';
import { buildIcmpv6Na, buildIcmpv6Ns } from '../../../../datapath/packet/icmpv6.js';
import { buildIpv4, IPV4_FLAG_MF } from '../../../../datapath/packet/ipv4.js';
import { buildIpv6, IPPROTO_AH, IPPROTO_DSTOPTS, IPPROTO_FRAGMENT, IPPROTO_HOPOPTS, IPPROTO_ROUTING } from '../../../../datapath/packet/ipv6.js';
import { buildMpls } from '../../../../datapath/packet/mpls.js';
import { buildSctp } from '../../../../datapath/packet/sctp.js';
import { buildTcp } from '../../../../datapath/packet/tcp.js';
import { buildUdp } from '../../../../datapath/packet/udp.js';
import { fixture, readPcap } from '../../../helpers/pcap.js';
import { Prng } from '../../../helpers/prng.js';

const MAC = { dst: '02:00:00:00:00:02', src: '02:00:00:00:00:01' };

/** Frames for every codec path, made with the builders. */
function builtSeeds(): Buffer[] {
  const v4 = { src: '10.0.0.1', dst: '10.0.0.2' };
  const v6 = { src: 'fe80::1', dst: 'fe80::2' };
  const data = Buffer.from('0123456789abcdef');
  const eth = (type: number, payload: Buffer, vlans = [] as { vid: number; tpid?: number }[]) => buildEthernet({ ...MAC, vlans, type, payload });
  return [
    eth(0x0800, buildIpv4({ ...v4, protocol: IPPROTO_TCP, options: [{ type: 1 }, { type: 148, data: new Uint8Array(2) }], payload: buildTcp({ srcPort: 1, dstPort: 2, options: Buffer.from('020405b4', 'hex'), payload: data }, v4) }), [{ tpid: ETH_TYPE_QINQ, vid: 5 }, { vid: 6 }]),
    eth(0x0800, buildIpv4({ ...v4, protocol: IPPROTO_SCTP, flags: IPV4_FLAG_MF, payload: buildSctp({ srcPort: 1, dstPort: 2, chunks: [{ type: 0, value: data }] }) })),
    eth(
      0x86dd,
      buildIpv6({
        ...v6,
        protocol: IPPROTO_UDP,
        extHeaders: [
          { type: IPPROTO_HOPOPTS, options: [{ type: 5, data: new Uint8Array(2) }] },
          { type: IPPROTO_ROUTING, routingType: 4, segmentsLeft: 1, data: Buffer.alloc(36) },
          { type: IPPROTO_FRAGMENT, fragOffset: 0, more: true, id: 9 },
          { type: IPPROTO_AH, data: Buffer.alloc(22) },
          { type: IPPROTO_DSTOPTS, options: [] },
        ],
        payload: buildUdp({ srcPort: 1, dstPort: 2, payload: data }, v6),
      }),
    ),
    eth(0x86dd, buildIpv6({ ...v6, protocol: IPPROTO_ICMPV6, hopLimit: 255, payload: buildIcmpv6Ns({ target: 'fe80::2', sll: MAC.src }, v6) })),
    eth(0x86dd, buildIpv6({ ...v6, protocol: IPPROTO_ICMPV6, hopLimit: 255, payload: buildIcmpv6Na({ target: 'fe80::2', tll: MAC.dst, solicited: true }, v6) })),
    eth(ETH_TYPE_MPLS, buildMpls({ labels: [{ label: 1 }, { label: 2 }], payload: buildIpv4({ ...v4, protocol: IPPROTO_UDP, payload: buildUdp({ srcPort: 1, dstPort: 2, payload: data }, v4) }) })),
    buildEthernet({ ...MAC, llc: { dsap: 0xaa, ssap: 0xaa, control: 3, snap: { oui: 0, type: 0x0800 } }, payload: buildIpv4({ ...v4, protocol: 1, payload: data }) }),
    buildEthernet({ ...MAC, llc: { dsap: 0x42, ssap: 0x42, control: 0x1234, controlBytes: 2 }, payload: data }),
  ];
}

/** Decode, check invariants, re-encode; returns nothing, throws on any failure. */
function check(bytes: Uint8Array): void {
  // ArrayBuffer.slice copies into a new buffer of exactly bytes.length.
  const exact = Buffer.from(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const f = decodeFrame(exact);
  if (exact.buffer.byteLength !== bytes.length) throw new Error('input is not exact-size');
  if (f.payloadOffset + f.payload.length + f.trailer.length !== exact.length) throw new Error(`payload/trailer do not tile the frame: ${exact.toString('hex')}`);
  if (!encodeFrame(f).equals(exact)) throw new Error(`round trip differs for ${exact.toString('hex')}`);
}

describe('decodeFrame fuzz (100,000 frames, seeded)', () => {
  let seeds: Buffer[] = [];
  beforeAll(async () => {
    for (const name of ['flow-traffic-dxv1.pcap', 'lacp-ovs.pcap', 'cfm-ovs.pcap']) {
      seeds = seeds.concat((await readPcap(fixture(name))).packets.map((p) => p.data));
    }
    seeds = seeds.concat(builtSeeds());
  });

  it('survives every truncation, byte flips and random bytes, and round-trips them all', () => {
    const r = new Prng(0xf00d);
    let n = 0;
    // 1. Every prefix of every seed frame.
    for (const s of seeds) {
      for (let len = 0; len <= s.length; len++, n++) check(s.subarray(0, len));
    }
    // 2. Seeds with 1-8 flipped bytes (biased to the headers), sometimes cut.
    const mutated = 100_000 - n - 20_000;
    for (let i = 0; i < mutated; i++, n++) {
      const s = Buffer.from(seeds[r.int(seeds.length)]);
      const flips = 1 + r.int(8);
      for (let k = 0; k < flips; k++) {
        const at = r.int(4) ? r.int(Math.min(s.length, 80)) : r.int(s.length);
        s[at] = r.int(3) ? r.u32() & 0xff : s[at] ^ (1 << r.int(8));
      }
      check(r.int(3) ? s : s.subarray(0, r.int(s.length + 1)));
    }
    // 3. Random bytes of random length behind a random interesting ethertype.
    const types = [0x0800, 0x86dd, 0x0806, 0x8100, 0x88a8, 0x8847, 0x8848, 0x8809, 0x8902, 0x0026, 0x05ff, 0x0000];
    for (let i = 0; i < 20_000; i++, n++) {
      const b = r.bytes(r.int(160));
      if (b.length >= 14) b.writeUInt16BE(types[r.int(types.length)], 12);
      if (b.length >= 15 && r.int(2)) b[14] = r.int(2) ? 0x45 + r.int(11) : 0x60;
      check(b);
    }
    expect(n).toBe(100_000);
  });
});
