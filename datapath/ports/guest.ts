// An in-process emulated host on a port (Interface type `guest`): it owns a
// MAC and IPv4/IPv6 addresses (optionally on a VLAN), answers ARP and
// neighbour solicitations, ICMP/ICMPv6 echo and UDP echo (RFC 862, on
// udpEchoPort), and on command pings or generates UDP/TCP flows. Frames the
// switch transmits to it are parsed with the datapath's own flow extractor;
// frames it sends reach the datapath on the next event-loop turn, so nothing
// re-enters the datapath while it is flushing.

import { buildArp, ARP_OP_REPLY, ARP_OP_REQUEST } from '../packet/arp.js';
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6, parseMac } from '../packet/addr.js';
import { buildEthernet } from '../packet/ethernet.js';
import { buildIcmpEcho, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST } from '../packet/icmp.js';
import { buildIcmpv6Echo, buildIcmpv6Na, buildIcmpv6Ns, ICMPV6_ECHO_REPLY, ICMPV6_ECHO_REQUEST, ICMPV6_ND_NS } from '../packet/icmpv6.js';
import { buildIpv4 } from '../packet/ipv4.js';
import { buildIpv6 } from '../packet/ipv6.js';
import { buildTcp } from '../packet/tcp.js';
import { buildUdp } from '../packet/udp.js';
import { extractFlow } from '../flow/extract.js';
import * as K from '../flow/key.js';
import { DpifError } from '../dpif-error.js';
import { PacketBatch } from '../packet-batch.js';
import { DeferredRx } from './deferred-rx.js';
import { newPortStats, type Port, type PortStats, type RxSink } from './port.js';

export interface GuestOptions {
  /** MAC address, e.g. 02:00:00:00:00:01. */
  mac: string;
  /** IPv4 address with prefix, e.g. 10.0.0.1/24. */
  ip?: string;
  /** IPv6 address with prefix, e.g. 2001:db8::1/64. */
  ip6?: string;
  /** 802.1Q VLAN the guest sends and accepts tagged frames on. */
  vlan?: number;
  /** UDP port echoed back (default 7, the echo service). */
  udpEchoPort?: number;
}

export interface PingResult {
  transmitted: number;
  received: number;
  lossPct: number;
  rttsMs: number[];
}

export interface TrafficOptions {
  /** Destination IPv4 or IPv6 address. */
  dst: string;
  /** icmp: echo requests (replies are counted in icmpTrafficReplies). */
  proto?: 'udp' | 'tcp' | 'icmp';
  flows?: number;
  packetsPerFlow?: number;
  /** Packets per second over all flows; 0 = as fast as possible. */
  ratePps?: number;
  dstPort?: number;
  srcPortBase?: number;
  /** UDP/TCP/ICMP payload bytes. */
  payloadBytes?: number;
  /** Stops the generator at its next tick (within 10 ms). */
  signal?: AbortSignal;
  /** Updated as packets go out, for status while the generator runs. */
  progress?: { sent: number };
}

const ETH_BROADCAST = parseMac('ff:ff:ff:ff:ff:ff');
const NEIGHBOUR_LIMIT = 1024;
const PENDING_LIMIT = 256;
const TX_QUEUE_BATCHES = 64;
const ND_NA_FLAGS = { solicited: true, override: true };

interface PendingEcho {
  sentNs: bigint;
  resolve: (rttMs: number) => void;
}

export class GuestPort implements Port {
  readonly type = 'guest';
  portNo = 0;
  readonly stats: PortStats = newPortStats();
  readonly mtu = 1500;
  readonly mac: Uint8Array;
  readonly ip4: Uint8Array | null;
  readonly prefix4: number;
  readonly ip6: Uint8Array | null;
  readonly vlan: number;
  readonly udpEchoPort: number;
  /** Frames the guest got that it did not answer or expect. */
  ignored = 0;
  /** UDP datagrams received (echo or not), for traffic tests. */
  udpReceived = 0;
  /** ICMP echo replies to traffic({ proto: 'icmp' }). */
  icmpTrafficReplies = 0;

  private sink: RxSink | null = null;
  private readonly neighbours = new Map<string, Uint8Array>();
  private readonly waiters = new Map<string, Array<() => void>>();
  private readonly pending = new Map<number, PendingEcho>();
  private readonly inbox = new PacketBatch();
  /** Frames the guest sends, delivered to the datapath on the next event-loop turn. */
  private readonly outbox = new DeferredRx(TX_QUEUE_BATCHES, (batch) => this.deliver(batch));
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly key = K.newKey();
  private readonly layout = K.newLayout();
  private echoId: number;
  /** Aborted by stop(): wakes a traffic generator waiting for its next tick. */
  private stopping = new AbortController();

  constructor(
    readonly name: string,
    opts: GuestOptions,
  ) {
    this.mac = parseMac(opts.mac);
    if (opts.ip !== undefined) {
      const [addr, len] = splitPrefix(opts.ip, 32, name);
      this.ip4 = parseIpv4(addr);
      this.prefix4 = len;
    } else {
      this.ip4 = null;
      this.prefix4 = 0;
    }
    this.ip6 = opts.ip6 !== undefined ? parseIpv6(splitPrefix(opts.ip6, 128, name)[0]) : null;
    const vlan = opts.vlan ?? 0;
    if (!Number.isInteger(vlan) || vlan < 0 || vlan > 4095) throw new DpifError('EINVAL', `${name}: vlan ${opts.vlan} is not 0..4095`);
    this.vlan = vlan;
    this.udpEchoPort = opts.udpEchoPort ?? 7;
    this.echoId = (this.mac[4] << 8) | this.mac[5];
  }

  get carrier(): boolean {
    return this.sink !== null;
  }

  start(sink: RxSink): void {
    this.sink = sink;
  }

  stop(): void {
    this.sink = null;
    this.stopping.abort();
    this.stopping = new AbortController();
    this.outbox.clear();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const p of this.pending.values()) p.resolve(-1);
    this.pending.clear();
    for (const ws of this.waiters.values()) for (const w of ws) w();
    this.waiters.clear();
  }

  // --- frames from the switch ---------------------------------------------

  send(buf: Uint8Array, off: number, len: number): void {
    if (!this.inbox.push(buf, off, len)) {
      this.stats.txDropped++;
      return;
    }
    this.stats.txPackets++;
    this.stats.txBytes += len;
  }

  flush(): void {
    const b = this.inbox;
    for (let i = 0; i < b.count; i++) this.handle(b.frame(i));
    b.clear();
  }

  private handle(frame: Buffer): void {
    const key = this.key;
    const layout = this.layout;
    extractFlow(frame, 0, frame.length, 0, key, layout);
    const vid = key[K.W_VLAN0] === 0 ? 0 : key[K.W_VLAN0] & 0xfff;
    const dstIsMe = key[K.W_ETH_DST_HI] === ((this.mac[0] << 8) | this.mac[1]) && key[K.W_ETH_DST_LO] === u32(this.mac, 2);
    const dstIsGroup = (key[K.W_ETH_DST_HI] & 0x0100) !== 0;
    if (vid !== this.vlan || key[K.W_VLAN1] !== 0 || !(dstIsMe || dstIsGroup)) {
      this.ignored++;
      return;
    }
    const type = key[K.W_ETH_TYPE];
    const proto = key[K.W_NW_PROTO_TOS_TTL_FRAG] >>> 24;
    const l4 = layout[K.L_L4];
    if (type === K.ETH_TYPE_ARP && this.ip4 !== null && layout[K.L_L3] >= 0) {
      this.handleArp(frame, layout[K.L_L3], proto);
    } else if (type === K.ETH_TYPE_IPV4 && this.ip4 !== null && l4 >= 0 && key[K.W_NW_DST] === u32(this.ip4, 0)) {
      const srcIp = frame.subarray(layout[K.L_L3] + 12, layout[K.L_L3] + 16);
      const srcMac = frame.subarray(6, 12);
      if (proto === K.IPPROTO_ICMP) this.handleIcmp(frame, l4, srcIp, srcMac, false);
      else if (proto === K.IPPROTO_UDP) this.handleUdp(frame, l4, srcIp, srcMac, false);
      else this.ignored++;
    } else if (type === K.ETH_TYPE_IPV6 && this.ip6 !== null && l4 >= 0) {
      const l3 = layout[K.L_L3];
      const srcIp = frame.subarray(l3 + 8, l3 + 24);
      const srcMac = frame.subarray(6, 12);
      const icmpType = key[K.W_TP_PORTS] >>> 16;
      if (proto === K.IPPROTO_ICMPV6 && icmpType === ICMPV6_ND_NS) this.handleNs(frame, l4, srcIp, srcMac);
      else if (proto === K.IPPROTO_ICMPV6 && icmpType === 136) this.learn(frame.subarray(l4 + 8, l4 + 24), key, true);
      else if (!equalBytes(frame.subarray(l3 + 24, l3 + 40), this.ip6)) this.ignored++;
      else if (proto === K.IPPROTO_ICMPV6) this.handleIcmp(frame, l4, srcIp, srcMac, true);
      else if (proto === K.IPPROTO_UDP) this.handleUdp(frame, l4, srcIp, srcMac, true);
      else this.ignored++;
    } else {
      this.ignored++;
    }
  }

  private handleArp(frame: Buffer, l3: number, op: number): void {
    const spa = frame.subarray(l3 + 14, l3 + 18);
    const sha = frame.subarray(l3 + 8, l3 + 14);
    const tpa = frame.subarray(l3 + 24, l3 + 28);
    if (!equalBytes(tpa, this.ip4!)) {
      this.ignored++;
      return;
    }
    this.remember(formatIpv4(spa), sha);
    if (op === ARP_OP_REQUEST) {
      const arp = buildArp({ op: ARP_OP_REPLY, sha: this.mac, spa: this.ip4!, tha: sha, tpa: spa });
      this.emit(sha, K.ETH_TYPE_ARP, arp);
    }
  }

  private handleNs(frame: Buffer, l4: number, srcIp: Uint8Array, srcMac: Uint8Array): void {
    const target = frame.subarray(l4 + 8, l4 + 24);
    if (!equalBytes(target, this.ip6!)) {
      this.ignored++;
      return;
    }
    this.remember(formatIpv6(srcIp), srcMac);
    const na = buildIcmpv6Na({ target: this.ip6!, tll: this.mac, ...ND_NA_FLAGS }, { src: this.ip6!, dst: srcIp });
    this.emit(srcMac, K.ETH_TYPE_IPV6, buildIpv6({ src: this.ip6!, dst: srcIp, protocol: K.IPPROTO_ICMPV6, hopLimit: 255, payload: na }));
  }

  private learn(target: Uint8Array, key: Uint32Array, v6: boolean): void {
    const hi = key[v6 ? K.W_ARP_THA_HI : K.W_ARP_SHA_HI];
    const lo = key[v6 ? K.W_ARP_THA_LO : K.W_ARP_SHA_LO];
    const mac = new Uint8Array([hi >>> 8, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff]);
    this.remember(v6 ? formatIpv6(target) : formatIpv4(target), mac);
  }

  private handleIcmp(frame: Buffer, l4: number, srcIp: Uint8Array, srcMac: Uint8Array, v6: boolean): void {
    const type = frame[l4];
    const id = frame.readUInt16BE(l4 + 4);
    const seq = frame.readUInt16BE(l4 + 6);
    const end = this.l3End(frame, v6);
    const payload = frame.subarray(l4 + 8, end);
    if (type === (v6 ? ICMPV6_ECHO_REQUEST : ICMP_ECHO_REQUEST)) {
      if (v6) {
        const icmp = buildIcmpv6Echo({ reply: true, id, seq, payload }, { src: this.ip6!, dst: srcIp });
        this.emit(srcMac, K.ETH_TYPE_IPV6, buildIpv6({ src: this.ip6!, dst: srcIp, protocol: K.IPPROTO_ICMPV6, payload: icmp }));
      } else {
        const icmp = buildIcmpEcho({ reply: true, id, seq, payload });
        this.emit(srcMac, K.ETH_TYPE_IPV4, buildIpv4({ src: this.ip4!, dst: srcIp, protocol: K.IPPROTO_ICMP, payload: icmp }));
      }
    } else if (type === (v6 ? ICMPV6_ECHO_REPLY : ICMP_ECHO_REPLY) && id === this.trafficEchoId) {
      this.icmpTrafficReplies++;
    } else if (type === (v6 ? ICMPV6_ECHO_REPLY : ICMP_ECHO_REPLY) && id === this.echoId) {
      const p = this.pending.get(seq);
      if (p !== undefined) {
        this.pending.delete(seq);
        p.resolve(Number(process.hrtime.bigint() - p.sentNs) / 1e6);
      }
    } else {
      this.ignored++;
    }
  }

  private handleUdp(frame: Buffer, l4: number, srcIp: Uint8Array, srcMac: Uint8Array, v6: boolean): void {
    this.udpReceived++;
    const srcPort = frame.readUInt16BE(l4);
    const dstPort = frame.readUInt16BE(l4 + 2);
    if (dstPort !== this.udpEchoPort) return;
    const payload = frame.subarray(l4 + 8, this.l3End(frame, v6));
    const me = v6 ? this.ip6! : this.ip4!;
    const udp = buildUdp({ srcPort: dstPort, dstPort: srcPort, payload }, { src: me, dst: srcIp });
    this.emitIp(srcMac, srcIp, K.IPPROTO_UDP, udp, v6);
  }

  private l3End(frame: Buffer, v6: boolean): number {
    const l3 = this.layout[K.L_L3];
    return v6 ? l3 + 40 + frame.readUInt16BE(l3 + 4) : l3 + frame.readUInt16BE(l3 + 2);
  }

  // --- frames to the switch -----------------------------------------------

  private emitIp(dstMac: Uint8Array, dstIp: Uint8Array, proto: number, l4: Uint8Array, v6: boolean): void {
    if (v6) this.emit(dstMac, K.ETH_TYPE_IPV6, buildIpv6({ src: this.ip6!, dst: dstIp, protocol: proto, payload: l4 }));
    else this.emit(dstMac, K.ETH_TYPE_IPV4, buildIpv4({ src: this.ip4!, dst: dstIp, protocol: proto, payload: l4 }));
  }

  private emit(dstMac: Uint8Array, type: number, payload: Uint8Array): void {
    const vlans = this.vlan !== 0 ? [{ vid: this.vlan }] : undefined;
    const frame = buildEthernet({ dst: dstMac, src: this.mac, vlans, type, payload });
    if (!this.outbox.push(frame)) {
      this.stats.rxDropped++;
      return;
    }
    if (this.sink !== null) this.outbox.schedule();
  }

  private deliver(batch: PacketBatch): void {
    if (this.sink === null) return;
    this.stats.rxPackets += batch.count;
    for (let i = 0; i < batch.count; i++) this.stats.rxBytes += batch.len[i];
    this.sink.receive(this.portNo, batch);
  }

  // --- neighbours -----------------------------------------------------------

  private remember(ip: string, mac: Uint8Array): void {
    if (!this.neighbours.has(ip) && this.neighbours.size >= NEIGHBOUR_LIMIT) {
      const oldest = this.neighbours.keys().next().value as string;
      this.neighbours.delete(oldest);
    }
    this.neighbours.set(ip, Uint8Array.from(mac));
    const ws = this.waiters.get(ip);
    if (ws !== undefined) {
      this.waiters.delete(ip);
      for (const w of ws) w();
    }
  }

  /** The neighbour table as text (for appctl). */
  neighbourTable(): Array<{ ip: string; mac: string }> {
    return [...this.neighbours].map(([ip, mac]) => ({ ip, mac: [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':') }));
  }

  /** Resolve ip to a MAC with ARP / neighbour solicitation: up to 3 tries of timeoutMs each. */
  async resolve(ip: string, timeoutMs = 1000): Promise<Uint8Array> {
    const v6 = ip.includes(':');
    const addr = v6 ? parseIpv6(ip) : parseIpv4(ip);
    const norm = v6 ? formatIpv6(addr) : formatIpv4(addr);
    for (let attempt = 0; attempt < 3; attempt++) {
      const known = this.neighbours.get(norm);
      if (known !== undefined) return known;
      if (this.sink === null) break;
      const got = new Promise<void>((resolve) => {
        const list = this.waiters.get(norm) ?? [];
        list.push(resolve);
        this.waiters.set(norm, list);
        this.timer(resolve, timeoutMs);
      });
      if (v6) {
        if (this.ip6 === null) throw new DpifError('EADDRNOTAVAIL', `${this.name}: no IPv6 address`);
        // Solicited-node multicast address and MAC (RFC 4291 2.7.1, RFC 2464 7).
        const snm = parseIpv6(`ff02::1:ff00:0`);
        snm.set(addr.subarray(13), 13);
        const mmac = new Uint8Array([0x33, 0x33, snm[12], snm[13], snm[14], snm[15]]);
        const ns = buildIcmpv6Ns({ target: addr, sll: this.mac }, { src: this.ip6, dst: snm });
        this.emit(mmac, K.ETH_TYPE_IPV6, buildIpv6({ src: this.ip6, dst: snm, protocol: K.IPPROTO_ICMPV6, hopLimit: 255, payload: ns }));
      } else {
        if (this.ip4 === null) throw new DpifError('EADDRNOTAVAIL', `${this.name}: no IPv4 address`);
        this.emit(ETH_BROADCAST, K.ETH_TYPE_ARP, buildArp({ op: ARP_OP_REQUEST, sha: this.mac, spa: this.ip4, tpa: addr }));
      }
      await got;
    }
    const known = this.neighbours.get(norm);
    if (known !== undefined) return known;
    throw new DpifError('EHOSTUNREACH', `${this.name}: no answer to ${v6 ? 'neighbour solicitation' : 'ARP'} for ${norm}`);
  }

  /** Ping like ping(8): count echo requests, intervalMs apart, each waiting up to timeoutMs. */
  async ping(ip: string, count = 3, opts: { intervalMs?: number; timeoutMs?: number } = {}): Promise<PingResult> {
    if (!Number.isInteger(count) || count < 1 || count > 100_000) throw new DpifError('EINVAL', `${this.name}: ping count ${count} is not 1..100000`);
    const intervalMs = opts.intervalMs ?? 1000;
    const timeoutMs = opts.timeoutMs ?? 1000;
    const v6 = ip.includes(':');
    const dstIp = v6 ? parseIpv6(ip) : parseIpv4(ip);
    const rtts: number[] = [];
    let mac: Uint8Array | null = null;
    try {
      mac = await this.resolve(ip, timeoutMs);
    } catch {
      mac = null;
    }
    for (let seq = 1; seq <= count; seq++) {
      if (mac === null || this.sink === null) break;
      if (this.pending.size >= PENDING_LIMIT) break;
      const wire = seq & 0xffff;
      const reply = new Promise<number>((resolve) => {
        this.pending.set(wire, { sentNs: process.hrtime.bigint(), resolve });
        this.timer(() => {
          if (this.pending.get(wire)?.resolve === resolve) {
            this.pending.delete(wire);
            resolve(-1);
          }
        }, timeoutMs);
      });
      const payload = Buffer.alloc(56, seq & 0xff);
      if (v6) {
        const icmp = buildIcmpv6Echo({ id: this.echoId, seq: wire, payload }, { src: this.ip6!, dst: dstIp });
        this.emitIp(mac, dstIp, K.IPPROTO_ICMPV6, icmp, true);
      } else {
        this.emitIp(mac, dstIp, K.IPPROTO_ICMP, buildIcmpEcho({ id: this.echoId, seq: wire, payload }), false);
      }
      const rtt = await reply;
      if (rtt >= 0) rtts.push(rtt);
      if (seq < count && intervalMs > 0) await new Promise<void>((r) => this.timer(r, intervalMs));
    }
    return { transmitted: count, received: rtts.length, lossPct: Math.round(((count - rtts.length) / count) * 1000) / 10, rttsMs: rtts };
  }

  /** Generate flows: `flows` distinct source ports, packetsPerFlow each, at ratePps. Resolves with packets sent. */
  async traffic(o: TrafficOptions): Promise<{ sent: number }> {
    const flows = o.flows ?? 1;
    const per = o.packetsPerFlow ?? 1;
    const rate = o.ratePps ?? 0;
    const proto = o.proto ?? 'udp';
    const dstPort = o.dstPort ?? 9;
    const base = o.srcPortBase ?? 40000;
    if (!Number.isInteger(flows) || flows < 1 || flows > 65535 || base + flows - 1 > 65535) throw new DpifError('EINVAL', `${this.name}: flows must be 1..65535 within the port range`);
    if (!Number.isInteger(per) || per < 1) throw new DpifError('EINVAL', `${this.name}: packetsPerFlow must be a positive integer`);
    const v6 = o.dst.includes(':');
    const dstIp = v6 ? parseIpv6(o.dst) : parseIpv4(o.dst);
    const mac = await this.resolve(o.dst);
    const me = v6 ? this.ip6! : this.ip4!;
    const payload = Buffer.alloc(o.payloadBytes ?? 64, 0x5a);
    const total = flows * per;
    let sent = 0;
    const tickMs = 10;
    const perTick = rate > 0 ? Math.max(1, Math.round((rate * tickMs) / 1000)) : total;
    const progress = o.progress ?? { sent: 0 };
    const stopping = this.stopping.signal;
    while (sent < total && this.sink !== null && o.signal?.aborted !== true) {
      for (let k = 0; k < perTick && sent < total; k++, sent++) {
        const f = sent % flows;
        const n = Math.floor(sent / flows);
        const srcPort = base + f;
        if (proto === 'icmp') {
          // The flow key of ICMP has no identifier: every echo is one flow, numbered by seq.
          const echo = { id: this.trafficEchoId, seq: sent & 0xffff, payload };
          if (v6) this.emitIp(mac, dstIp, K.IPPROTO_ICMPV6, buildIcmpv6Echo(echo, { src: me, dst: dstIp }), true);
          else this.emitIp(mac, dstIp, K.IPPROTO_ICMP, buildIcmpEcho(echo), false);
          continue;
        }
        const l4 =
          proto === 'udp'
            ? buildUdp({ srcPort, dstPort, payload }, { src: me, dst: dstIp })
            : buildTcp(
                { srcPort, dstPort, seq: n * payload.length, flags: n === 0 ? 0x02 : n === per - 1 ? 0x11 : 0x18, payload: n === 0 ? undefined : payload },
                { src: me, dst: dstIp },
              );
        this.emitIp(mac, dstIp, proto === 'udp' ? K.IPPROTO_UDP : K.IPPROTO_TCP, l4, v6);
      }
      progress.sent = sent;
      // Yield so the datapath drains the queue (and the rate holds); stop() or the caller's signal wake it.
      await (rate > 0 ? sleep(tickMs, o.signal, stopping) : new Promise<void>((r) => setImmediate(r)));
    }
    progress.sent = sent;
    return { sent };
  }

  /** Echo identifier of traffic({ proto: 'icmp' }); ping() uses echoId. */
  private get trafficEchoId(): number {
    return this.echoId ^ 0x8000;
  }

  private timer(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }
}

/** Resolves after ms, or as soon as either signal aborts. */
function sleep(ms: number, a: AbortSignal | undefined, b: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(t);
      a?.removeEventListener('abort', done);
      b.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    if (a?.aborted === true || b.aborted) return done();
    a?.addEventListener('abort', done, { once: true });
    b.addEventListener('abort', done, { once: true });
  });
}

function splitPrefix(text: string, max: number, name: string): [string, number] {
  const [addr, len] = text.split('/');
  const n = len === undefined ? max : Number(len);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new DpifError('EINVAL', `${name}: bad prefix length in ${text}`);
  return [addr, n];
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
