// Frames made by datapath/packet's builders, checked by an independent
// dissector: tshark must find nothing malformed, every checksum good, and the
// same fields decodeFrame reports. Skipped when tshark is not installed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ETH_TYPE_MPLS, ETH_TYPE_QINQ, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from '../../datapath/flow/key.js';
import { buildArp } from '../../datapath/packet/arp.js';
import { buildEthernet, ETH_MIN_FRAME_BYTES } from '../../datapath/packet/ethernet.js';
import { decodeFrame } from '../../datapath/packet/frame.js';
import { buildIcmpEcho } from '../../datapath/packet/icmp.js';
import { buildIcmpv6Echo, buildIcmpv6Na, buildIcmpv6Ns, ND_OPT_SLL, ND_OPT_TLL, ndLinkAddress, type Icmpv6Header } from '../../datapath/packet/icmpv6.js';
import { buildIpv4, IPV4_FLAG_DF } from '../../datapath/packet/ipv4.js';
import { buildIpv6, IPPROTO_DSTOPTS, IPPROTO_HOPOPTS, IPPROTO_ROUTING } from '../../datapath/packet/ipv6.js';
import { buildMpls } from '../../datapath/packet/mpls.js';
import { buildSctp, SCTP_CHUNK_INIT } from '../../datapath/packet/sctp.js';
import { buildTcp, encodeTcpOptions, TCP_ACK, TCP_OPT_MSS, TCP_OPT_NOP, TCP_OPT_WSCALE, TCP_PSH, TCP_SYN } from '../../datapath/packet/tcp.js';
import { buildUdp } from '../../datapath/packet/udp.js';
import { writePcap } from '../helpers/pcap-writer.js';

function hasTshark(): boolean {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const MAC = { dst: '02:00:00:00:00:02', src: '02:00:00:00:00:01' };
const v4 = { src: '10.99.0.1', dst: '10.99.0.2' };
const v6 = { src: '2001:db8::1', dst: '2001:db8::2' };
const ll = { src: 'fe80::1', dst: 'fe80::2' };

function frames(): Buffer[] {
  const ipv4 = (protocol: number, payload: Buffer, extra = {}) => buildIpv4({ ...v4, protocol, flags: IPV4_FLAG_DF, id: 0x1234, payload, ...extra });
  const eth = (type: number, payload: Buffer, vlans: { vid: number; tpid?: number; pcp?: number }[] = []) =>
    buildEthernet({ ...MAC, vlans, type, payload, padTo: ETH_MIN_FRAME_BYTES });
  const data = Buffer.from('tsvs packet codec check');
  const synOptions = encodeTcpOptions([
    { kind: TCP_OPT_MSS, data: Buffer.from([0x05, 0xb4]) },
    { kind: TCP_OPT_NOP },
    { kind: TCP_OPT_WSCALE, data: Buffer.from([7]) },
  ]);
  return [
    eth(0x0806, buildArp({ op: 1, sha: MAC.src, spa: v4.src, tpa: v4.dst })),
    eth(0x0800, ipv4(IPPROTO_ICMP, buildIcmpEcho({ id: 0x4458, seq: 1, payload: data }))),
    eth(0x0800, ipv4(IPPROTO_UDP, buildUdp({ srcPort: 40002, dstPort: 5002, payload: data }, v4)), [{ vid: 100, pcp: 5 }]),
    eth(0x0800, ipv4(IPPROTO_TCP, buildTcp({ srcPort: 41001, dstPort: 5001, seq: 1, flags: TCP_SYN, window: 64240, options: synOptions }, v4)), [{ tpid: ETH_TYPE_QINQ, vid: 10 }, { vid: 20 }]),
    eth(0x0800, ipv4(IPPROTO_TCP, buildTcp({ srcPort: 41001, dstPort: 5001, seq: 2, ack: 3, flags: TCP_PSH | TCP_ACK, payload: data }, v4), { options: [{ type: 148, data: new Uint8Array(2) }] })),
    eth(0x0800, ipv4(IPPROTO_SCTP, buildSctp({ srcPort: 5000, dstPort: 5001, verificationTag: 0, chunks: [{ type: SCTP_CHUNK_INIT, value: Buffer.from('00000001000100000001000100000001', 'hex') }] }))),
    eth(ETH_TYPE_MPLS, buildMpls({ labels: [{ label: 100 }, { label: 200, tc: 5 }], payload: ipv4(IPPROTO_UDP, buildUdp({ srcPort: 1, dstPort: 2, payload: data }, v4)) })),
    eth(0x86dd, buildIpv6({ ...ll, protocol: IPPROTO_ICMPV6, hopLimit: 255, payload: buildIcmpv6Ns({ target: ll.dst, sll: MAC.src }, ll) })),
    eth(0x86dd, buildIpv6({ ...ll, protocol: IPPROTO_ICMPV6, hopLimit: 255, payload: buildIcmpv6Na({ target: ll.src, tll: MAC.dst, solicited: true, override: true }, ll) })),
    eth(0x86dd, buildIpv6({ ...v6, protocol: IPPROTO_ICMPV6, flowLabel: 0x12345, payload: buildIcmpv6Echo({ id: 7, seq: 1, payload: data }, v6) })),
    eth(
      0x86dd,
      buildIpv6({
        ...v6,
        protocol: IPPROTO_UDP,
        extHeaders: [
          { type: IPPROTO_HOPOPTS, options: [{ type: 5, data: new Uint8Array(2) }] },
          { type: IPPROTO_DSTOPTS, options: [] },
          { type: IPPROTO_ROUTING, routingType: 4, segmentsLeft: 0, data: Buffer.concat([Buffer.from('00000000', 'hex'), Buffer.from('20010db8000000000000000000000002', 'hex')]) },
        ],
        payload: buildUdp({ srcPort: 8080, dstPort: 8081, payload: data }, v6),
      }),
    ),
    eth(0x86dd, buildIpv6({ ...v6, protocol: IPPROTO_TCP, payload: buildTcp({ srcPort: 80, dstPort: 49152, flags: TCP_SYN | TCP_ACK, payload: data }, v6) })),
  ];
}

const FIELDS = [
  'frame.number',
  '_ws.malformed',
  '_ws.expert.severity',
  'eth.src',
  'eth.dst',
  'vlan.id',
  'ieee8021ad.id',
  'mpls.label',
  'arp.src.proto_ipv4',
  'ip.src',
  'ip.dst',
  'ipv6.src',
  'ipv6.dst',
  'tcp.srcport',
  'tcp.dstport',
  'udp.srcport',
  'udp.dstport',
  'sctp.srcport',
  'icmp.ident',
  'icmpv6.nd.ns.target_address',
  'icmpv6.nd.na.target_address',
  'icmpv6.opt.linkaddr',
  'ip.checksum.status',
  'tcp.checksum.status',
  'udp.checksum.status',
  'icmp.checksum.status',
  'icmpv6.checksum.status',
  'sctp.checksum.status',
] as const;

describe.skipIf(!hasTshark())('builder frames through tshark', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsvs-packet-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are well formed, checksummed, and decoded alike', () => {
    const all = frames();
    const file = join(dir, 'built.pcap');
    writePcap(file, all);
    const prefs = ['ip.check_checksum:TRUE', 'tcp.check_checksum:TRUE', 'udp.check_checksum:TRUE', 'sctp.checksum:CRC-32C'].flatMap((p) => ['-o', p]);
    const out = execFileSync('tshark', ['-r', file, ...prefs, '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=a', ...FIELDS.flatMap((f) => ['-e', f])], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const rows = out.trim().split('\n').map((l) => Object.fromEntries(l.split('|').map((v, i) => [FIELDS[i], v])) as Record<(typeof FIELDS)[number], string>);
    expect(rows.length).toBe(all.length);
    rows.forEach((t, i) => {
      const where = `frame ${i + 1}: ${JSON.stringify(t)}`;
      const f = decodeFrame(all[i]);
      expect(t['_ws.malformed'], where).toBe('');
      // Expert severities (epan/proto.h): PI_CHAT 0x00200000 (e.g. "SYN") and PI_NOTE are fine; PI_WARN 0x00600000 and PI_ERROR are not.
      for (const s of t['_ws.expert.severity'].split(',').filter(Boolean)) expect(Number(s), where).toBeLessThan(0x00600000);
      for (const k of FIELDS.filter((x) => x.endsWith('checksum.status'))) if (t[k]) expect(t[k], `${where} ${k}`).toBe('1');
      expect(t['eth.src']).toBe(f.eth!.src);
      expect(t['eth.dst']).toBe(f.eth!.dst);
      const tags = f.eth!.vlans;
      expect(t['vlan.id']).toBe(tags.filter((v) => v.tpid === 0x8100).map((v) => v.vid).join(','));
      expect(t['ieee8021ad.id']).toBe(tags.filter((v) => v.tpid === 0x88a8).map((v) => v.vid).join(','));
      expect(t['mpls.label']).toBe(f.mpls ? f.mpls.labels.map((l) => l.label).join(',') : '');
      const l3 = f.l3!;
      if (l3.kind === 'ipv4') expect([t['ip.src'], t['ip.dst']]).toEqual([l3.src, l3.dst]);
      if (l3.kind === 'ipv6') expect([t['ipv6.src'], t['ipv6.dst']]).toEqual([l3.src, l3.dst]);
      if (l3.kind === 'arp') expect(t['arp.src.proto_ipv4']).toBe(l3.spa);
      const l4 = f.l4;
      if (l4?.kind === 'tcp') expect([t['tcp.srcport'], t['tcp.dstport']]).toEqual([String(l4.srcPort), String(l4.dstPort)]);
      if (l4?.kind === 'udp') expect([t['udp.srcport'], t['udp.dstport']]).toEqual([String(l4.srcPort), String(l4.dstPort)]);
      if (l4?.kind === 'sctp') expect(t['sctp.srcport']).toBe(String(l4.srcPort));
      if (l4?.kind === 'icmp') expect(Number(t['icmp.ident'].split(',')[0])).toBe(l4.id);
      if (l4?.kind === 'icmpv6' && l4.body?.kind === 'nd') {
        expect(t[l4.type === 135 ? 'icmpv6.nd.ns.target_address' : 'icmpv6.nd.na.target_address']).toBe(l4.body.target);
        expect(t['icmpv6.opt.linkaddr']).toBe(ndLinkAddress(l4 as Icmpv6Header, l4.type === 135 ? ND_OPT_SLL : ND_OPT_TLL));
      }
    });
  });
});
