// Real frames captured from Open vSwitch (test/fixtures, see
// ../shared/fixtures/README.md): decode every frame, compare with tshark's
// summary in the .txt, verify checksums, and round-trip byte for byte.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ETH_TYPE_ARP, ETH_TYPE_CFM, ETH_TYPE_IPV4, ETH_TYPE_SLOW } from '../../../../datapath/flow/key.js';
import { decodeFrame, encodeFrame, type Frame } from '../../../../datapath/packet/frame.js';
import { fillFrameChecksums, verifyFrameChecksums } from '../../../../datapath/packet/frame-checksums.js';
import { ipv4Bytes } from '../../../../datapath/packet/addr.js';
import { pseudoHeaderSum } from '../../../../datapath/packet/checksum.js';
import {
  decodeTcpOptions,
  encodeTcpOptions,
  formatTcpFlags,
  TCP_OPT_MSS,
  TCP_OPT_NOP,
  TCP_OPT_SACK_PERMITTED,
  TCP_OPT_TIMESTAMPS,
  TCP_OPT_WSCALE,
} from '../../../../datapath/packet/tcp.js';
import { fixture, type PcapFile, readPcap } from '../../../helpers/pcap.js';

/** tshark one-line summaries: "  3   0.000372    10.99.0.1 → 10.99.0.2    ICMP 98 Echo ...". */
function tsharkLines(txt: string): Map<number, { src: string; dst: string; proto: string; len: number; info: string }> {
  const out = new Map<number, { src: string; dst: string; proto: string; len: number; info: string }>();
  for (const line of readFileSync(fixture(txt), 'utf8').split('\n')) {
    const m = /^\s+(\d+)\s+[\d.]+\s+(\S+) → (\S+)\s+(ARP|ICMP|UDP|TCP|LACP) (\d+) (.*)$/.exec(line);
    if (m) out.set(Number(m[1]), { src: m[2], dst: m[3], proto: m[4], len: Number(m[5]), info: m[6] });
  }
  return out;
}

function roundTrip(data: Buffer, f: Frame): void {
  expect(encodeFrame(f).equals(data)).toBe(true);
}

describe('flow-traffic-dxv1.pcap (ARP, ICMP echo, UDP, TCP between 10.99.0.1 and 10.99.0.2)', () => {
  let pcap: PcapFile;
  const lines = tsharkLines('flow-traffic-dxv1.txt');
  const mac = { '10.99.0.1': '02:00:00:00:99:01', '10.99.0.2': '02:00:00:00:99:02' } as Record<string, string>;
  beforeAll(async () => {
    pcap = await readPcap(fixture('flow-traffic-dxv1.pcap'));
  });

  it('has the 42 frames the .txt lists', () => {
    expect(pcap.packets.length).toBe(42);
    expect(lines.size).toBe(42);
  });

  it('decodes every frame as tshark did, with valid checksums, and round-trips it', () => {
    const seen = { ARP: 0, ICMP: 0, UDP: 0, TCP: 0 } as Record<string, number>;
    pcap.packets.forEach((p, i) => {
      const want = lines.get(i + 1)!;
      const f = decodeFrame(p.data);
      expect(f.truncated).toBeNull();
      expect(f.error).toBeNull();
      expect(f.length).toBe(want.len);
      expect(f.trailer.length).toBe(0);
      seen[want.proto]++;
      roundTrip(p.data, f);
      if (want.proto === 'ARP') {
        expect(f.eth!.type).toBe(ETH_TYPE_ARP);
        const arp = f.l3!;
        if (arp.kind !== 'arp') throw new Error('not ARP');
        const ask = /^Who has (\S+)\? Tell (\S+)$/.exec(want.info);
        const tell = /^(\S+) is at (\S+)$/.exec(want.info);
        if (ask) {
          expect(arp).toMatchObject({ op: 1, tpa: ask[1], spa: ask[2], sha: mac[ask[2]] });
          expect(f.eth!.dst).toBe('ff:ff:ff:ff:ff:ff');
        } else {
          expect(tell).not.toBeNull();
          expect(arp).toMatchObject({ op: 2, spa: tell![1], sha: tell![2], tha: f.eth!.dst });
        }
        expect(verifyFrameChecksums(p.data, f)).toEqual({ ipv4: null, l4: null });
        return;
      }
      expect(f.eth!.type).toBe(ETH_TYPE_IPV4);
      expect(f.eth!.vlans).toEqual([]);
      const ip = f.l3!;
      if (ip.kind !== 'ipv4') throw new Error('not IPv4');
      expect(ip).toMatchObject({ src: want.src, dst: want.dst, ttl: 64, headerBytes: 20, totalLength: want.len - 14 });
      expect(f.eth!.src).toBe(mac[want.src]);
      expect(f.eth!.dst).toBe(mac[want.dst]);
      expect(verifyFrameChecksums(p.data, f)).toEqual({ ipv4: true, l4: true });
      const l4 = f.l4!;
      if (want.proto === 'ICMP') {
        const m = /Echo \(ping\) (request|reply)\s+id=0x([0-9a-f]+), seq=(\d+)/.exec(want.info)!;
        expect(l4).toMatchObject({ kind: 'icmp', type: m[1] === 'request' ? 8 : 0, code: 0, id: parseInt(m[2], 16), seq: Number(m[3]) });
        expect(f.payload.length).toBe(want.len - 14 - 20 - 8);
      } else if (want.proto === 'UDP') {
        const m = /^(\d+) → (\d+) Len=(\d+)$/.exec(want.info)!;
        expect(l4).toMatchObject({ kind: 'udp', srcPort: Number(m[1]), dstPort: Number(m[2]), length: Number(m[3]) + 8 });
        expect(f.payload.length).toBe(Number(m[3]));
        expect(f.payloadOffset).toBe(42);
      } else {
        const m = /^(\d+) → (\d+) \[([A-Z, ]+)\] Seq=\d+ (?:Ack=\d+ )?Win=\d+ Len=(\d+)/.exec(want.info)!;
        if (l4.kind !== 'tcp') throw new Error('not TCP');
        expect(l4).toMatchObject({ srcPort: Number(m[1]), dstPort: Number(m[2]) });
        expect(formatTcpFlags(l4.flags).split('|').sort()).toEqual(m[3].split(', ').sort());
        expect(f.payload.length).toBe(Number(m[4]));
        expect(l4.options.length).toBe(l4.dataOffset * 4 - 20);
      }
    });
    expect(seen).toEqual({ ARP: 2, ICMP: 6, UDP: 16, TCP: 18 });
  });

  it('sees the SYN options and the 41001 -> 5001 connection', () => {
    const f = decodeFrame(pcap.packets[24].data);
    expect(f.l4).toMatchObject({ kind: 'tcp', srcPort: 41001, dstPort: 5001, seq: 0x454d8f9b, dataOffset: 10, window: 64240 });
    // tshark: MSS=1460 SACK_PERM TSval=2023339175 TSecr=0 WS=1024 (shift 10), with one NOP.
    if (f.l4?.kind !== 'tcp') throw new Error('not TCP');
    const opts = decodeTcpOptions(f.l4.options);
    if (!Array.isArray(opts)) throw new Error(opts.message);
    expect(opts.map((o) => o.kind)).toEqual([TCP_OPT_MSS, TCP_OPT_SACK_PERMITTED, TCP_OPT_TIMESTAMPS, TCP_OPT_NOP, TCP_OPT_WSCALE]);
    expect(opts[0].data!.readUInt16BE(0)).toBe(1460);
    expect(opts[2].data!.readUInt32BE(0)).toBe(2023339175);
    expect(opts[2].data!.readUInt32BE(4)).toBe(0);
    expect(1 << opts[4].data![0]).toBe(1024);
    expect(encodeTcpOptions(opts).equals(f.l4.options)).toBe(true);
  });
});

describe('lacp-ovs.pcap (slow protocols)', () => {
  it('decodes every LACPDU and round-trips it', async () => {
    const pcap = await readPcap(fixture('lacp-ovs.pcap'));
    const lines = tsharkLines('lacp-ovs.txt');
    expect(pcap.packets.length).toBe(23);
    pcap.packets.forEach((p, i) => {
      const want = lines.get(i + 1)!;
      const f = decodeFrame(p.data);
      expect(f.truncated).toBeNull();
      expect(f.error).toBeNull();
      expect(f.length).toBe(want.len);
      expect(f.eth).toMatchObject({ src: want.src, dst: '01:80:c2:00:00:02', type: ETH_TYPE_SLOW, vlans: [] });
      expect(f.l3).toMatchObject({ kind: 'slow', offset: 14, subtype: 1 });
      expect(f.payload.readUInt8(0)).toBe(1); // LACP version 1 (802.1AX-2014 6.4.2.3)
      const actor = /ACTOR (\S+)/.exec(want.info)![1];
      expect(f.payload.subarray(5, 11).toString('hex')).toBe(actor.replace(/:/g, ''));
      expect(verifyFrameChecksums(p.data, f)).toEqual({ ipv4: null, l4: null });
      roundTrip(p.data, f);
    });
  });
});

describe('cfm-ovs.pcap (802.1ag CCMs)', () => {
  it('decodes every CCM as tshark did and round-trips it', async () => {
    const pcap = await readPcap(fixture('cfm-ovs.pcap'));
    // The -T fields table: frame, time, eth.src, eth.dst, md level, rdi, interval, seq, mepid.
    const rows = readFileSync(fixture('cfm-ovs.txt'), 'utf8')
      .split('\n')
      .filter((l) => /^\d+\t/.test(l))
      .map((l) => l.split('\t'));
    expect(rows.length).toBe(pcap.packets.length);
    pcap.packets.forEach((p, i) => {
      const [num, , src, dst, level, rdi, interval, seq, mepid] = rows[i];
      expect(Number(num)).toBe(i + 1);
      const f = decodeFrame(p.data);
      expect(f.truncated).toBeNull();
      expect(f.error).toBeNull();
      expect(f.eth).toMatchObject({ src, dst, type: ETH_TYPE_CFM });
      const cfm = f.l3!;
      if (cfm.kind !== 'cfm') throw new Error('not CFM');
      expect(cfm).toMatchObject({ offset: 14, mdLevel: Number(level), version: 0, opcode: 1, firstTlvOffset: 70 });
      expect(cfm.flags >> 7).toBe(Number(rdi)); // IEEE 802.1Q 21.6.1: RDI is bit 8, interval bits 1-3
      expect(cfm.flags & 7).toBe(Number(interval));
      expect(f.payload.readUInt32BE(0)).toBe(Number(seq));
      expect(f.payload.readUInt16BE(4) & 0x1fff).toBe(Number(mepid));
      expect(f.length).toBe(89);
      roundTrip(p.data, f);
    });
  });
});

describe('loopback captures (OpenFlow over TCP, flow exports over UDP; Ethernet linktype, zero MACs)', () => {
  const files: [string, number, number][] = [
    ['openflow13-ovs-ofctl.pcap', 482, 16653],
    ['openflow13-ovs-testcontroller.pcap', 147, 16654],
    ['netflow-v5-ovs.pcap', 2, 29995],
    ['ipfix-ovs.pcap', 41, 24739],
    ['sflow-ovs.pcap', 19, 26343],
  ];
  it.each(files)('%s: decodes, round-trips, and carries the kernel partial checksum', async (name, count, port) => {
    const pcap = await readPcap(fixture(name));
    expect(pcap.packets.length).toBe(count);
    for (const p of pcap.packets) {
      const f = decodeFrame(p.data);
      expect(f.truncated ?? f.error).toBeNull();
      expect(f.eth).toMatchObject({ src: '00:00:00:00:00:00', dst: '00:00:00:00:00:00', type: ETH_TYPE_IPV4 });
      const ip = f.l3!;
      const l4 = f.l4!;
      if (ip.kind !== 'ipv4' || (l4.kind !== 'tcp' && l4.kind !== 'udp')) throw new Error(`unexpected ${ip.kind}/${l4.kind}`);
      expect(ip).toMatchObject({ src: '127.0.0.1', dst: '127.0.0.1' });
      expect([l4.srcPort, l4.dstPort]).toContain(port);
      expect(encodeFrame(f).equals(p.data)).toBe(true);
      // Sent on lo with checksum offload (CHECKSUM_PARTIAL): the field holds
      // only the folded pseudo-header sum, which must equal ours.
      expect(verifyFrameChecksums(p.data, f)).toEqual({ ipv4: true, l4: false });
      expect(l4.checksum).toBe(pseudoHeaderSum(ipv4Bytes(ip.src), ipv4Bytes(ip.dst), ip.protocol, ip.totalLength - ip.headerBytes));
      const fixed = Buffer.from(p.data);
      fillFrameChecksums(fixed);
      expect(verifyFrameChecksums(fixed)).toEqual({ ipv4: true, l4: true });
    }
  });
});
