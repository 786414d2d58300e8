// Builders: argument errors carry stable codes; frames they make decode back to
// their fields with valid checksums; fillFrameChecksums repairs edited frames;
// decodeFrame's truncated/error notes.
import { describe, expect, it } from 'vitest';
import { IPPROTO_TCP, IPPROTO_UDP } from '../../../../datapath/flow/key.js';
import { buildEthernet } from '../../../../datapath/packet/ethernet.js';
import { PacketError } from '../../../../datapath/packet/errors.js';
import { decodeFrame, encodeFrame } from '../../../../datapath/packet/frame.js';
import { fillFrameChecksums, verifyFrameChecksums } from '../../../../datapath/packet/frame-checksums.js';
import { buildIcmpv6, buildIcmpv6Echo } from '../../../../datapath/packet/icmpv6.js';
import { buildIpv4 } from '../../../../datapath/packet/ipv4.js';
import { buildIpv6, IPPROTO_DSTOPTS } from '../../../../datapath/packet/ipv6.js';
import { buildTcp, formatTcpFlags, TCP_ACK, TCP_SYN } from '../../../../datapath/packet/tcp.js';
import { buildUdp } from '../../../../datapath/packet/udp.js';

const MAC = { dst: '02:00:00:00:00:02', src: '02:00:00:00:00:01' };
const v4 = { src: '10.0.0.1', dst: '10.0.0.2' };

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof PacketError ? e.code : String(e);
  }
  return undefined;
}

function udpFrame(checksum?: number): Buffer {
  return buildEthernet({ ...MAC, type: 0x0800, payload: buildIpv4({ ...v4, protocol: IPPROTO_UDP, payload: buildUdp({ srcPort: 7, dstPort: 7, checksum, payload: Buffer.from('echo') }, v4) }) });
}

describe('builders', () => {
  it('reject bad arguments with stable codes', () => {
    expect(code(() => buildUdp({ srcPort: 70000, dstPort: 1 }))).toBe('ERR_PACKET_BAD_FIELD');
    expect(code(() => buildTcp({ srcPort: 1, dstPort: 2, options: new Uint8Array(3) }))).toBe('ERR_PACKET_BAD_FIELD');
    expect(code(() => buildIpv4({ ...v4, protocol: 6, options: new Uint8Array(44) }))).toBe('ERR_PACKET_TOO_LONG');
    expect(code(() => buildIpv4({ ...v4, protocol: 6, ttl: 256 }))).toBe('ERR_PACKET_BAD_FIELD');
    expect(code(() => buildIpv4({ src: '10.0.0', dst: '10.0.0.2', protocol: 6 }))).toBe('ERR_PACKET_BAD_IPV4');
    expect(code(() => buildEthernet({ dst: 'nope', src: MAC.src, type: 0x0800 }))).toBe('ERR_PACKET_BAD_MAC');
    expect(code(() => buildEthernet({ ...MAC, vlans: [{ vid: 4096 }], type: 0x0800 }))).toBe('ERR_PACKET_BAD_FIELD');
    expect(code(() => buildIpv6({ src: '::1', dst: '::2', protocol: 17, extHeaders: [{ type: IPPROTO_DSTOPTS, data: new Uint8Array(5) }] }))).toBe('ERR_PACKET_BAD_FIELD');
    expect(code(() => buildUdp({ srcPort: 1, dstPort: 2 }, { src: '10.0.0.1', dst: '::1' }))).toBe('ERR_PACKET_BAD_FIELD');
    const nd = { kind: 'nd' as const, target: '::1', options: [{ type: 1, length: 0, mac: '02:00:00:00:00:01' }] };
    expect(code(() => buildIcmpv6({ type: 135, body: nd }))).toBe('ERR_PACKET_BAD_FIELD');
  });

  it('make TCP/UDP/ICMPv6 frames that decode to their fields with valid checksums', () => {
    const tcp = buildEthernet({
      ...MAC,
      type: 0x0800,
      payload: buildIpv4({ ...v4, protocol: IPPROTO_TCP, payload: buildTcp({ srcPort: 41001, dstPort: 5001, seq: 1, flags: TCP_SYN | TCP_ACK, payload: Buffer.from('x') }, v4) }),
    });
    const f = decodeFrame(tcp);
    expect(f.l4).toMatchObject({ kind: 'tcp', srcPort: 41001, dstPort: 5001, seq: 1, dataOffset: 5, window: 65535 });
    expect(formatTcpFlags((f.l4 as { flags: number }).flags)).toBe('SYN|ACK');
    expect(verifyFrameChecksums(tcp, f)).toEqual({ ipv4: true, l4: true });
    const v6 = { src: '2001:db8::1', dst: '2001:db8::2' };
    const echo = buildEthernet({ ...MAC, type: 0x86dd, payload: buildIpv6({ ...v6, protocol: 58, payload: buildIcmpv6Echo({ id: 1, seq: 1, payload: Buffer.from('hi') }, v6) }) });
    const g = decodeFrame(echo);
    expect(g.l4).toMatchObject({ kind: 'icmpv6', type: 128, body: { kind: 'echo', id: 1, seq: 1 } });
    expect(g.payload.toString()).toBe('hi');
    expect(verifyFrameChecksums(echo, g)).toEqual({ ipv4: null, l4: true });
  });

  it('fillFrameChecksums repairs an edited frame and keeps a zero UDP checksum', () => {
    const b = udpFrame();
    b.writeUInt16BE(9, 34); // edit the source port
    b[22] = 1; // and the TTL
    expect(verifyFrameChecksums(b)).toEqual({ ipv4: false, l4: false });
    fillFrameChecksums(b);
    expect(verifyFrameChecksums(b)).toEqual({ ipv4: true, l4: true });
    const none = udpFrame(0);
    fillFrameChecksums(none);
    expect(none.readUInt16BE(40)).toBe(0);
    expect(verifyFrameChecksums(none).l4).toBe(true);
  });
});

describe('decodeFrame notes', () => {
  it('keeps headers of a datagram cut by the capture and notes the truncation', () => {
    const b = udpFrame().subarray(0, 44);
    const f = decodeFrame(b);
    expect(f.truncated).toMatchObject({ layer: 'ipv4', offset: 14 });
    expect(f.l3).toMatchObject({ kind: 'ipv4', totalLength: 32 });
    expect(f.l4).toMatchObject({ kind: 'udp', length: 12 });
    expect(f.payload.length).toBe(2);
    expect(verifyFrameChecksums(b, f)).toEqual({ ipv4: true, l4: null });
  });
  it('leaves a malformed header undecoded and says why', () => {
    const b = udpFrame();
    b[14] = 0x44; // IHL 4
    const f = decodeFrame(b);
    expect(f.error).toMatchObject({ layer: 'ipv4', offset: 14 });
    expect(f.error!.message).toMatch(/IHL 4/);
    expect(f.l3).toBeNull();
    expect(f.payloadOffset).toBe(14);
    expect(encodeFrame(f).equals(b)).toBe(true);
  });
  it('notes a frame shorter than an Ethernet header, and accepts a plain Uint8Array', () => {
    const f = decodeFrame(new Uint8Array(10));
    expect(f.eth).toBeNull();
    expect(f.truncated).toMatchObject({ layer: 'eth', offset: 0 });
    expect(f.payload.length).toBe(10);
  });
  it('decodes a Uint8Array view at a non-zero offset without copying', () => {
    const frame = udpFrame();
    const big = new Uint8Array(frame.length + 100);
    big.set(frame, 50);
    const f = decodeFrame(big.subarray(50, 50 + frame.length));
    expect(f.payload.toString()).toBe('echo');
    expect(f.payload.buffer).toBe(big.buffer);
    expect(f.payload.byteOffset).toBe(50 + 42);
  });
  it('treats bytes past the IPv4 total length as trailer (Ethernet padding)', () => {
    const b = Buffer.concat([udpFrame(), Buffer.alloc(8)]);
    const f = decodeFrame(b);
    expect(f.truncated).toBeNull();
    expect(f.payload.toString()).toBe('echo');
    expect(f.trailer.length).toBe(8);
    expect(verifyFrameChecksums(b, f)).toEqual({ ipv4: true, l4: true });
  });
});
