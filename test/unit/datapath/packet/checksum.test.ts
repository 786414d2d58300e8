import { describe, expect, it } from 'vitest';
import {
  checksum,
  csumUpdate16,
  csumUpdate32,
  csumUpdateBytes,
  ipv4HeaderChecksum,
  ipv4HeaderChecksumValid,
  l4Checksum,
  l4ChecksumValid,
  pseudoHeaderSum,
  sctpChecksum,
  sum16,
  udpCsumUpdate16,
  udpCsumUpdate32,
  udpCsumUpdateBytes,
} from '../../../../datapath/packet/checksum.js';
import { crc32c } from '../../../../datapath/packet/crc32c.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../../../../datapath/flow/key.js';
import { Prng } from '../../../helpers/prng.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('Internet checksum', () => {
  it('matches the RFC 1071 3 example', () => {
    const b = hex('0001 f203 f4f5 f6f7');
    expect(sum16(b, 0, 8)).toBe(0xddf2);
    expect(checksum(b, 0, 8)).toBe(0x220d);
  });
  it('pads an odd last byte with zero and chains through initial', () => {
    const b = hex('0001 f203 f4f5 f6');
    expect(sum16(b, 0, 7)).toBe(sum16(hex('0001 f203 f4f5 f600'), 0, 8));
    expect(sum16(b, 4, 3, sum16(b, 0, 4))).toBe(sum16(b, 0, 7));
  });
  it('refuses ranges outside the buffer', () => {
    expect(() => sum16(hex('0001'), 1, 2)).toThrow(RangeError);
  });
  it('computes and verifies an IPv4 header (frame 3 of flow-traffic-dxv1)', () => {
    const h = hex('4500 0054 1942 4000 4001 0c9f 0a63 0001 0a63 0002');
    expect(ipv4HeaderChecksum(h, 0)).toBe(0x0c9f);
    expect(ipv4HeaderChecksumValid(h, 0)).toBe(true);
    h[8] = 63;
    expect(ipv4HeaderChecksumValid(h, 0)).toBe(false);
  });
  it('handles the UDP zero checksum rules (RFC 768, RFC 8200 8.1)', () => {
    const src = new Uint8Array([10, 0, 0, 1]);
    const dst = new Uint8Array([10, 0, 0, 2]);
    const udp = hex('1234 5678 0008 0000');
    expect(l4ChecksumValid(udp, 0, 8, IPPROTO_UDP, src, dst)).toBe(true); // none over IPv4
    const s6 = new Uint8Array(16).fill(1);
    expect(l4ChecksumValid(udp, 0, 8, IPPROTO_UDP, s6, s6)).toBe(false);
    // Make the computed checksum 0: it must be sent as 0xffff.
    const s = pseudoHeaderSum(src, dst, IPPROTO_UDP, 10);
    const rest = sum16(udp, 0, 8, s);
    const fill = ~rest & 0xffff; // payload word that makes the sum 0xffff
    const u = Buffer.concat([udp, Buffer.from([fill >> 8, fill & 255])]);
    u.writeUInt16BE(10, 4);
    const s2 = pseudoHeaderSum(src, dst, IPPROTO_UDP, 10);
    const fill2 = ~sum16(u.subarray(0, 8), 0, 8, s2) & 0xffff;
    u.writeUInt16BE(fill2, 8);
    expect(l4Checksum(u, 0, 10, IPPROTO_UDP, src, dst)).toBe(0xffff);
    u.writeUInt16BE(0xffff, 6);
    expect(l4ChecksumValid(u, 0, 10, IPPROTO_UDP, src, dst)).toBe(true);
  });
});

describe('CRC-32C', () => {
  it('gives the standard check value', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });
  it('matches the RFC 3720 B.4 test patterns (32 bytes of 0x00 / 0xff)', () => {
    expect(crc32c(Buffer.alloc(32, 0))).toBe(0x8a9136aa);
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
  });
  it('matches an SCTP INIT checksummed by another implementation (scapy regression test)', () => {
    // IPv4 127.0.0.1 -> 127.0.0.1, SCTP ports 0/0, vtag 0, INIT with one IPv4 address parameter.
    const ip = hex('4500003c 00010000 40847c3b 7f000001 7f000001' + '00000000 00000000 402c0b5f' + '0100001c 00000000 00000000 00000000 00000000 00050008 7f000001');
    expect(sctpChecksum(ip, 20, 40)).toBe(0x402c0b5f);
    expect(ipv4HeaderChecksumValid(ip, 0)).toBe(true);
  });
  it('places the SCTP CRC least significant byte first', () => {
    const pkt = Buffer.alloc(16);
    pkt.writeUInt32BE(0x11223344, 12);
    const crc = crc32c(pkt);
    const field = sctpChecksum(pkt, 0, 16);
    pkt.writeUInt32LE(crc, 8);
    expect(pkt.readUInt32BE(8)).toBe(field);
  });
});

/** A random IPv4 header + TCP or UDP segment with correct checksums. */
function randomPacket(r: Prng, proto: number): Buffer {
  const l4Len = (proto === IPPROTO_TCP ? 20 : 8) + r.int(40);
  const b = r.bytes(20 + l4Len);
  b[0] = 0x45;
  b.writeUInt16BE(b.length, 2);
  b[9] = proto;
  b.writeUInt16BE(ipv4HeaderChecksum(b, 0), 10);
  const at = 20 + (proto === IPPROTO_TCP ? 16 : 6);
  b.writeUInt16BE(l4Checksum(b, 20, l4Len, proto, b.subarray(12, 16), b.subarray(16, 20)), at);
  return b;
}

describe('RFC 1624 incremental update equals a full recompute', () => {
  it('for 10,000 random rewrites of TTL, TOS, addresses, ports', () => {
    const r = new Prng(1624);
    const bad: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const proto = r.int(2) ? IPPROTO_TCP : IPPROTO_UDP;
      const b = randomPacket(r, proto);
      const l4Len = b.length - 20;
      const l4At = 20 + (proto === IPPROTO_TCP ? 16 : 6);
      const ipC = b.readUInt16BE(10);
      const l4C = b.readUInt16BE(l4At);
      const update16 = proto === IPPROTO_UDP ? udpCsumUpdate16 : csumUpdate16;
      const update32 = proto === IPPROTO_UDP ? udpCsumUpdate32 : csumUpdate32;
      switch (r.int(5)) {
        case 0: {
          // TTL shares a word with the protocol; L4 does not cover it.
          const old = b.readUInt16BE(8);
          b[8] = r.int(256);
          b.writeUInt16BE(csumUpdate16(ipC, old, b.readUInt16BE(8)), 10);
          break;
        }
        case 1: {
          const old = b.readUInt16BE(0);
          b[1] = r.int(256);
          b.writeUInt16BE(csumUpdate16(ipC, old, b.readUInt16BE(0)), 10);
          break;
        }
        case 2:
        case 3: {
          // An address is in the IP header and in the L4 pseudo-header.
          const at = r.int(2) ? 12 : 16;
          const old = b.readUInt32BE(at);
          const now = r.u32();
          b.writeUInt32BE(now, at);
          b.writeUInt16BE(csumUpdate32(ipC, old, now), 10);
          b.writeUInt16BE(update32(l4C, old, now), l4At);
          break;
        }
        case 4: {
          const at = 20 + 2 * r.int(2);
          const old = b.readUInt16BE(at);
          const now = r.int(0x10000);
          b.writeUInt16BE(now, at);
          b.writeUInt16BE(update16(l4C, old, now), l4At);
          break;
        }
      }
      // Plain comparisons: 20,000 expect() calls would dominate the run time.
      if (b.readUInt16BE(10) !== ipv4HeaderChecksum(b, 0)) bad.push(`ip ${i} ${b.toString('hex')}`);
      if (b.readUInt16BE(l4At) !== l4Checksum(b, 20, l4Len, proto, b.subarray(12, 16), b.subarray(16, 20))) bad.push(`l4 ${i} ${b.toString('hex')}`);
    }
    expect(bad).toEqual([]);
  });

  it('for IPv6 address rewrites given as bytes', () => {
    const r = new Prng(8200);
    for (let i = 0; i < 1000; i++) {
      const src = r.bytes(16);
      const dst = r.bytes(16);
      const seg = r.bytes(8 + r.int(30));
      seg.writeUInt16BE(seg.length, 4);
      seg.writeUInt16BE(l4Checksum(seg, 0, seg.length, IPPROTO_UDP, src, dst), 6);
      const now = r.bytes(16);
      const c = udpCsumUpdateBytes(seg.readUInt16BE(6), src, now);
      expect(c).toBe(l4Checksum(seg, 0, seg.length, IPPROTO_UDP, now, dst));
      expect(csumUpdateBytes(0x1234, src, src)).toBe(0x1234);
    }
  });

  it('keeps a zero UDP checksum zero and sends a computed zero as 0xffff', () => {
    expect(udpCsumUpdate16(0, 0x1234, 0x5678)).toBe(0);
    expect(udpCsumUpdate32(0, 0x0a000001, 0x0a000002)).toBe(0);
    // Choose a rewrite whose result is 0 (sum 0xffff): 0xffff on the wire.
    const src = new Uint8Array([10, 0, 0, 1]);
    const dst = new Uint8Array([10, 0, 0, 2]);
    const u = hex('1234 5678 000a 0000 0000');
    const c = l4Checksum(u, 0, 10, IPPROTO_UDP, src, dst);
    u.writeUInt16BE(c, 6);
    // Changing the payload word from 0 to c turns the sum into 0xffff.
    const next = udpCsumUpdate16(c, 0, c);
    u.writeUInt16BE(c, 8);
    expect(next).toBe(0xffff);
    expect(l4Checksum(u, 0, 10, IPPROTO_UDP, src, dst)).toBe(0xffff);
  });
});
