// Translation (OVS ofproto-dpif-xlate.c): runs one packet's flow through the
// OpenFlow pipeline from table 0 (or a PACKET_OUT's action list) and returns
// the datapath actions plus the wildcard mask of every field the decision
// depended on. Header changes are tracked in `flow` and written to the
// packet lazily: before each output, commit() compares `flow` with `base`
// (what the datapath packet holds at that point) and emits set_masked /
// push / pop actions, as OVS's commit_odp_actions() does. A field written by
// set_field is unwildcarded, so whether a set was needed is itself decided
// by masked bits.

import type { DpAction, SetAttr } from '../../datapath/actions/types.js';
import { extractFlow } from '../../datapath/flow/extract.js';
import * as K from '../../datapath/flow/key.js';
import type { OfGroup, GroupTable } from '../group-table.js';
import type { MeterTable } from '../meter-table.js';
import { OFPAT, OFPCML_NO_BUFFER, OFPGT, OFPIT, OFPP, OFPPC, OFPR, OFPXMT as X } from '../openflow/constants.js';
import type { Action } from '../openflow/actions.js';
import type { Instruction } from '../openflow/instructions.js';
import { formatAction, formatActions, formatMatch } from '../openflow/text/index.js';
import type { XlateTrace } from './xlate-trace.js';
import type { MacLearning } from '../normal/mac-learning.js';
import { inputVlan, outputVid, portIncludesVlan, type PortVlanConfig } from '../normal/port-vlan.js';
import { OF_WORDS, W_OF_IN_PORT, fieldPieces, metadataOf, setFieldWords, setMetadata, unwildcardField, valueWords } from '../classifier/of-match.js';
import type { RuleTables } from '../classifier/rule-tables.js';
import type { OfRule } from '../classifier/rule.js';

/** Words every select-group hash reads (Ethernet type and addresses). */
const L2_HASH_WORDS = [K.W_ETH_TYPE, K.W_ETH_SRC_HI, K.W_ETH_SRC_LO, K.W_ETH_DST_HI, K.W_ETH_DST_LO] as const;

/** A switch port as translation sees it. */
export interface XlatePort {
  readonly ofPort: number;
  readonly dpPort: number;
  readonly name: string;
  /** OFPPC_* bits (PORT_DOWN, NO_RECV, NO_FWD, NO_PACKET_IN). */
  readonly config: number;
  /** OVS's no_flood: excluded from FLOOD and NORMAL flooding. */
  readonly noFlood: boolean;
  /** Carrier up and admin up: fast-failover liveness. */
  readonly live: boolean;
  readonly vlan: PortVlanConfig;
}

/** What a PACKET_IN built from a userspace action needs. */
export interface PacketInInfo {
  reason: number;
  tableId: number;
  cookie: bigint;
  /** Bytes of the frame to send (OFPCML_NO_BUFFER = all). */
  maxLen: number;
  ofInPort: number;
  metadata: bigint;
}

export interface XlateEnv {
  readonly tables: RuleTables;
  readonly groups: GroupTable;
  readonly meters: MeterTable;
  readonly mac: MacLearning;
  portByOf(ofPort: number): XlatePort | undefined;
  portByDp(dpPort: number): XlatePort | undefined;
  ports(): Iterable<XlatePort>;
  /** fail_mode standalone without a controller: table 0 misses go to NORMAL. */
  failOpen(): boolean;
  /** Register a packet-in context; returns the userspace cookie that names it. */
  packetInCookie(info: PacketInInfo): Uint8Array;
  nowMs(): number;
}

export interface XlateOptions {
  /** OpenFlow in_port (OFPP_CONTROLLER / OFPP_LOCAL allowed for packet-out). */
  ofInPort: number;
  /** Frame length, for meters. */
  packetBytes: number;
  /** Learn MACs in NORMAL (false for trace). */
  learn?: boolean;
  /** Count table lookups/matches (OFPST_TABLE); false for trace and megaflow revalidation. */
  countLookups?: boolean;
  /** ofproto/trace: report each step here (absent on the upcall path). */
  trace?: XlateTrace | null;
  /** PACKET_OUT: run these actions instead of the pipeline. */
  actions?: Action[];
  /**
   * The frame as received (upcall, PACKET_OUT). Lets pop_mpls of the bottom
   * label parse the payload the datapath key never saw (OVS recirculates
   * for that); such a translation is not cached as a megaflow.
   */
  packet?: Uint8Array;
}

export interface GroupHit {
  group: OfGroup;
  bucket: number;
}

export interface MacLearned {
  vlan: number;
  hi: number;
  lo: number;
  port: number;
}

export interface XlateResult {
  actions: DpAction[];
  /** OF-flow wildcard mask (OF_WORDS); datapath mask via dpMaskOf(). */
  wc: Uint32Array;
  /** True when the result depends on packet bytes a megaflow cannot match (MPLS payload, PBB customer frame): not cached. */
  slow: boolean;
  rules: OfRule[];
  /** OpenFlow tables looked up, in order (the revalidator re-checks a megaflow when one of them changes). */
  tables: number[];
  groups: GroupHit[];
  meters: number[];
  learned: MacLearned[];
  /** NORMAL changed the MAC table (megaflows must be revalidated). */
  macChanged: boolean;
  /** The final OF flow (after all header changes). */
  flow: Uint32Array;
}

const MAX_DEPTH = 64;
const CONTROLLER_BUNDLE: XlatePort = { ofPort: OFPP.CONTROLLER, dpPort: 0, name: 'CONTROLLER', config: 0, noFlood: false, live: true, vlan: {} };
const ALL_ONES = 0xffffffff;
const ETH_VLAN_TPID = K.ETH_TYPE_VLAN;

/** Spec 5.10 action-set order: copy TTL in, pop, push-MPLS, push-PBB, push-VLAN, copy TTL out, dec TTL, set, qos, group, output. */
const ACTION_SET_ORDER: readonly number[] = [
  OFPAT.COPY_TTL_IN,
  OFPAT.POP_VLAN,
  OFPAT.POP_MPLS,
  OFPAT.POP_PBB,
  OFPAT.PUSH_MPLS,
  OFPAT.PUSH_PBB,
  OFPAT.PUSH_VLAN,
  OFPAT.COPY_TTL_OUT,
  OFPAT.DEC_MPLS_TTL,
  OFPAT.DEC_NW_TTL,
  OFPAT.SET_MPLS_TTL,
  OFPAT.SET_NW_TTL,
  OFPAT.SET_FIELD,
  OFPAT.SET_QUEUE,
  OFPAT.GROUP,
  OFPAT.OUTPUT,
];

function isMulticast(hi: number): boolean {
  return (hi & 0x0100) !== 0;
}

class Ctx {
  readonly flow = new Uint32Array(OF_WORDS);
  /** The datapath packet's current header values (key layout). */
  readonly base = new Uint32Array(K.KEY_WORDS);
  readonly wc = new Uint32Array(OF_WORDS);
  out: DpAction[] = [];
  readonly actionSet = new Map<string, Action>();
  readonly res: XlateResult;
  depth = 0;
  stopped = false;
  /** Rule currently executing (for packet-in table_id/cookie). */
  rule: OfRule | null = null;
  tableId = 0;

  /** Ethernet type of the received frame (before any push/pop). */
  private readonly rxEthType: number;

  constructor(
    readonly env: XlateEnv,
    readonly opts: XlateOptions,
    key: Uint32Array,
  ) {
    for (let i = 0; i < K.KEY_WORDS; i++) {
      this.flow[i] = key[i]!;
      this.base[i] = key[i]!;
    }
    this.flow[W_OF_IN_PORT] = opts.ofInPort;
    this.rxEthType = key[K.W_ETH_TYPE]! & 0xffff;
    this.tr = opts.trace ?? null;
    this.res = { actions: this.out, wc: this.wc, slow: false, rules: [], tables: [], groups: [], meters: [], learned: [], macChanged: false, flow: this.flow };
  }

  /** The trace sink: call sites test it for null first, so the upcall path builds no text. */
  readonly tr: XlateTrace | null;

  unwild(word: number, bits = ALL_ONES): void {
    this.wc[word] = (this.wc[word]! | bits) >>> 0;
  }

  ethType(): number {
    this.unwild(K.W_ETH_TYPE, 0xffff);
    return this.flow[K.W_ETH_TYPE]! & 0xffff;
  }

  isIp(): boolean {
    const t = this.ethType();
    return t === K.ETH_TYPE_IPV4 || t === K.ETH_TYPE_IPV6;
  }

  isMpls(): boolean {
    const t = this.ethType();
    return t === K.ETH_TYPE_MPLS || t === K.ETH_TYPE_MPLS_MCAST;
  }

  nwProto(): number {
    this.unwild(K.W_NW_PROTO_TOS_TTL_FRAG, K.MASK_NW_PROTO);
    return this.flow[K.W_NW_PROTO_TOS_TTL_FRAG]! >>> 24;
  }

  // --- pipeline ---------------------------------------------------------------

  runTable(tableId: number): void {
    if (this.depth++ > MAX_DEPTH) {
      if (this.tr !== null) this.tr.error(`over max translation depth ${MAX_DEPTH}`);
      this.stopped = true;
      return;
    }
    const table = this.env.tables.tables[tableId]!;
    this.tableId = tableId;
    this.res.tables.push(tableId);
    const rule = table.lookup(this.flow, this.wc, this.tr === null && this.opts.countLookups !== false);
    const tr = this.tr;
    if (rule === null) {
      if (tableId === 0 && this.env.failOpen()) {
        const saved = tr?.table(`${tableLabel(tableId)}No match, fail-open (standalone, no controller).`);
        if (tr !== null) tr.action('NORMAL');
        this.normal();
        if (saved !== undefined) tr!.restore(saved);
        return;
      }
      if (tr !== null) {
        const saved = tr.table(`${tableLabel(tableId)}No match.`);
        tr.action('drop');
        tr.restore(saved);
      }
      return;
    }
    this.res.rules.push(rule);
    this.rule = rule;
    const traceParent = tr !== null ? tr.table(ruleLine(tableId, rule)) : undefined;
    if (tr !== null && rule.instructions.length === 0) tr.action('drop');
    let goto = -1;
    for (const ins of sortInstructions(rule.instructions)) {
      if (this.stopped) break;
      switch (ins.type) {
        case OFPIT.METER:
          this.meter(ins.meterId);
          break;
        case OFPIT.APPLY_ACTIONS:
          this.doActions(ins.actions);
          break;
        case OFPIT.CLEAR_ACTIONS:
          if (tr !== null) tr.action('clear_actions');
          this.actionSet.clear();
          break;
        case OFPIT.WRITE_ACTIONS:
          for (const a of ins.actions) this.actionSet.set(a.type === OFPAT.SET_FIELD && a.field.kind === 'basic' ? `sf${a.field.field}` : String(a.type), a);
          if (tr !== null) {
            tr.action(`write_actions(${ins.actions.map(formatAction).join(',')})`);
            tr.detail(`action set is: ${formatActions([...this.actionSet.values()])}`);
          }
          break;
        case OFPIT.WRITE_METADATA: {
          const md = (metadataOf(this.flow) & ~ins.metadataMask) | (ins.metadata & ins.metadataMask);
          setMetadata(this.flow, md);
          if (tr !== null) tr.action(`write_metadata:0x${ins.metadata.toString(16)}${ins.metadataMask === 0xffffffffffffffffn ? '' : `/0x${ins.metadataMask.toString(16)}`}`);
          break;
        }
        case OFPIT.GOTO_TABLE:
          goto = ins.tableId;
          break;
        default:
          break;
      }
    }
    if (!this.stopped) {
      if (goto >= 0) {
        if (tr !== null) tr.action(`goto_table:${goto}`);
        this.runTable(goto);
      } else {
        this.runActionSet();
      }
    }
    if (traceParent !== undefined) tr!.restore(traceParent);
  }

  runActionSet(): void {
    if (this.actionSet.size === 0) return;
    const set = [...this.actionSet.values()];
    this.actionSet.clear();
    const ordered: Action[] = [];
    for (const t of ACTION_SET_ORDER) for (const a of set) if (a.type === t) ordered.push(a);
    const hasGroup = ordered.some((a) => a.type === OFPAT.GROUP);
    const traceParent = this.tr?.actionSet();
    this.doActions(hasGroup ? ordered.filter((a) => a.type !== OFPAT.OUTPUT) : ordered);
    if (traceParent !== undefined) this.tr!.restore(traceParent);
  }

  /**
   * Meter instruction: the datapath's meter(id) action, so metered megaflows
   * are cached and enforce the rate without upcalls (the datapath meter drops
   * or remarks the packet; see datapath/meter.ts). Only the actions that
   * follow it are affected: outputs of earlier tables already happened.
   */
  meter(meterId: number): void {
    this.res.meters.push(meterId);
    if (this.env.meters.get(meterId) === undefined) {
      if (this.tr !== null) this.tr.warn(`meter:${meterId}: no such meter, dropping`);
      this.stopped = true;
      return;
    }
    if (this.tr !== null) this.tr.detail(`meter:${meterId}: the datapath meter applies (not run by a trace)`);
    this.emit({ type: 'meter', id: meterId });
  }

  // --- actions ------------------------------------------------------------------

  doActions(actions: readonly Action[]): void {
    for (const a of actions) {
      if (this.stopped) return;
      if (this.tr !== null) this.tr.action(formatAction(a));
      switch (a.type) {
        case OFPAT.OUTPUT:
          this.output(a.port, a.maxLen);
          break;
        case OFPAT.GROUP:
          this.group(a.groupId);
          break;
        case OFPAT.SET_FIELD:
          if (a.field.kind === 'basic') this.setField(a.field.field, a.field.value);
          break;
        case OFPAT.PUSH_VLAN:
          this.pushVlan(a.ethertype);
          break;
        case OFPAT.POP_VLAN:
          this.popVlan();
          break;
        case OFPAT.PUSH_MPLS:
          this.pushMpls(a.ethertype);
          break;
        case OFPAT.POP_MPLS:
          this.popMpls(a.ethertype);
          break;
        case OFPAT.PUSH_PBB:
          this.pushPbb(a.ethertype);
          break;
        case OFPAT.POP_PBB:
          this.popPbb();
          break;
        case OFPAT.SET_MPLS_TTL:
          if (this.isMpls()) this.setMplsTtl(a.ttl);
          break;
        case OFPAT.DEC_MPLS_TTL:
          if (this.isMpls()) {
            this.unwild(K.W_MPLS0, 0xff);
            const ttl = this.flow[K.W_MPLS0]! & 0xff;
            if (ttl <= 1) this.invalidTtl();
            else this.setMplsTtl(ttl - 1);
          }
          break;
        case OFPAT.SET_NW_TTL:
          if (this.isIp()) this.setNwTtl(a.ttl);
          break;
        case OFPAT.DEC_NW_TTL:
          if (this.isIp()) {
            this.unwild(K.W_NW_PROTO_TOS_TTL_FRAG, K.MASK_NW_TTL);
            const ttl = (this.flow[K.W_NW_PROTO_TOS_TTL_FRAG]! >>> 8) & 0xff;
            if (ttl <= 1) this.invalidTtl();
            else this.setNwTtl(ttl - 1);
          }
          break;
        case OFPAT.COPY_TTL_OUT:
          // Next-to-outermost TTL → outermost MPLS TTL (1.3 5.12): the next label's, else the IP packet's.
          if (this.isMpls()) {
            this.unwild(K.W_MPLS0, 0x100);
            if ((this.flow[K.W_MPLS0]! & 0x100) === 0) {
              this.unwild(K.W_MPLS1, 0xff);
              this.setMplsTtl(this.flow[K.W_MPLS1]! & 0xff);
              break;
            }
            this.unwild(K.W_NW_PROTO_TOS_TTL_FRAG, K.MASK_NW_TTL);
            // Right after push_mpls the key still holds the IP TTL; a received MPLS frame's is in its payload.
            const ttl = (this.flow[K.W_NW_PROTO_TOS_TTL_FRAG]! >>> 8) & 0xff || this.payloadIpTtl();
            if (ttl > 0) this.setMplsTtl(ttl);
          }
          break;
        case OFPAT.COPY_TTL_IN:
          // Outermost MPLS TTL → the IP packet behind a single label; the datapath rewrites the payload.
          if (this.isMpls()) {
            this.unwild(K.W_MPLS0, 0x1ff);
            if ((this.flow[K.W_MPLS0]! & 0x100) === 0) {
              if (this.tr !== null) this.tr.warn('copy_ttl_in between two labels is not supported, skipping');
              break;
            }
            this.commit();
            this.emit({ type: 'copy_ttl_in' });
          }
          break;
        case OFPAT.SET_QUEUE:
          // Accepted; tsvs has no QoS queues yet, so the queue id has no effect.
          break;
        default:
          // Rejected at FLOW_MOD/GROUP_MOD/PACKET_OUT time; nothing to do here.
          break;
      }
    }
  }

  invalidTtl(): void {
    if (this.tr !== null) this.tr.warn('TTL expired: packet-in (invalid_ttl), stopping');
    this.toController(OFPCML_NO_BUFFER, OFPR.INVALID_TTL);
    this.stopped = true;
  }

  setNwTtl(ttl: number): void {
    this.unwild(K.W_NW_PROTO_TOS_TTL_FRAG, K.MASK_NW_TTL);
    const w = this.flow[K.W_NW_PROTO_TOS_TTL_FRAG]!;
    this.flow[K.W_NW_PROTO_TOS_TTL_FRAG] = ((w & ~K.MASK_NW_TTL) | ((ttl & 0xff) << 8)) >>> 0;
  }

  setMplsTtl(ttl: number): void {
    this.unwild(K.W_MPLS0, 0xff);
    this.flow[K.W_MPLS0] = ((this.flow[K.W_MPLS0]! & ~0xff) | (ttl & 0xff)) >>> 0;
  }

  setField(field: number, value: number | bigint | Buffer): void {
    // Prerequisites are checked against the packet: a set on a header the packet lacks is skipped.
    if (!this.fieldApplies(field)) {
      if (this.tr !== null) this.tr.warn('skipping set_field: the packet lacks the field');
      return;
    }
    if (field === X.VLAN_VID || field === X.VLAN_PCP) {
      this.unwild(K.W_VLAN0);
      if ((this.flow[K.W_VLAN0]! & K.VLAN_CFI) === 0) this.pushVlan(ETH_VLAN_TPID);
      const w = this.flow[K.W_VLAN0]!;
      const v = Number(value);
      this.flow[K.W_VLAN0] = field === X.VLAN_VID ? ((w & ~0x0fff) | (v & 0xfff)) >>> 0 : ((w & ~0xe000) | ((v & 7) << 13)) >>> 0;
      return;
    }
    if (field === X.METADATA) {
      setMetadata(this.flow, value as bigint);
      return;
    }
    if (field === X.ETH_TYPE) {
      // Written at once (commit() diffs only within one ethertype's fields); the datapath re-reads the headers.
      this.unwild(K.W_ETH_TYPE, 0xffff);
      this.commit();
      const et = Number(value) & 0xffff;
      if (et === (this.flow[K.W_ETH_TYPE]! & 0xffff)) return;
      this.emit({ type: 'set_eth_type', ethertype: et });
      this.flow[K.W_ETH_TYPE] = et;
      this.base[K.W_ETH_TYPE] = et;
      return;
    }
    if (fieldPieces(field) === undefined) return;
    unwildcardField(this.wc, field);
    setFieldWords(this.flow, field, valueWords(field, value));
  }

  fieldApplies(field: number): boolean {
    switch (field) {
      case X.ETH_DST:
      case X.ETH_SRC:
      case X.ETH_TYPE:
      case X.VLAN_VID:
      case X.VLAN_PCP:
      case X.METADATA:
      case X.TUNNEL_ID:
      case X.IN_PORT:
        return true;
      case X.IP_DSCP:
      case X.IP_ECN:
      case X.IP_PROTO:
        return this.isIp();
      case X.IPV4_SRC:
      case X.IPV4_DST:
        return this.ethType() === K.ETH_TYPE_IPV4;
      case X.IPV6_SRC:
      case X.IPV6_DST:
      case X.IPV6_FLABEL:
        return this.ethType() === K.ETH_TYPE_IPV6;
      case X.TCP_SRC:
      case X.TCP_DST:
        return this.isIp() && this.nwProto() === K.IPPROTO_TCP;
      case X.UDP_SRC:
      case X.UDP_DST:
        return this.isIp() && this.nwProto() === K.IPPROTO_UDP;
      case X.SCTP_SRC:
      case X.SCTP_DST:
        return this.isIp() && this.nwProto() === K.IPPROTO_SCTP;
      case X.ICMPV4_TYPE:
      case X.ICMPV4_CODE:
        return this.ethType() === K.ETH_TYPE_IPV4 && this.nwProto() === K.IPPROTO_ICMP;
      case X.ICMPV6_TYPE:
      case X.ICMPV6_CODE:
        return this.ethType() === K.ETH_TYPE_IPV6 && this.nwProto() === K.IPPROTO_ICMPV6;
      case X.ARP_OP:
      case X.ARP_SPA:
      case X.ARP_TPA:
      case X.ARP_SHA:
      case X.ARP_THA:
        return this.ethType() === K.ETH_TYPE_ARP;
      case X.IPV6_ND_TARGET:
      case X.IPV6_ND_SLL:
      case X.IPV6_ND_TLL: {
        if (this.ethType() !== K.ETH_TYPE_IPV6 || this.nwProto() !== K.IPPROTO_ICMPV6) return false;
        this.unwild(K.W_TP_PORTS, 0x00ff0000);
        const type = (this.flow[K.W_TP_PORTS]! >>> 16) & 0xff;
        return field === X.IPV6_ND_TARGET ? type === 135 || type === 136 : field === X.IPV6_ND_SLL ? type === 135 : type === 136;
      }
      case X.MPLS_LABEL:
      case X.MPLS_TC:
      case X.MPLS_BOS:
        return this.isMpls();
      default:
        return false;
    }
  }

  pushVlan(tpid: number): void {
    this.unwild(K.W_VLAN0);
    this.unwild(K.W_VLAN1);
    const outer = this.flow[K.W_VLAN0]!;
    // 1.3 5.12: the new tag copies VID/PCP of an existing outer tag, else 0.
    const tci = (outer & K.VLAN_CFI) !== 0 ? outer & 0xffff : K.VLAN_CFI;
    this.flow[K.W_VLAN1] = outer;
    this.flow[K.W_VLAN0] = ((tpid << 16) | tci | K.VLAN_CFI) >>> 0;
  }

  popVlan(): void {
    this.unwild(K.W_VLAN0);
    this.unwild(K.W_VLAN1);
    if ((this.flow[K.W_VLAN0]! & K.VLAN_CFI) === 0) return;
    this.flow[K.W_VLAN0] = this.flow[K.W_VLAN1]!;
    this.flow[K.W_VLAN1] = 0;
  }

  pushMpls(ethertype: number): void {
    const wasMpls = this.isMpls();
    this.unwild(K.W_MPLS0);
    this.unwild(K.W_NW_PROTO_TOS_TTL_FRAG, K.MASK_NW_TTL);
    this.commit();
    let lse: number;
    if (wasMpls) lse = (this.flow[K.W_MPLS0]! & ~0x100) >>> 0; // copy label/tc/ttl, bos = 0
    else lse = (0x100 | (this.isIp() ? (this.flow[K.W_NW_PROTO_TOS_TTL_FRAG]! >>> 8) & 0xff : 64)) >>> 0;
    this.emit({ type: 'push_mpls', lse, ethertype });
    for (const arr of [this.flow, this.base]) {
      arr[K.W_MPLS2] = arr[K.W_MPLS1]!;
      arr[K.W_MPLS1] = arr[K.W_MPLS0]!;
      arr[K.W_MPLS0] = lse;
      arr[K.W_ETH_TYPE] = ethertype;
    }
  }

  popMpls(ethertype: number): void {
    if (!this.isMpls()) return;
    this.unwild(K.W_MPLS0);
    this.unwild(K.W_MPLS1);
    this.commit();
    this.emit({ type: 'pop_mpls', ethertype });
    const bos = (this.flow[K.W_MPLS0]! & 0x100) !== 0;
    for (const arr of [this.flow, this.base]) {
      arr[K.W_MPLS0] = arr[K.W_MPLS1]!;
      arr[K.W_MPLS1] = arr[K.W_MPLS2]!;
      arr[K.W_MPLS2] = 0;
      arr[K.W_ETH_TYPE] = ethertype;
    }
    if (bos) this.parsePayload(ethertype);
  }

  /**
   * TTL / hop limit of the IP packet behind a received frame's bottom label,
   * or 0 (no frame, not IP). Depends on bytes the megaflow cannot match: slow path.
   */
  payloadIpTtl(): number {
    const pkt = this.opts.packet;
    if (pkt === undefined) {
      this.res.slow = true; // no frame (revalidation, trace): the answer needs one
      return 0;
    }
    const p = mplsPayloadOffset(pkt);
    if (p < 0) return 0;
    const version = p < pkt.length ? pkt[p]! >>> 4 : 0;
    if (version === 4 && p + 20 <= pkt.length) {
      this.res.slow = true;
      return pkt[p + 8]!;
    }
    if (version === 6 && p + 40 <= pkt.length) {
      this.res.slow = true;
      return pkt[p + 7]!;
    }
    return 0;
  }

  /**
   * After the bottom label is popped the packet is what `ethertype` says, but
   * the key holds no L3/L4 words for an MPLS frame. Parse them from the
   * received frame's payload after its bottom-of-stack label, as OVS does by
   * recirculating. The result depends on bytes the megaflow cannot match, so
   * the translation stays in the slow path.
   */
  parsePayload(ethertype: number): void {
    const pkt = this.opts.packet;
    if (pkt === undefined) {
      if (this.rxEthType === K.ETH_TYPE_MPLS || this.rxEthType === K.ETH_TYPE_MPLS_MCAST) this.res.slow = true; // revalidation: needs the frame
      return;
    }
    const p = mplsPayloadOffset(pkt);
    if (p < 0) return; // not received as MPLS: the pushed-then-popped packet's L3 words are still in the key
    if (p > pkt.length) return;
    const key = K.newKey();
    const inner = new Uint8Array(14 + pkt.length - p);
    inner[12] = ethertype >>> 8;
    inner[13] = ethertype & 0xff;
    inner.set(pkt.subarray(p), 14);
    extractFlow(inner, 0, inner.length, 0, key, K.newLayout());
    for (let w = K.W_NW_SRC; w < K.W_RESERVED0; w++) {
      this.flow[w] = key[w]!;
      this.base[w] = key[w]!;
    }
    this.res.slow = true;
  }

  /**
   * 1.3 5.12: a new outer Ethernet header copying the addresses, an I-TAG
   * with I-SID 0; the frame's VLAN tags and headers are now inside it.
   */
  pushPbb(ethertype: number): void {
    this.unwild(K.W_ETH_TYPE, 0xffff);
    this.commit();
    this.emit({ type: 'push_pbb', itag: 0 });
    for (const arr of [this.flow, this.base]) {
      arr[K.W_ETH_TYPE] = ethertype;
      arr[K.W_VLAN0] = 0;
      arr[K.W_VLAN1] = 0;
      for (let w = K.W_MPLS0; w < K.W_RESERVED0; w++) arr[w] = 0;
      arr[K.W_PBB_ITAG] = 0;
    }
  }

  /** Strip the backbone header: what follows is the customer frame, parsed from the received one. */
  popPbb(): void {
    if (this.ethType() !== K.ETH_TYPE_PBB) return;
    this.commit();
    this.emit({ type: 'pop_pbb' });
    const pkt = this.opts.packet;
    const key = K.newKey();
    const layout = K.newLayout();
    if (pkt !== undefined) {
      extractFlow(pkt, 0, pkt.length, 0, key, layout);
      const at = layout[K.L_ETH_TYPE]!;
      if (key[K.W_ETH_TYPE] === K.ETH_TYPE_PBB && at >= 0 && at + 6 + 14 <= pkt.length) {
        extractFlow(pkt, at + 6, pkt.length - at - 6, 0, key, K.newLayout());
        this.res.slow = true;
      } else {
        key.fill(0); // pushed in this translation: not parsed here
      }
    } else if (this.rxEthType === K.ETH_TYPE_PBB) {
      this.res.slow = true; // revalidation: the customer frame needs the received bytes
    }
    for (const arr of [this.flow, this.base]) for (let w = K.W_ETH_DST_HI; w < K.W_RESERVED0; w++) arr[w] = key[w]!;
  }

  emit(a: DpAction): void {
    this.out.push(a);
  }

  // --- output ---------------------------------------------------------------------

  output(port: number, maxLen: number): void {
    const env = this.env;
    switch (port) {
      case OFPP.IN_PORT: {
        this.unwild(W_OF_IN_PORT);
        const p = env.portByOf(this.flow[W_OF_IN_PORT]!);
        if (p) this.outputDp(p, true);
        return;
      }
      case OFPP.TABLE:
        this.runTable(0);
        return;
      case OFPP.NORMAL:
        this.normal();
        return;
      case OFPP.FLOOD:
      case OFPP.ALL: {
        this.unwild(W_OF_IN_PORT);
        const inPort = this.flow[W_OF_IN_PORT]!;
        for (const p of sortedPorts(env)) {
          if (p.ofPort === inPort) continue;
          if (port === OFPP.FLOOD && p.noFlood) continue;
          this.outputDp(p, false);
        }
        return;
      }
      case OFPP.CONTROLLER:
        this.toController(maxLen, this.isTableMiss() ? OFPR.NO_MATCH : OFPR.ACTION);
        return;
      default: {
        this.unwild(W_OF_IN_PORT);
        if (port === this.flow[W_OF_IN_PORT]) {
          if (this.tr !== null) this.tr.warn('skipping output to input port');
          return;
        }
        const p = env.portByOf(port);
        if (p === undefined) {
          if (this.tr !== null) this.tr.warn('Nonexistent output port');
          return;
        }
        this.outputDp(p, false);
      }
    }
  }

  outputDp(p: XlatePort, allowInPort: boolean): void {
    if ((p.config & (OFPPC.PORT_DOWN | OFPPC.NO_FWD)) !== 0) {
      if (this.tr !== null) this.tr.warn(`${p.name}: port is down or OFPPC_NO_FWD is set, skipping output`);
      return;
    }
    if (!allowInPort && p.ofPort === this.flow[W_OF_IN_PORT]) return;
    this.commit();
    this.emit({ type: 'output', port: p.dpPort });
  }

  isTableMiss(): boolean {
    const r = this.rule;
    return r !== null && r.priority === 0 && r.oxm.length === 0;
  }

  toController(maxLen: number, reason: number): void {
    const inPort = this.env.portByOf(this.flow[W_OF_IN_PORT]!);
    this.unwild(W_OF_IN_PORT);
    if (inPort !== undefined && (inPort.config & OFPPC.NO_PACKET_IN) !== 0) {
      if (this.tr !== null) this.tr.warn('in_port has OFPPC_NO_PACKET_IN, skipping packet-in');
      return;
    }
    this.commit();
    const cookie = this.env.packetInCookie({
      reason,
      tableId: this.tableId,
      cookie: this.rule?.cookie ?? 0xffffffffffffffffn,
      maxLen,
      ofInPort: this.flow[W_OF_IN_PORT]!,
      metadata: metadataOf(this.flow),
    });
    this.emit({ type: 'userspace', pid: 0, cookie });
  }

  // --- groups -----------------------------------------------------------------------

  group(groupId: number): void {
    const g = this.env.groups.get(groupId);
    if (g === undefined) {
      if (this.tr !== null) this.tr.warn(`group ${groupId} does not exist, dropping`);
      return;
    }
    if (this.depth++ > MAX_DEPTH) {
      this.stopped = true;
      return;
    }
    switch (g.groupType) {
      case OFPGT.ALL:
        for (let i = 0; i < g.buckets.length; i++) this.bucket(g, i);
        break;
      case OFPGT.INDIRECT:
        if (g.buckets.length > 0) this.bucket(g, 0);
        break;
      case OFPGT.FF: {
        const i = g.buckets.findIndex((b) => this.env.groups.bucketLive(b, this.portLive));
        if (i >= 0) this.bucket(g, i);
        else if (this.tr !== null) this.tr.detail('no live bucket');
        break;
      }
      case OFPGT.SELECT: {
        const live = g.buckets.map((b, i) => ({ b, i })).filter(({ b }) => b.weight > 0 && this.env.groups.bucketLive(b, this.portLive));
        if (live.length === 0) break;
        const total = live.reduce((n, x) => n + x.b.weight, 0);
        let h = this.hash5();
        h %= total;
        for (const x of live) {
          if (h < x.b.weight) {
            this.bucket(g, x.i);
            break;
          }
          h -= x.b.weight;
        }
        break;
      }
    }
  }

  readonly portLive = (port: number): boolean => this.env.portByOf(port)?.live === true;

  /**
   * Select-group hash, unwildcarding what it reads: the Ethernet addresses
   * and type always, then the IPv4/IPv6 addresses, protocol and L4 ports, or
   * the ARP sender/target IPs. Like OVS's default selection (a hash of L2-L4
   * fields), so traffic that varies only its MACs, only its IPs or only its
   * ports spreads over the buckets. Every hashed field is in the megaflow's
   * mask, so each datapath flow carries one bucket choice that is right for
   * every packet it matches.
   */
  hash5(): number {
    let h = 0x9747b28c;
    const words = L2_HASH_WORDS;
    for (let i = 0; i < words.length; i++) h = this.hashWord(h, words[i]!);
    const et = this.ethType();
    if (et === K.ETH_TYPE_IPV4 || et === K.ETH_TYPE_ARP) {
      h = this.hashWord(h, K.W_NW_SRC);
      h = this.hashWord(h, K.W_NW_DST);
    } else if (et === K.ETH_TYPE_IPV6) {
      for (let i = 0; i < 4; i++) h = this.hashWord(this.hashWord(h, K.W_NW_SRC + i), K.W_NW_DST + i);
    }
    if (et === K.ETH_TYPE_IPV4 || et === K.ETH_TYPE_IPV6) {
      this.unwild(K.W_NW_PROTO_TOS_TTL_FRAG, K.MASK_NW_PROTO);
      const proto = this.flow[K.W_NW_PROTO_TOS_TTL_FRAG]! >>> 24;
      h = Math.imul(h ^ proto, 0x5bd1e995) >>> 0;
      if (proto === K.IPPROTO_TCP || proto === K.IPPROTO_UDP || proto === K.IPPROTO_SCTP) h = this.hashWord(h, K.W_TP_PORTS);
    }
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    return (h ^ (h >>> 16)) >>> 0;
  }

  private hashWord(h: number, w: number): number {
    this.unwild(w);
    h = Math.imul(h ^ this.flow[w]!, 0x5bd1e995) >>> 0;
    return (h ^ (h >>> 13)) >>> 0;
  }

  /** Run one bucket on a copy of the packet (a datapath clone() unless it only outputs). */
  bucket(g: OfGroup, i: number): void {
    const b = g.buckets[i]!;
    this.res.groups.push({ group: g, bucket: i });
    const traceParent = this.tr?.bucket(`bucket ${i}`);
    const outputsOnly = b.actions.every((a) => a.type === OFPAT.OUTPUT && a.port !== OFPP.NORMAL && a.port !== OFPP.TABLE);
    if (outputsOnly) {
      this.doActions(b.actions);
    } else {
      const savedFlow = this.flow.slice();
      const savedBase = this.base.slice();
      const savedOut = this.out;
      const savedStopped = this.stopped;
      const savedSet = new Map(this.actionSet);
      this.out = [];
      this.doActions(b.actions);
      const inner = this.out;
      this.out = savedOut;
      this.flow.set(savedFlow);
      this.base.set(savedBase);
      this.stopped = savedStopped;
      this.actionSet.clear();
      for (const [k, v] of savedSet) this.actionSet.set(k, v);
      if (inner.length > 0) this.emit({ type: 'clone', actions: inner });
    }
    if (traceParent !== undefined) this.tr!.restore(traceParent);
  }

  // --- NORMAL -------------------------------------------------------------------------

  normal(): void {
    const env = this.env;
    const f = this.flow;
    this.unwild(W_OF_IN_PORT);
    this.unwild(K.W_ETH_SRC_HI, 0xffff);
    this.unwild(K.W_ETH_SRC_LO);
    this.unwild(K.W_ETH_DST_HI, 0xffff);
    this.unwild(K.W_ETH_DST_LO);
    this.unwild(K.W_VLAN0, 0x1fff);
    // A controller sourcing traffic (PACKET_OUT in_port=CONTROLLER) acts as a trunk that learns nothing (OVS ofpp_none_bundle).
    const fromController = f[W_OF_IN_PORT] === OFPP.CONTROLLER;
    const inPort = fromController ? CONTROLLER_BUNDLE : env.portByOf(f[W_OF_IN_PORT]!);
    if (inPort === undefined) {
      if (this.tr !== null) this.tr.detail('no input bundle, dropping');
      return;
    }
    const srcHi = f[K.W_ETH_SRC_HI]!;
    const srcLo = f[K.W_ETH_SRC_LO]!;
    const dstHi = f[K.W_ETH_DST_HI]!;
    const dstLo = f[K.W_ETH_DST_LO]!;
    if (isMulticast(srcHi)) {
      if (this.tr !== null) this.tr.detail('source MAC is multicast, dropping');
      return;
    }
    if (dstHi === 0x0180 && (dstLo & 0xfffffff0) === 0xc2000000) {
      if (this.tr !== null) this.tr.detail('packet has reserved destination MAC, dropping');
      return;
    }
    const tci = f[K.W_VLAN0]!;
    const vid = (tci & K.VLAN_CFI) !== 0 ? tci & 0xfff : 0;
    const vlan = inputVlan(inPort.vlan, vid);
    if (vlan < 0) {
      if (this.tr !== null) this.tr.detail('disallowed VLAN VID for this input port, dropping');
      return;
    }
    if (this.opts.learn !== false && !fromController) {
      if (env.mac.learn(vlan, srcHi, srcLo, inPort.ofPort)) {
        this.res.macChanged = true;
      }
      this.res.learned.push({ vlan, hi: srcHi, lo: srcLo, port: inPort.ofPort });
    }
    const pcp = (tci & K.VLAN_CFI) !== 0 ? tci & 0xe000 : 0;
    if (!isMulticast(dstHi)) {
      const outNo = env.mac.lookup(vlan, dstHi, dstLo);
      if (outNo !== null) {
        if (outNo === inPort.ofPort) {
          if (this.tr !== null) this.tr.detail('learned port is input port, dropping');
          return;
        }
        const p = env.portByOf(outNo);
        if (p !== undefined && portIncludesVlan(p.vlan, vlan)) {
          if (this.tr !== null) this.tr.detail('forwarding to learned port');
          this.normalOutput(p, vlan, pcp);
          return;
        }
      }
    }
    if (this.tr !== null) this.tr.detail(isMulticast(dstHi) ? 'multicast traffic, flooding' : 'no learned MAC for destination, flooding');
    for (const p of sortedPorts(env)) {
      if (p.ofPort === inPort.ofPort || p.noFlood || !portIncludesVlan(p.vlan, vlan)) continue;
      this.normalOutput(p, vlan, pcp);
    }
  }

  normalOutput(p: XlatePort, vlan: number, pcp: number): void {
    const vid = outputVid(p.vlan, vlan);
    const saved0 = this.flow[K.W_VLAN0]!;
    const saved1 = this.flow[K.W_VLAN1]!;
    this.unwild(K.W_VLAN0);
    if (vid === 0) {
      if ((saved0 & K.VLAN_CFI) !== 0) {
        this.flow[K.W_VLAN0] = saved1;
        this.flow[K.W_VLAN1] = 0;
      }
    } else if ((saved0 & K.VLAN_CFI) !== 0) {
      this.flow[K.W_VLAN0] = ((saved0 & 0xffff0000) | pcp | K.VLAN_CFI | vid) >>> 0;
    } else {
      this.flow[K.W_VLAN1] = saved0;
      this.flow[K.W_VLAN0] = ((ETH_VLAN_TPID << 16) | pcp | K.VLAN_CFI | vid) >>> 0;
    }
    this.outputDp(p, false);
    this.flow[K.W_VLAN0] = saved0;
    this.flow[K.W_VLAN1] = saved1;
  }

  // --- commit: write header changes into the packet ------------------------------------

  commit(): void {
    const f = this.flow;
    const b = this.base;
    let same = true;
    for (let i = 1; i < K.KEY_WORDS; i++) {
      if (f[i] !== b[i]) {
        same = false;
        break;
      }
    }
    if (same) return;
    // VLAN stack: pop until the packet's tags are a suffix of the wanted ones, then push the rest.
    if (f[K.W_VLAN0] !== b[K.W_VLAN0] || f[K.W_VLAN1] !== b[K.W_VLAN1]) {
      const want = [f[K.W_VLAN0]!, f[K.W_VLAN1]!].filter((w) => (w & K.VLAN_CFI) !== 0);
      const have = [b[K.W_VLAN0]!, b[K.W_VLAN1]!].filter((w) => (w & K.VLAN_CFI) !== 0);
      const isSuffix = (): boolean => have.length <= want.length && have.every((w, i) => w === want[want.length - have.length + i]);
      while (!isSuffix()) {
        this.emit({ type: 'pop_vlan' });
        have.shift();
      }
      for (let i = want.length - have.length - 1; i >= 0; i--) {
        this.emit({ type: 'push_vlan', tpid: want[i]! >>> 16, tci: want[i]! & 0xffff });
      }
      b[K.W_VLAN0] = f[K.W_VLAN0]!;
      b[K.W_VLAN1] = f[K.W_VLAN1]!;
    }
    this.commitAttr('eth', [
      [K.W_ETH_DST_HI, 0xffff],
      [K.W_ETH_DST_LO, ALL_ONES],
      [K.W_ETH_SRC_HI, 0xffff],
      [K.W_ETH_SRC_LO, ALL_ONES],
    ]);
    const et = b[K.W_ETH_TYPE]! & 0xffff;
    // IP protocol / next header: written only after a set_field ip_proto (a masked set, which OVS never emits).
    const tosTtl = K.MASK_NW_PROTO | K.MASK_NW_TOS | K.MASK_NW_TTL;
    if (et === K.ETH_TYPE_IPV4) {
      this.commitAttr('ipv4', [
        [K.W_NW_SRC, ALL_ONES],
        [K.W_NW_DST, ALL_ONES],
        [K.W_NW_PROTO_TOS_TTL_FRAG, tosTtl],
      ]);
    } else if (et === K.ETH_TYPE_IPV6) {
      const ws: Array<[number, number]> = [];
      for (let i = 0; i < 4; i++) ws.push([K.W_NW_SRC + i, ALL_ONES], [K.W_NW_DST + i, ALL_ONES]);
      ws.push([K.W_IPV6_LABEL, 0xfffff], [K.W_NW_PROTO_TOS_TTL_FRAG, tosTtl]);
      this.commitAttr('ipv6', ws);
    } else if (et === K.ETH_TYPE_ARP) {
      this.commitAttr('arp', [
        [K.W_NW_SRC, ALL_ONES],
        [K.W_NW_DST, ALL_ONES],
        [K.W_NW_PROTO_TOS_TTL_FRAG, K.MASK_NW_PROTO],
        [K.W_ARP_SHA_HI, 0xffff],
        [K.W_ARP_SHA_LO, ALL_ONES],
        [K.W_ARP_THA_HI, 0xffff],
        [K.W_ARP_THA_LO, ALL_ONES],
      ]);
    } else if (et === K.ETH_TYPE_MPLS || et === K.ETH_TYPE_MPLS_MCAST) {
      this.commitAttr('mpls', [[K.W_MPLS0, ALL_ONES]]);
    }
    if (et === K.ETH_TYPE_IPV4 || et === K.ETH_TYPE_IPV6) {
      const proto = b[K.W_NW_PROTO_TOS_TTL_FRAG]! >>> 24;
      const l4: SetAttr | null =
        proto === K.IPPROTO_TCP ? 'tcp' : proto === K.IPPROTO_UDP ? 'udp' : proto === K.IPPROTO_SCTP ? 'sctp' : proto === K.IPPROTO_ICMP ? 'icmp' : proto === K.IPPROTO_ICMPV6 ? 'icmpv6' : null;
      if (l4 === 'icmp' || l4 === 'icmpv6') this.commitAttr(l4, [[K.W_TP_PORTS, 0x00ff00ff]]);
      else if (l4 !== null) this.commitAttr(l4, [[K.W_TP_PORTS, ALL_ONES]]);
      if (l4 === 'icmpv6') {
        const ws: Array<[number, number]> = [];
        for (let i = 0; i < 4; i++) ws.push([K.W_ND_TARGET + i, ALL_ONES]);
        ws.push([K.W_ARP_SHA_HI, 0xffff], [K.W_ARP_SHA_LO, ALL_ONES], [K.W_ARP_THA_HI, 0xffff], [K.W_ARP_THA_LO, ALL_ONES]);
        this.commitAttr('nd', ws);
      }
    }
  }

  /**
   * Emit set_masked(attr) for the fields of `words` that differ between flow
   * and base. A changed field's mask is widened to the field's unwildcarded
   * bits (all of it after a set_field), which reads like OVS and stays
   * correct: every bit written is one the megaflow matches on.
   */
  commitAttr(attr: SetAttr, words: ReadonlyArray<readonly [number, number]>): void {
    let mask: Uint32Array | null = null;
    // Consecutive words of one 48-bit MAC (hi 0xffff then lo) form one field.
    for (let i = 0; i < words.length; i++) {
      const [w, bits] = words[i]!;
      const pair = bits === 0xffff && i + 1 < words.length && words[i + 1]![0] === w + 1 ? words[i + 1]! : null;
      const group: ReadonlyArray<readonly [number, number]> = pair ? [words[i]!, pair] : [words[i]!];
      if (pair) i++;
      for (const [gw, gbits] of group) {
        for (const fbits of subFields(gbits)) {
          let changed = false;
          for (const [cw, cbits] of group) {
            const fb = cw === gw ? fbits : cbits;
            if (((this.flow[cw]! ^ this.base[cw]!) & fb) !== 0) changed = true;
          }
          if (!changed) continue;
          mask ??= new Uint32Array(K.KEY_WORDS);
          for (const [cw, cbits] of group) {
            const fb = cw === gw ? fbits : cbits;
            mask[cw] = (mask[cw]! | (fb & this.wc[cw]!) | ((this.flow[cw]! ^ this.base[cw]!) & fb)) >>> 0;
          }
        }
      }
    }
    if (mask === null) return;
    const key = new Uint32Array(K.KEY_WORDS);
    for (let w = 0; w < K.KEY_WORDS; w++) {
      if (mask[w] === 0) continue;
      key[w] = (this.flow[w]! & mask[w]!) >>> 0;
      this.base[w] = ((this.base[w]! & ~mask[w]!) | key[w]!) >>> 0;
    }
    this.emit({ type: 'set_masked', attr, key, mask });
  }
}

/** Split a word's writable bits into its protocol fields (TOS and TTL bytes; the two 16-bit L4 ports; ICMP type and code). */
function subFields(bits: number): number[] {
  if (bits === (K.MASK_NW_PROTO | K.MASK_NW_TOS | K.MASK_NW_TTL)) return [K.MASK_NW_PROTO, K.MASK_NW_TOS, K.MASK_NW_TTL];
  if (bits === 0x00ff00ff) return [0x00ff0000, 0x000000ff];
  return [bits];
}

/** Instructions in the spec's execution order (5.9): meter, apply, clear, write, metadata, goto. */
const SORTED = new WeakMap<readonly Instruction[], Instruction[]>();
function sortInstructions(list: readonly Instruction[]): Instruction[] {
  let sorted = SORTED.get(list);
  if (sorted === undefined) {
    sorted = sortInstructionsUncached(list);
    SORTED.set(list, sorted);
  }
  return sorted;
}

function sortInstructionsUncached(list: readonly Instruction[]): Instruction[] {
  const rank: Record<number, number> = {
    [OFPIT.METER]: 0,
    [OFPIT.APPLY_ACTIONS]: 1,
    [OFPIT.CLEAR_ACTIONS]: 2,
    [OFPIT.WRITE_ACTIONS]: 3,
    [OFPIT.WRITE_METADATA]: 4,
    [OFPIT.GOTO_TABLE]: 5,
  };
  return [...list].sort((a, b) => (rank[a.type] ?? 9) - (rank[b.type] ?? 9));
}

function sortedPorts(env: XlateEnv): XlatePort[] {
  return [...env.ports()].sort((a, b) => a.ofPort - b.ofPort);
}

/** " 0. " / "12. ": OVS's "%2d. " table label. */
function tableLabel(tableId: number): string {
  return `${String(tableId).padStart(2)}. `;
}

/** A matched rule as ofproto/trace reports it: "in_port=1,ip, priority 100, cookie 0x5". */
function ruleLine(tableId: number, rule: OfRule): string {
  const m = formatMatch(rule.oxm);
  const cookie = rule.cookie !== 0n ? `, cookie 0x${rule.cookie.toString(16)}` : '';
  return `${tableLabel(tableId)}${m === '' ? '' : `${m}, `}priority ${rule.priority}${cookie}`;
}

/** Translate a packet (its datapath key) through the pipeline, or a PACKET_OUT's actions. */
export function xlate(env: XlateEnv, key: Uint32Array, opts: XlateOptions): XlateResult {
  const ctx = new Ctx(env, opts, key);
  if (opts.actions !== undefined) {
    ctx.doActions(opts.actions);
  } else {
    ctx.runTable(0);
  }
  // A packet dropped by a meter or TTL expiry keeps any packet-in emitted before the stop.
  ctx.res.actions = ctx.out;
  return ctx.res;
}

/** Offset just past the bottom-of-stack MPLS label of a received frame, or -1 when it carries no MPLS. */
function mplsPayloadOffset(pkt: Uint8Array): number {
  const layout = K.newLayout();
  extractFlow(pkt, 0, pkt.length, 0, K.newKey(), layout);
  let p = layout[K.L_L2_5]!;
  if (p < 0) return -1;
  while (p + 4 <= pkt.length && (pkt[p + 2]! & 1) === 0) p += 4;
  return p + 4;
}
