// ofproto/trace's input: a flow in ovs-ofctl match syntax turned into an
// exact OF flow (OVS parse_ofp_exact_flow: unnamed fields are zero, in_port
// by number or port name), and a frame composed from such a flow for
// -generate (OVS flow_compose: headers from the flow, 64 bytes of L4 payload).

import * as K from '../../datapath/flow/key.js';
import { buildArp } from '../../datapath/packet/arp.js';
import { buildEthernet, type VlanSpec } from '../../datapath/packet/ethernet.js';
import { buildIcmp } from '../../datapath/packet/icmp.js';
import { buildIpv4 } from '../../datapath/packet/ipv4.js';
import { buildIpv6 } from '../../datapath/packet/ipv6.js';
import { buildTcp } from '../../datapath/packet/tcp.js';
import { buildUdp } from '../../datapath/packet/udp.js';
import { ofMatchFromOxm, W_OF_IN_PORT } from '../classifier/of-match.js';
import { applyMatchKeyword, FlowMatch, matchToOxm, parseKeyValues, parsePort } from '../openflow/text/index.js';

/** A trace flow the user got wrong; the message names the part. */
export class TraceFlowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TraceFlowError';
  }
}

/** Fields that an exact flow cannot give with a mask (they would not name one packet). */
const NO_MASK = ['dlSrc', 'dlDst', 'nwSrc', 'nwDst', 'ipv6Src', 'ipv6Dst', 'arpSha', 'arpTha', 'ndTarget', 'tpSrc', 'tpDst', 'inPort'] as const;

/**
 * Parse "in_port=1,tcp,nw_dst=10.0.0.2,tp_dst=80" into an OF flow.
 * `portNo` resolves a port name used as in_port. Throws TraceFlowError.
 */
export function parseTraceFlow(text: string, portNo: (name: string) => number | undefined): Uint32Array {
  const fm = new FlowMatch();
  try {
    for (const kv of parseKeyValues(text)) {
      if (kv.key === 'in_port' && parsePort(kv.value) === undefined) {
        const n = portNo(kv.value);
        if (n === undefined) throw new TraceFlowError(`in_port=${kv.value}: no such port`);
        fm.setExact('inPort', BigInt(n));
        continue;
      }
      if (!applyMatchKeyword(fm, kv)) throw new TraceFlowError(`${kv.key}: unknown field`);
    }
  } catch (e) {
    if (e instanceof TraceFlowError) throw e;
    throw new TraceFlowError((e as Error).message);
  }
  if (!fm.has('inPort')) throw new TraceFlowError('the flow needs an in_port');
  for (const s of NO_MASK) if (fm.has(s) && !fm.exact(s)) throw new TraceFlowError(`${text}: masks are not allowed in a trace flow`);
  let flow: Uint32Array;
  try {
    flow = ofMatchFromOxm(matchToOxm(fm)).value;
  } catch (e) {
    throw new TraceFlowError((e as Error).message);
  }
  flow[W_OF_IN_PORT] = Number(fm.value('inPort'));
  // OF 1.3 has no OXM for the TTL: take it from the text directly.
  if (fm.has('nwTtl')) flow[K.W_NW_PROTO_TOS_TTL_FRAG] = ((flow[K.W_NW_PROTO_TOS_TTL_FRAG]! & ~K.MASK_NW_TTL) | (Number(fm.value('nwTtl')) << 8)) >>> 0;
  if ((flow[K.W_VLAN0]! & K.VLAN_CFI) !== 0) flow[K.W_VLAN0] = ((K.ETH_TYPE_VLAN << 16) | (flow[K.W_VLAN0]! & 0xffff)) >>> 0;
  return flow;
}

function macBytes(hi: number, lo: number): Uint8Array {
  return Uint8Array.of(hi >>> 8, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff);
}

function ip4Bytes(w: number): Uint8Array {
  return Uint8Array.of(w >>> 24, (w >>> 16) & 0xff, (w >>> 8) & 0xff, w & 0xff);
}

function ip6Bytes(f: Uint32Array, at: number): Uint8Array {
  const b = new Uint8Array(16);
  for (let i = 0; i < 4; i++) b.set(ip4Bytes(f[at + i]!), i * 4);
  return b;
}

const L7_BYTES = 64;

/** A frame with the flow's headers (the -generate packet). */
export function composeTracePacket(f: Uint32Array): Buffer {
  const type = f[K.W_ETH_TYPE]! & 0xffff;
  const ptf = f[K.W_NW_PROTO_TOS_TTL_FRAG]!;
  const proto = ptf >>> 24;
  const tos = (ptf >>> 16) & 0xff;
  const ttl = (ptf >>> 8) & 0xff;
  const sport = f[K.W_TP_PORTS]! >>> 16;
  const dport = f[K.W_TP_PORTS]! & 0xffff;
  const vlans: VlanSpec[] = [];
  for (const w of [K.W_VLAN0, K.W_VLAN1]) {
    const v = f[w]!;
    if ((v & K.VLAN_CFI) === 0) break;
    vlans.push({ tpid: v >>> 16 || K.ETH_TYPE_VLAN, vid: v & 0xfff, pcp: (v >>> 13) & 7 });
  }
  let payload: Uint8Array = new Uint8Array(0);
  const l7 = Buffer.alloc(L7_BYTES);
  const l4 = (pseudo: { src: Uint8Array; dst: Uint8Array }): Uint8Array => {
    if (proto === K.IPPROTO_TCP) return buildTcp({ srcPort: sport, dstPort: dport, flags: f[K.W_TCP_FLAGS]! & 0xfff, payload: l7 }, pseudo);
    if (proto === K.IPPROTO_UDP) return buildUdp({ srcPort: sport, dstPort: dport, payload: l7 }, pseudo);
    if (proto === K.IPPROTO_ICMP) return buildIcmp({ type: sport & 0xff, code: dport & 0xff });
    return new Uint8Array(0);
  };
  if (type === K.ETH_TYPE_IPV4) {
    const src = ip4Bytes(f[K.W_NW_SRC]!);
    const dst = ip4Bytes(f[K.W_NW_DST]!);
    payload = buildIpv4({ src, dst, protocol: proto, tos, ttl, payload: l4({ src, dst }) });
  } else if (type === K.ETH_TYPE_IPV6) {
    const src = ip6Bytes(f, K.W_NW_SRC);
    const dst = ip6Bytes(f, K.W_NW_DST);
    payload = buildIpv6({ src, dst, protocol: proto, trafficClass: tos, hopLimit: ttl, flowLabel: f[K.W_IPV6_LABEL]! & 0xfffff, payload: l4({ src, dst }) });
  } else if (type === K.ETH_TYPE_ARP) {
    payload = buildArp({
      op: proto,
      sha: macBytes(f[K.W_ARP_SHA_HI]!, f[K.W_ARP_SHA_LO]!),
      spa: ip4Bytes(f[K.W_NW_SRC]!),
      tha: macBytes(f[K.W_ARP_THA_HI]!, f[K.W_ARP_THA_LO]!),
      tpa: ip4Bytes(f[K.W_NW_DST]!),
    });
  }
  return buildEthernet({ dst: macBytes(f[K.W_ETH_DST_HI]!, f[K.W_ETH_DST_LO]!), src: macBytes(f[K.W_ETH_SRC_HI]!, f[K.W_ETH_SRC_LO]!), vlans, type, payload, padTo: 60 });
}

/** Packet bytes from hex as ofproto/trace takes them (whitespace allowed). Throws TraceFlowError. */
export function parsePacketHex(text: string): Buffer {
  const h = text.replace(/\s+/g, '');
  if (h.length === 0 || h.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(h)) throw new TraceFlowError('Trailing garbage in packet data');
  const b = Buffer.from(h, 'hex');
  if (b.length < 14) throw new TraceFlowError(`packet of ${b.length} bytes is shorter than an Ethernet header`);
  return b;
}
