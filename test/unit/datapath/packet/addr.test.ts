import { describe, expect, it } from 'vitest';
import {
  formatIpv4,
  formatIpv6,
  formatMac,
  ipv4ToU32,
  parseIpv4,
  parseIpv6,
  parseMac,
  u32ToIpv4,
} from '../../../../datapath/packet/addr.js';
import { PacketError } from '../../../../datapath/packet/errors.js';
import { Prng } from '../../../helpers/prng.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as PacketError).code;
  }
  return undefined;
}

describe('MAC addresses', () => {
  it('parses and formats', () => {
    expect(Buffer.from(parseMac('02:00:00:00:99:01')).toString('hex')).toBe('020000009901');
    expect(formatMac(parseMac('AA-bb-CC-dd-EE-ff'))).toBe('aa:bb:cc:dd:ee:ff');
    expect(formatMac(Buffer.from('ff0180c2000002', 'hex').subarray(1), 0)).toBe('01:80:c2:00:00:02');
  });
  it('rejects bad text with a stable code', () => {
    expect(code(() => parseMac('02:00:00:00:99'))).toBe('ERR_PACKET_BAD_MAC');
    expect(formatMac(parseMac('2:0:0:0:a:B'))).toBe('02:00:00:00:0a:0b');
    for (const s of ['02:00:00:00:99:zz', '02:00:00:00:99:01:', '02:00:00:00:99:012', '02:00:00:00:99', '02.00.00.00.99.01', ' 02:00:00:00:99:01', ''])
      expect(code(() => parseMac(s))).toBe('ERR_PACKET_BAD_MAC');
    expect(() => formatMac(new Uint8Array(5))).toThrow(RangeError);
  });
});

describe('IPv4 addresses', () => {
  it('parses and formats', () => {
    expect(Array.from(parseIpv4('10.99.0.1'))).toEqual([10, 99, 0, 1]);
    expect(formatIpv4(new Uint8Array([192, 168, 255, 0]))).toBe('192.168.255.0');
    expect(ipv4ToU32('10.0.0.1')).toBe(0x0a000001);
    expect(u32ToIpv4(0xffffff00)).toBe('255.255.255.0');
  });
  it('rejects bad text', () => {
    expect(Array.from(parseIpv4('0.0.0.0'))).toEqual([0, 0, 0, 0]);
    for (const s of ['10.0.0', '10.0.0.256', '10.0.0.01', '1.2.3.4.5', 'a.b.c.d', '', ' 10.0.0.1', '10.0.0.1 ', '10.0.0.1x', '1..2.3', '1000.0.0.1', '-1.0.0.0']) expect(code(() => parseIpv4(s))).toBe('ERR_PACKET_BAD_IPV4');
  });
});

describe('IPv6 addresses (RFC 4291 2.2, RFC 5952)', () => {
  const cases: [string, string][] = [
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // 4.2.3: first of equal runs
    ['2001:0db8:0:0:0:0:2:1', '2001:db8::2:1'], // 4.1 leading zeros
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // 4.2.2: a single 0 is not "::"
    ['2001:db8:0:0:1:0:0:0', '2001:db8:0:0:1::'], // 4.2.3: longest run wins
    ['2001:DB8::AAAA', '2001:db8::aaaa'], // 4.3 lowercase
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::', 'fe80::'],
    ['::ffff:10.99.0.1', '::ffff:10.99.0.1'], // 5: IPv4-mapped
    ['0:0:0:0:0:ffff:a63:1', '::ffff:10.99.0.1'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
  ];
  it.each(cases)('%s -> %s', (input, want) => {
    expect(formatIpv6(parseIpv6(input))).toBe(want);
  });
  it('round-trips random addresses with zero runs', () => {
    const r = new Prng(6);
    for (let i = 0; i < 2000; i++) {
      const b = r.bytes(16);
      for (let g = 0; g < 8; g++) if (r.int(2)) b.writeUInt16BE(0, 2 * g);
      expect(Buffer.from(parseIpv6(formatIpv6(b))).equals(b)).toBe(true);
    }
  });
  it('rejects bad text', () => {
    for (const s of ['1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', '::g', 'fe80::1%eth0', '1:2:3:4:5:6:7:8::', '::1.2.3'])
      expect(code(() => parseIpv6(s))).toBe('ERR_PACKET_BAD_IPV6');
  });
});
