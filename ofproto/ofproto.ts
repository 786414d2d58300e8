// One OpenFlow switch (OVS ofproto + ofproto-dpif): owns the rule tables,
// groups, meters, MAC table and OpenFlow ports of a bridge, answers
// connmgr's messages (OfprotoHandler), translates datapath upcalls into
// megaflows and turns userspace actions into PACKET_INs.
//
// Revalidation: a change to rules, groups, meters, ports, port config,
// fail-open state or the MAC table bumps `generation` and marks what changed
// (FLOW_MODs: the OpenFlow tables they touched; anything else: everything).
// Changes coalesce: before the datapath looks up its next batch (and right
// after the current message chunk, as a microtask) one pass re-translates
// each installed megaflow whose translation looked up a changed table, from
// the full key of the packet that installed it, and keeps it (same actions,
// and its mask still covers every field the new translation looked at),
// changes its actions in place, or deletes it. Stats are pulled first, so
// hits before the change go to the rules that produced them. Work is
// bounded: re-translations come from a token bucket, and a pass that needs
// more than is left flushes every megaflow instead (the old behaviour).
// Megaflows idle for maxIdleMs are deleted by run(), like OVS's max-idle.
//
// Stats attribution: each installed megaflow is recorded with the rules,
// group buckets and MAC entries its translation used. pullStats() (run by
// run(), before flow stats / FLOW_REMOVED, and before every flush) adds each
// megaflow's packet/byte delta to them, so OpenFlow counters stay exact
// across flushes.

import type { DpAction } from '../datapath/actions/types.js';
import { formatActions } from '../datapath/actions/odp-actions.js';
import type { Datapath, DpFlow, UpcallHandler, UpcallResult } from '../datapath/dpif.js';
import { extractFlow } from '../datapath/flow/extract.js';
import { KEY_WORDS, newKey, newLayout } from '../datapath/flow/key.js';
import type { Port } from '../datapath/ports/port.js';
import { N_TABLES, RuleTables, DEFAULT_MAX_ENTRIES, type RemovedRule } from './classifier/rule-tables.js';
import { W_ETH_TYPE, W_IN_PORT, W_NW_PROTO_TOS_TTL_FRAG, W_TP_PORTS } from '../datapath/flow/key.js';
import { dpMaskOf, fieldPieces, type OfMatch, packetInMatch, newOfFlow, W_OF_IN_PORT, setMetadata, ofMatchFromOxm, OF_WORDS, W_OF_METADATA_HI, W_OF_METADATA_LO } from './classifier/of-match.js';
import type { OfRule } from './classifier/rule.js';
import { GroupTable, MAX_GROUPS } from './group-table.js';
import { MAX_BANDS, MAX_METERS, MeterTable, dpMeterConfig, type OfMeter } from './meter-table.js';
import { MacLearning } from './normal/mac-learning.js';
import type { PortVlanConfig } from './normal/port-vlan.js';
import type { ConnectionSet, OfConn, OfprotoHandler } from './ofconn.js';
import type { Action } from './openflow/actions.js';
import { encodeMessage, type OfpMessage } from './openflow/codec.js';
import {
  OFP_NO_BUFFER,
  OFPAT,
  OFPBAC,
  OFPBIC,
  OFPBRC,
  OFPC,
  OFPC_FRAG,
  OFPCML_MAX,
  OFPCML_NO_BUFFER,
  OFPET,
  OFPFF,
  OFPG,
  OFPGT,
  OFPIT,
  OFPM,
  OFPMBT,
  OFPMF,
  OFPMC,
  OFPMMFC,
  OFPMP,
  OFPP,
  OFPPC,
  OFPPF,
  OFPPMFC,
  OFPPR,
  OFPPS,
  OFPQOFC,
  OFPR,
  OFPRR,
  OFPSCFC,
  OFPT,
  OFPTC_DEPRECATED_MASK,
  OFPTFFC,
  OFPTFPT,
  OFPTMFC,
  OFPTT,
  OFPXMT,
} from './openflow/constants.js';
import { errorMsgFromError } from './openflow/error-msg.js';
import { OfpError } from './openflow/errors.js';
import type { FlowModMsg } from './openflow/flow-mod.js';
import type { GroupModMsg } from './openflow/group-mod.js';
import type { Instruction } from './openflow/instructions.js';
import type { MeterModMsg } from './openflow/meter-mod.js';
import {
  splitMultipartReply,
  type FlowStats,
  type FlowStatsRequestBody,
  type MultipartReplyBody,
  type MultipartRequestMsg,
  type TableFeatures,
  type TableFeatureProp,
} from './openflow/multipart.js';
import { OXM_FIELDS, oxmHeader } from './openflow/oxm.js';
import type { PacketOutMsg } from './openflow/packet-out.js';
import type { OfpPort } from './openflow/port.js';
import type { PortModMsg } from './openflow/port-mod.js';
import type { TableModMsg } from './openflow/table-mod.js';
import { formatTraceFlow, formatTraceMatch } from './xlate/trace-format.js';
import { XlateTrace } from './xlate/xlate-trace.js';
import { xlate, type GroupHit, type MacLearned, type PacketInInfo, type XlateEnv, type XlatePort, type XlateResult } from './xlate/xlate.js';

export type FailMode = 'standalone' | 'secure';

export interface OfprotoOptions {
  name: string;
  datapath: Datapath;
  datapathId: bigint;
  connections: ConnectionSet;
  failMode?: FailMode;
  /** Milliseconds clock (injectable for tests). */
  clock?: () => number;
  maxRulesPerTable?: number;
  macAgingSec?: number;
  macMaxEntries?: number;
  /** PACKET_IN rate limit: packets per second (token bucket; default 1000) and burst (default 1000). */
  packetInRatePps?: number;
  packetInBurst?: number;
  /** Period of run() when started (ms; default 1000). 0 = never (tests call run()). */
  runIntervalMs?: number;
  /** Revalidation budget: megaflow re-translations per second (token bucket; default 50,000) and burst (default 10,000). */
  revalidateRatePerSec?: number;
  revalidateBurst?: number;
  /** Megaflows unused this long are deleted by run() (ms; default 10,000 like OVS max-idle; 0 = never). */
  maxIdleMs?: number;
}

export interface OfPortOptions {
  /** OpenFlow port number; default: the datapath port number (LOCAL = 0xfffffffe allowed). */
  ofPort?: number;
  vlan?: PortVlanConfig;
  noFlood?: boolean;
  /** Initial OFPPC_* bits. */
  config?: number;
}

/** A bridge port as ofproto keeps it. */
export class OfPortState implements XlatePort {
  config: number;
  noFlood: boolean;
  vlan: PortVlanConfig;
  /** Last state reported in PORT_STATUS (OFPPS_*). */
  reportedState = -1;
  readonly createdMs: number;
  constructor(
    readonly ofPort: number,
    readonly dp: Port,
    o: OfPortOptions,
    nowMs: number,
  ) {
    this.config = o.config ?? 0;
    this.noFlood = o.noFlood ?? false;
    this.vlan = o.vlan ?? {};
    this.createdMs = nowMs;
  }
  get dpPort(): number {
    return this.dp.portNo;
  }
  get name(): string {
    return this.dp.name;
  }
  get live(): boolean {
    return this.dp.carrier && (this.config & OFPPC.PORT_DOWN) === 0;
  }
  get state(): number {
    return (this.dp.carrier ? 0 : OFPPS.LINK_DOWN) | (this.live ? OFPPS.LIVE : 0);
  }
}

/** What a megaflow's translation used, for stats attribution and revalidation. */
interface MegaflowRecord {
  rules: OfRule[];
  groups: GroupHit[];
  learned: MacLearned[];
  packets: number;
  bytes: number;
  /** Datapath input port and full key of the packet whose upcall installed it (revalidation re-translates these). */
  inPort: number;
  key: Uint32Array;
  /** The datapath actions installed. */
  actions: DpAction[];
  /** OpenFlow tables the translation looked up. */
  tables: number[];
  /** When it was installed (ms), for idle expiry of a flow never hit. */
  createdMs: number;
}

/** No table list: everything changed. */
const ALL_TABLES = null;

export interface OfprotoCounters {
  upcalls: number;
  slowPathPackets: number;
  packetIns: number;
  packetInsRateLimited: number;
  packetOuts: number;
  revalidations: number;
  /** Megaflows re-translated by revalidation, and of those changed in place or deleted. */
  megaflowsRevalidated: number;
  megaflowsModified: number;
  megaflowsDeleted: number;
  /** Revalidation passes that flushed every megaflow (over the work budget, or a flush was asked for). */
  megaflowFlushes: number;
  /** Megaflows deleted for being idle. */
  megaflowsExpired: number;
  flowMods: number;
  errorsSent: number;
  internalErrors: number;
}

const PACKET_IN_REGISTRY_LIMIT = 65536;
const STANDARD_PORT_RESERVED_OK = new Set<number>([OFPP.IN_PORT, OFPP.NORMAL, OFPP.FLOOD, OFPP.ALL, OFPP.CONTROLLER, OFPP.LOCAL]);
/** Fields set_field may write (datapath-representable and writable). */
const SETTABLE = new Set<number>([
  OFPXMT.METADATA, OFPXMT.ETH_DST, OFPXMT.ETH_SRC, OFPXMT.ETH_TYPE, OFPXMT.VLAN_VID, OFPXMT.VLAN_PCP, OFPXMT.IP_DSCP, OFPXMT.IP_ECN, OFPXMT.IP_PROTO,
  OFPXMT.IPV4_SRC, OFPXMT.IPV4_DST, OFPXMT.TCP_SRC, OFPXMT.TCP_DST, OFPXMT.UDP_SRC, OFPXMT.UDP_DST, OFPXMT.SCTP_SRC,
  OFPXMT.SCTP_DST, OFPXMT.ICMPV4_TYPE, OFPXMT.ICMPV4_CODE, OFPXMT.ARP_OP, OFPXMT.ARP_SPA, OFPXMT.ARP_TPA, OFPXMT.ARP_SHA,
  OFPXMT.ARP_THA, OFPXMT.IPV6_SRC, OFPXMT.IPV6_DST, OFPXMT.IPV6_FLABEL, OFPXMT.ICMPV6_TYPE, OFPXMT.ICMPV6_CODE,
  OFPXMT.IPV6_ND_TARGET, OFPXMT.IPV6_ND_SLL, OFPXMT.IPV6_ND_TLL, OFPXMT.MPLS_LABEL, OFPXMT.MPLS_TC, OFPXMT.MPLS_BOS,
  OFPXMT.TUNNEL_ID,
]);
const MATCHABLE = OXM_FIELDS.filter((f) => fieldPieces(f.field) !== undefined);
const SUPPORTED_ACTIONS: number[] = [
  OFPAT.OUTPUT, OFPAT.COPY_TTL_OUT, OFPAT.COPY_TTL_IN, OFPAT.SET_MPLS_TTL, OFPAT.DEC_MPLS_TTL, OFPAT.PUSH_VLAN, OFPAT.POP_VLAN,
  OFPAT.PUSH_MPLS, OFPAT.POP_MPLS, OFPAT.SET_QUEUE, OFPAT.GROUP, OFPAT.SET_NW_TTL, OFPAT.DEC_NW_TTL, OFPAT.SET_FIELD,
  OFPAT.PUSH_PBB, OFPAT.POP_PBB,
];

function brc(code: number, message: string): OfpError {
  return new OfpError(OFPET.BAD_REQUEST, code, message);
}

function big(n: number): bigint {
  return BigInt(Math.max(0, Math.floor(n)));
}

export class Ofproto implements OfprotoHandler, UpcallHandler {
  readonly name: string;
  readonly datapath: Datapath;
  readonly datapathId: bigint;
  failMode: FailMode;
  readonly tables: RuleTables;
  readonly groups = new GroupTable();
  readonly meters = new MeterTable();
  readonly mac: MacLearning;
  /** Bumped on every change that invalidates megaflows. */
  generation = 0;
  readonly counters: OfprotoCounters = {
    upcalls: 0,
    slowPathPackets: 0,
    packetIns: 0,
    packetInsRateLimited: 0,
    packetOuts: 0,
    revalidations: 0,
    megaflowsRevalidated: 0,
    megaflowsModified: 0,
    megaflowsDeleted: 0,
    megaflowFlushes: 0,
    megaflowsExpired: 0,
    flowMods: 0,
    errorsSent: 0,
    internalErrors: 0,
  };

  private readonly conns: ConnectionSet;
  private readonly clock: () => number;
  private readonly portsByOf = new Map<number, OfPortState>();
  private readonly portsByDp = new Map<number, OfPortState>();
  private readonly records = new Map<string, MegaflowRecord>();
  private readonly recordsByFlow = new Map<DpFlow, MegaflowRecord>();
  private readonly pinIds = new Map<string, number>();
  private readonly pinInfos = new Map<number, PacketInInfo>();
  private nextPinId = 1;
  private pinTokens: number;
  private pinLastMs: number;
  private readonly pinRate: number;
  private readonly pinBurst: number;
  private lastFailOpen: boolean | null = null;
  /** The packet-in registry is over its bound: clear it at the next revalidation outside a translation. */
  private pinClearPending = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly runIntervalMs: number;
  private readonly env: XlateEnv;
  private readonly scratchKey = newKey();
  // Pending revalidation: set by changed(), consumed by revalidatePending().
  private revalPending = false;
  private revalAll = false;
  private readonly revalTables = new Set<number>();
  private revalTokens: number;
  private revalLastMs: number;
  private readonly revalRate: number;
  private readonly revalBurst: number;
  private readonly maxIdleMs: number;
  private readonly revalidateSoon = (): void => this.sync();
  private readonly pullStatsFn = (): void => this.pullStats();
  private readonly validateFn = (ins: Instruction[], tableId: number, match: OfMatch): void => this.validateInstructions(ins, tableId, match);
  private readonly scratchLayout = newLayout();

  constructor(o: OfprotoOptions) {
    this.name = o.name;
    this.datapath = o.datapath;
    this.datapathId = o.datapathId;
    this.conns = o.connections;
    this.failMode = o.failMode ?? 'standalone';
    this.clock = o.clock ?? Date.now;
    this.tables = new RuleTables(o.maxRulesPerTable ?? DEFAULT_MAX_ENTRIES);
    this.mac = new MacLearning({ agingSec: o.macAgingSec, maxEntries: o.macMaxEntries, clock: this.clock });
    this.pinRate = o.packetInRatePps ?? 1000;
    this.pinBurst = o.packetInBurst ?? 1000;
    this.pinTokens = this.pinBurst;
    this.pinLastMs = this.clock();
    this.runIntervalMs = o.runIntervalMs ?? 1000;
    this.revalRate = o.revalidateRatePerSec ?? 50_000;
    this.revalBurst = o.revalidateBurst ?? 10_000;
    this.revalTokens = this.revalBurst;
    this.revalLastMs = this.clock();
    this.maxIdleMs = o.maxIdleMs ?? 10_000;
    const self = this;
    this.env = {
      tables: this.tables,
      groups: this.groups,
      meters: this.meters,
      mac: this.mac,
      portByOf: (n) => self.portsByOf.get(n),
      portByDp: (n) => self.portsByDp.get(n),
      ports: () => self.portsByOf.values(),
      failOpen: () => self.failOpen(),
      packetInCookie: (info) => self.packetInCookie(info),
      nowMs: () => self.clock(),
    };
  }

  /** Become the datapath's upcall handler and start the periodic run() timer. */
  start(): void {
    this.datapath.setUpcallHandler(this);
    this.lastFailOpen = this.failOpen();
    if (this.runIntervalMs > 0 && this.timer === null) {
      this.timer = setInterval(() => this.run(), this.runIntervalMs);
      this.timer.unref();
    }
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.datapath.setUpcallHandler(null);
    this.datapath.flowFlush();
    this.revalPending = false;
    this.revalAll = false;
    this.revalTables.clear();
  }

  /** standalone + no controller: behave as a learning switch (OVS fail-open). */
  failOpen(): boolean {
    return this.failMode === 'standalone' && !this.conns.controllerConnected();
  }

  // --- ports ------------------------------------------------------------------

  /** Map datapath port `dpPortNo` to an OpenFlow port; returns the OF port number. Sends PORT_STATUS ADD. */
  addPort(dpPortNo: number, o: OfPortOptions = {}): number {
    const dp = this.datapath.port(dpPortNo);
    if (dp === undefined) throw new Error(`${this.name}: no datapath port ${dpPortNo}`);
    if (this.portsByDp.has(dpPortNo)) throw new Error(`${this.name}: datapath port ${dpPortNo} is already OpenFlow port ${this.portsByDp.get(dpPortNo)!.ofPort}`);
    const ofPort = o.ofPort ?? dpPortNo;
    if (!(ofPort >= 1 && (ofPort <= OFPP.MAX || ofPort === OFPP.LOCAL))) throw new Error(`${this.name}: bad OpenFlow port number ${ofPort}`);
    if (this.portsByOf.has(ofPort)) throw new Error(`${this.name}: OpenFlow port ${ofPort} is in use`);
    const p = new OfPortState(ofPort, dp, o, this.clock());
    this.portsByOf.set(ofPort, p);
    this.portsByDp.set(dpPortNo, p);
    p.reportedState = p.state;
    this.portStatus(OFPPR.ADD, p);
    this.changed(ALL_TABLES);
    return ofPort;
  }

  removePort(ofPort: number): void {
    const p = this.portsByOf.get(ofPort);
    if (p === undefined) throw new Error(`${this.name}: no OpenFlow port ${ofPort}`);
    this.portsByOf.delete(ofPort);
    this.portsByDp.delete(p.dpPort);
    this.mac.flushPort(ofPort);
    this.portStatus(OFPPR.DELETE, p);
    this.changed(ALL_TABLES);
  }

  /** Change a port's VLAN config, no_flood or OFPPC bits (sends PORT_STATUS MODIFY when OFPPC bits change). */
  setPortConfig(ofPort: number, o: { vlan?: PortVlanConfig; noFlood?: boolean; config?: number }): void {
    const p = this.portsByOf.get(ofPort);
    if (p === undefined) throw new Error(`${this.name}: no OpenFlow port ${ofPort}`);
    if (o.vlan !== undefined) {
      p.vlan = o.vlan;
      this.mac.flushPort(ofPort);
    }
    if (o.noFlood !== undefined) p.noFlood = o.noFlood;
    if (o.config !== undefined && o.config !== p.config) {
      p.config = o.config;
      this.portStatus(OFPPR.MODIFY, p);
    }
    this.changed(ALL_TABLES);
  }

  port(ofPort: number): OfPortState | undefined {
    return this.portsByOf.get(ofPort);
  }

  ports(): OfPortState[] {
    return [...this.portsByOf.values()].sort((a, b) => a.ofPort - b.ofPort);
  }

  portDesc(p: OfPortState): OfpPort {
    const features = OFPPF['10GB_FD'] | OFPPF.COPPER;
    return {
      portNo: p.ofPort,
      hwAddr: Buffer.from(p.dp.mac),
      name: p.name.slice(0, 15),
      config: p.config,
      state: p.state,
      curr: features,
      advertised: 0,
      supported: 0,
      peer: 0,
      currSpeedKbps: 10_000_000,
      maxSpeedKbps: 0,
    };
  }

  private portStatus(reason: number, p: OfPortState): void {
    for (const c of this.conns.connections()) {
      if (!c.wantsAsync('port_status', reason)) continue;
      c.send({ type: OFPT.PORT_STATUS, version: c.version, xid: 0, reason, desc: this.portDesc(p) });
    }
  }

  // --- revalidation and statistics --------------------------------------------------

  /**
   * Flush every megaflow now (after crediting their stats), so each flow's
   * next packet is translated afresh. Changes go through changed() instead;
   * this is for callers that want a clean slate (tests, fdb/flush).
   */
  revalidate(allowRegistryClear = true): void {
    this.generation++;
    this.counters.revalidations++;
    this.counters.megaflowFlushes++;
    this.revalPending = false;
    this.revalAll = false;
    this.revalTables.clear();
    this.pullStats();
    if (this.datapath.cache.count > 0) this.datapath.flowFlush();
    this.records.clear();
    this.recordsByFlow.clear();
    if (this.pinClearPending && allowRegistryClear) {
      // Every megaflow holding an old cookie is gone now, so the registry can start over.
      this.pinClearPending = false;
      this.pinIds.clear();
      this.pinInfos.clear();
    }
  }

  /**
   * Something translations depend on changed: `tables` (OpenFlow table ids),
   * or everything (ALL_TABLES). Megaflows are revalidated before the
   * datapath's next batch and after the current message chunk, once for all
   * changes made in between.
   */
  private changed(tables: Iterable<number> | null): void {
    this.generation++;
    if (tables === ALL_TABLES) this.revalAll = true;
    else for (const t of tables) this.revalTables.add(t);
    if (!this.revalPending) {
      this.revalPending = true;
      this.datapath.requestSync();
      queueMicrotask(this.revalidateSoon);
    }
  }

  /** True while a change waits for its revalidation pass. */
  get revalidationPending(): boolean {
    return this.revalPending;
  }

  /** UpcallHandler.sync: run the pending revalidation (never throws). */
  sync(): void {
    try {
      this.revalidatePending();
    } catch (e) {
      // A bug here must not stop frames; a flush is always correct.
      this.counters.internalErrors++;
      this.revalidate(false);
      void e;
    }
  }

  /** Run the pending revalidation pass now, if there is one (see the file comment). */
  revalidatePending(allowRegistryClear = true): void {
    if (!this.revalPending) return;
    if (this.pinClearPending && allowRegistryClear) {
      this.revalidate(); // old PACKET_IN cookies must leave the datapath
      return;
    }
    const all = this.revalAll;
    const tables = this.revalTables;
    this.revalPending = false;
    this.revalAll = false;
    this.counters.revalidations++;
    const dp = this.datapath;
    if (dp.cache.count === 0) {
      tables.clear();
      this.records.clear();
      this.recordsByFlow.clear();
      return;
    }
    this.pullStats(); // hits so far belong to the rules that produced them
    const work: { flow: DpFlow; rec: MegaflowRecord }[] = [];
    const orphans: DpFlow[] = [];
    for (const f of dp.flowDump()) {
      const rec = this.recordOf(f);
      if (rec === undefined) orphans.push(f);
      else if (all || usesAny(rec.tables, tables)) work.push({ flow: f, rec });
    }
    tables.clear();
    const now = this.clock();
    this.revalTokens = Math.min(this.revalBurst, this.revalTokens + ((now - this.revalLastMs) * this.revalRate) / 1000);
    this.revalLastMs = now;
    if (work.length > this.revalTokens) {
      this.revalidate(allowRegistryClear); // over budget: flush, the next packets re-translate
      return;
    }
    this.revalTokens -= work.length;
    for (const f of orphans) dp.flowDel(f.key, f.mask); // installed by someone else: as a flush would
    for (const w of work) this.revalidateFlow(w.flow, w.rec);
  }

  /** The record of an installed megaflow (found by its key and mask the first time). */
  private recordOf(f: DpFlow): MegaflowRecord | undefined {
    let rec = this.recordsByFlow.get(f);
    if (rec === undefined) {
      rec = this.records.get(flowSig(f.key, f.mask));
      if (rec !== undefined) this.recordsByFlow.set(f, rec);
    }
    return rec;
  }

  private dropFlow(f: DpFlow): void {
    this.datapath.flowDel(f.key, f.mask);
    this.recordsByFlow.delete(f);
    this.records.delete(flowSig(f.key, f.mask));
  }

  /** Re-translate one megaflow; keep it, change its actions or delete it. */
  private revalidateFlow(f: DpFlow, rec: MegaflowRecord): void {
    this.counters.megaflowsRevalidated++;
    const p = this.portsByDp.get(rec.inPort);
    if (p === undefined || (p.config & (OFPPC.PORT_DOWN | OFPPC.NO_RECV)) !== 0) {
      this.counters.megaflowsDeleted++;
      this.dropFlow(f); // the next packet installs miss()'s in_port-only drop flow
      return;
    }
    const res = xlate(this.env, rec.key, { ofInPort: p.ofPort, packetBytes: 0, learn: false, countLookups: false });
    const mask = dpMaskOf(res.wc);
    mask[W_IN_PORT] = 0xffffffff;
    let covered = !res.slow;
    const fm = f.mask;
    for (let i = 0; covered && i < KEY_WORDS; i++) if ((mask[i]! & ~fm[i]!) !== 0) covered = false;
    if (!covered) {
      // Payload-dependent now, or the installed mask is too wide: packets it covers may translate differently.
      this.counters.megaflowsDeleted++;
      this.dropFlow(f);
      return;
    }
    if (!sameDpActions(rec.actions, res.actions)) {
      this.counters.megaflowsModified++;
      this.datapath.flowPut(f.key, f.mask, res.actions);
      rec.actions = res.actions;
    }
    rec.rules = res.rules;
    rec.groups = res.groups;
    rec.tables = res.tables;
    // rec.learned stays: the same source MAC arrives on the same port (learn: false records nothing).
  }

  /** Delete megaflows unused for maxIdleMs, and forget records of flows that are gone. */
  private expireMegaflows(): void {
    const dp = this.datapath;
    if (this.maxIdleMs > 0 && dp.cache.count > 0) {
      const now = this.clock();
      const idle: DpFlow[] = [];
      for (const f of dp.flowDump()) {
        const rec = this.recordOf(f);
        const last = f.usedMs !== 0 ? f.usedMs : (rec?.createdMs ?? 0);
        if (now - last >= this.maxIdleMs) idle.push(f);
      }
      for (const f of idle) {
        this.counters.megaflowsExpired++;
        this.dropFlow(f);
      }
    }
    if (this.records.size > 2 * dp.cache.count + 1024) {
      // Flows deleted behind our back (dpctl): rebuild the records from what is installed.
      const keep = new Map<string, MegaflowRecord>();
      this.recordsByFlow.clear();
      for (const f of dp.flowDump()) {
        const sig = flowSig(f.key, f.mask);
        const rec = this.records.get(sig);
        if (rec === undefined) continue;
        keep.set(sig, rec);
        this.recordsByFlow.set(f, rec);
      }
      this.records.clear();
      for (const [k, v] of keep) this.records.set(k, v);
    }
  }

  /** Credit megaflow hits since the last pull to the rules, buckets and MAC entries that produced them. */
  pullStats(): void {
    if (this.records.size === 0) return;
    const now = this.clock();
    let macMoved = false;
    for (const f of this.datapath.flowDump()) {
      let rec = this.recordsByFlow.get(f);
      if (rec === undefined) {
        rec = this.records.get(flowSig(f.key, f.mask));
        if (rec === undefined) continue;
        this.recordsByFlow.set(f, rec);
      }
      const dp = f.packets - rec.packets;
      const db = f.bytes - rec.bytes;
      if (dp === 0 && db === 0) continue;
      rec.packets = f.packets;
      rec.bytes = f.bytes;
      for (const r of rec.rules) if (!r.dead) r.hit(dp, db, now);
      // OFPST_TABLE: each packet of the megaflow (the upcall's own included) was a lookup in every
      // table its translation visited and a match in the tables of its rules.
      if (dp > 0) this.creditTables(rec.tables, rec.rules, dp);
      for (const g of rec.groups) g.group.hit(g.bucket, dp, db);
      for (const l of rec.learned) if (this.mac.learn(l.vlan, l.hi, l.lo, l.port)) macMoved = true;
    }
    if (macMoved) this.generation++; // a refresh re-created an aged entry; flows stay valid (same port)
  }

  /**
   * Periodic work: credit stats, expire rules (FLOW_REMOVED), age MACs,
   * notice carrier changes (PORT_STATUS) and fail-open changes.
   */
  run(): void {
    this.pullStats();
    const expired = this.tables.expire(this.clock());
    for (const e of expired) this.flowRemoved(e);
    let changed = expired.length > 0;
    if (this.mac.expire() > 0) changed = true;
    for (const p of this.portsByOf.values()) {
      const s = p.state;
      if (s !== p.reportedState) {
        p.reportedState = s;
        this.portStatus(OFPPR.MODIFY, p);
        changed = true;
      }
    }
    const fo = this.failOpen();
    if (fo !== this.lastFailOpen) {
      this.lastFailOpen = fo;
      changed = true;
    }
    if (this.pinClearPending) this.revalidate();
    else if (changed) this.changed(ALL_TABLES);
    this.revalidatePending();
    this.expireMegaflows();
  }

  private flowRemoved(e: RemovedRule): void {
    const r = e.rule;
    if ((r.flags & OFPFF.SEND_FLOW_REM) === 0) return;
    const d = this.duration(r.createdMs);
    for (const c of this.conns.connections()) {
      if (!c.wantsAsync('flow_removed', e.reason)) continue;
      c.send({
        type: OFPT.FLOW_REMOVED,
        version: c.version,
        xid: 0,
        cookie: r.cookie,
        priority: r.priority,
        reason: e.reason,
        tableId: r.tableId,
        durationSec: d.sec,
        durationNsec: d.nsec,
        idleTimeout: r.idleTimeout,
        hardTimeout: r.hardTimeout,
        packetCount: big(r.packetCount),
        byteCount: big(r.byteCount),
        match: r.oxm,
      });
    }
  }

  private duration(sinceMs: number): { sec: number; nsec: number } {
    const ms = Math.max(0, this.clock() - sinceMs);
    return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1_000_000 };
  }

  // --- upcalls ----------------------------------------------------------------------

  /** UpcallHandler.miss: translate and describe the megaflow to install. */
  miss(inPort: number, key: Uint32Array, frame: Buffer): UpcallResult | null {
    this.counters.upcalls++;
    if (this.pinClearPending) this.revalidate();
    this.revalidatePending();
    const p = this.portsByDp.get(inPort);
    if (p === undefined || (p.config & (OFPPC.PORT_DOWN | OFPPC.NO_RECV)) !== 0) {
      // Not an OpenFlow port (or not receiving): drop, cached on in_port alone.
      const mask = newKey();
      mask[0] = 0xffffffff;
      return { actions: [], mask };
    }
    // Table lookups are counted here for a packet that stays in the slow path, else by pullStats() from the megaflow's stats.
    const res = xlate(this.env, key, { ofInPort: p.ofPort, packetBytes: frame.length, learn: true, packet: frame, countLookups: false });
    if (res.macChanged) {
      // Flows that flooded to this MAC (or sent it to its old port) change now, as a flush did;
      // this translation's PACKET_IN cookies are in use, so the registry is not cleared here.
      this.changed(ALL_TABLES);
      this.revalidatePending(false);
    }
    const dp = this.datapath;
    const installable = !res.slow && dp.cache.count < dp.cache.classifier.flowLimit;
    if (!installable) {
      this.counters.slowPathPackets++;
      this.credit(res, 1, frame.length);
      this.creditTables(res.tables, res.rules, 1);
      return { actions: res.actions, mask: null };
    }
    const mask = dpMaskOf(res.wc);
    // Like OVS, megaflows always match in_port: per-port state checked before translation (NO_RECV,
    // PORT_DOWN, non-OpenFlow ports) must not leak into a flow installed for another port.
    mask[W_IN_PORT] = 0xffffffff;
    const masked = new Uint32Array(KEY_WORDS);
    for (let i = 0; i < KEY_WORDS; i++) masked[i] = key[i]! & mask[i]!;
    this.records.set(flowSig(masked, mask), {
      rules: res.rules,
      groups: res.groups,
      learned: res.learned,
      packets: 0,
      bytes: 0,
      inPort,
      key: key.slice(),
      actions: res.actions,
      tables: res.tables,
      createdMs: this.clock(),
    });
    return { actions: res.actions, mask };
  }

  /** OFPST_TABLE counters for `packets` packets that looked up `tables` and matched `rules`. */
  private creditTables(tables: readonly number[], rules: readonly OfRule[], packets: number): void {
    const all = this.tables.tables;
    for (const t of tables) all[t]!.lookupCount += packets;
    for (const r of rules) all[r.tableId]!.matchedCount += packets;
  }

  private credit(res: XlateResult, packets: number, bytes: number): void {
    const now = this.clock();
    for (const r of res.rules) if (!r.dead) r.hit(packets, bytes, now);
    for (const g of res.groups) g.group.hit(g.bucket, packets, bytes);
  }

  /** UpcallHandler.action: a userspace() action fired, i.e. a packet-in. */
  action(_inPort: number, _key: Uint32Array, frame: Buffer, cookie: Uint8Array | null): void {
    if (cookie === null || cookie.length < 4) return;
    const id = ((cookie[0]! << 24) | (cookie[1]! << 16) | (cookie[2]! << 8) | cookie[3]!) >>> 0;
    const info = this.pinInfos.get(id);
    if (info === undefined) return;
    this.sendPacketIn(info, frame);
  }

  private packetInCookie(info: PacketInInfo): Uint8Array {
    const sig = `${info.reason}/${info.tableId}/${info.cookie}/${info.maxLen}/${info.ofInPort}/${info.metadata}`;
    let id = this.pinIds.get(sig);
    if (id === undefined) {
      // Never cleared mid-translation (cookies of this translation must stay valid): flagged here, done by miss()/run().
      if (this.pinInfos.size >= PACKET_IN_REGISTRY_LIMIT) this.pinClearPending = true;
      id = this.nextPinId++ >>> 0;
      this.pinIds.set(sig, id);
      this.pinInfos.set(id, info);
    }
    return Uint8Array.of(id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff);
  }

  private sendPacketIn(info: PacketInInfo, frame: Buffer): void {
    const now = this.clock();
    this.pinTokens = Math.min(this.pinBurst, this.pinTokens + ((now - this.pinLastMs) * this.pinRate) / 1000);
    this.pinLastMs = now;
    if (this.pinTokens < 1) {
      this.counters.packetInsRateLimited++;
      return;
    }
    this.pinTokens -= 1;
    const flow = newOfFlow();
    flow[W_OF_IN_PORT] = info.ofInPort;
    setMetadata(flow, info.metadata);
    const match = packetInMatch(flow);
    for (const c of this.conns.connections()) {
      if (!c.wantsAsync('packet_in', info.reason)) continue;
      let len = info.maxLen === OFPCML_NO_BUFFER ? frame.length : Math.min(info.maxLen, frame.length);
      if (info.reason === OFPR.NO_MATCH && c.missSendLen !== OFPCML_NO_BUFFER) len = Math.min(len, c.missSendLen);
      this.counters.packetIns++;
      c.send({
        type: OFPT.PACKET_IN,
        version: c.version,
        xid: 0,
        bufferId: OFP_NO_BUFFER,
        totalLen: frame.length,
        reason: info.reason,
        tableId: info.tableId,
        cookie: info.cookie,
        match,
        data: Buffer.from(frame.subarray(0, len)),
      });
    }
  }

  // --- OfprotoHandler -------------------------------------------------------------------

  features(): { datapathId: bigint; nBuffers: number; nTables: number; auxiliaryId: number; capabilities: number } {
    return {
      datapathId: this.datapathId,
      nBuffers: 0,
      nTables: N_TABLES,
      auxiliaryId: 0,
      capabilities: OFPC.FLOW_STATS | OFPC.TABLE_STATS | OFPC.PORT_STATS | OFPC.GROUP_STATS,
    };
  }

  connected(_conn: OfConn): void {
    this.checkFailOpen();
  }

  disconnected(_conn: OfConn): void {
    this.checkFailOpen();
  }

  private checkFailOpen(): void {
    const fo = this.failOpen();
    if (fo !== this.lastFailOpen) {
      this.lastFailOpen = fo;
      this.changed(ALL_TABLES);
    }
  }

  handleMessage(conn: OfConn, msg: OfpMessage): void {
    try {
      this.dispatch(conn, msg);
    } catch (e) {
      let err: OfpError;
      if (e instanceof OfpError) {
        err = e;
      } else {
        this.counters.internalErrors++;
        err = new OfpError(OFPET.BAD_REQUEST, OFPBRC.EPERM, `internal error: ${(e as Error)?.message ?? String(e)}`, Buffer.alloc(0), e);
      }
      if (err.data.length === 0) {
        try {
          err.data = encodeMessage(msg).subarray(0, 0xffff - 12);
        } catch {
          err.data = Buffer.alloc(0);
        }
      }
      this.counters.errorsSent++;
      conn.send(errorMsgFromError(err, conn.version, msg.xid));
    }
  }

  private dispatch(conn: OfConn, msg: OfpMessage): void {
    switch (msg.type) {
      case OFPT.FLOW_MOD:
        return this.handleFlowMod(msg);
      case OFPT.GROUP_MOD:
        return this.handleGroupMod(msg);
      case OFPT.METER_MOD:
        return this.handleMeterMod(msg);
      case OFPT.PORT_MOD:
        return this.handlePortMod(msg);
      case OFPT.TABLE_MOD:
        return this.handleTableMod(msg);
      case OFPT.PACKET_OUT:
        return this.handlePacketOut(msg);
      case OFPT.GET_CONFIG_REQUEST:
        conn.send({ type: OFPT.GET_CONFIG_REPLY, version: conn.version, xid: msg.xid, flags: OFPC_FRAG.NORMAL, missSendLen: conn.missSendLen });
        return;
      case OFPT.SET_CONFIG:
        if ((msg.flags & OFPC_FRAG.MASK) !== OFPC_FRAG.NORMAL || (msg.flags & ~OFPC_FRAG.MASK) !== 0) {
          throw new OfpError(OFPET.SWITCH_CONFIG_FAILED, OFPSCFC.BAD_FLAGS, `config flags 0x${msg.flags.toString(16)}: only OFPC_FRAG_NORMAL is supported`);
        }
        conn.missSendLen = msg.missSendLen;
        return;
      case OFPT.MULTIPART_REQUEST:
        return this.handleMultipart(conn, msg);
      case OFPT.QUEUE_GET_CONFIG_REQUEST:
        if (msg.port !== OFPP.ANY && !this.portsByOf.has(msg.port)) {
          throw new OfpError(OFPET.QUEUE_OP_FAILED, OFPQOFC.BAD_PORT, `port ${msg.port}: no such OpenFlow port on ${this.name}`);
        }
        conn.send({ type: OFPT.QUEUE_GET_CONFIG_REPLY, version: conn.version, xid: msg.xid, port: msg.port, queues: [] });
        return;
      case OFPT.EXPERIMENTER:
        throw brc(OFPBRC.BAD_EXPERIMENTER, `experimenter 0x${msg.experimenter.toString(16)} is not supported`);
      default:
        throw brc(OFPBRC.BAD_TYPE, `message type ${msg.type} is not handled by the switch`);
    }
  }

  // --- FLOW_MOD / GROUP_MOD / METER_MOD ---------------------------------------------------

  private handleFlowMod(fm: FlowModMsg): void {
    this.counters.flowMods++;
    // Megaflow hits are credited (pullStats) only when a rule's counters are about to be copied, reset or reported.
    const res = this.tables.flowMod(fm, this.clock(), this.validateFn, this.pullStatsFn);
    for (const e of res.removed) this.flowRemoved(e);
    if (res.added.length + res.modified.length + res.removed.length > 0) {
      const touched = new Set<number>();
      for (const r of res.added) touched.add(r.tableId);
      for (const r of res.modified) touched.add(r.tableId);
      for (const e of res.removed) touched.add(e.rule.tableId);
      this.changed(touched);
    }
    if (fm.bufferId !== OFP_NO_BUFFER && fm.command <= 2) {
      throw brc(OFPBRC.BUFFER_UNKNOWN, `buffer ${fm.bufferId}: this switch does not buffer packets`);
    }
  }

  /** FLOW_MOD time checks: everything the pipeline cannot do is refused here, never at translation time. */
  validateInstructions(list: Instruction[], tableId: number, match?: OfMatch): void {
    const seen = new Set<number>();
    for (const ins of list) {
      if (seen.has(ins.type)) throw new OfpError(OFPET.BAD_INSTRUCTION, OFPBIC.UNSUP_INST, `instruction type ${ins.type} appears twice`);
      seen.add(ins.type);
      switch (ins.type) {
        case OFPIT.GOTO_TABLE:
          if (ins.tableId <= tableId || ins.tableId >= N_TABLES) {
            throw new OfpError(OFPET.BAD_INSTRUCTION, OFPBIC.BAD_TABLE_ID, `goto_table:${ins.tableId} from table ${tableId} (must go forward, at most ${N_TABLES - 1})`);
          }
          break;
        case OFPIT.METER:
          if (!this.meters.get(ins.meterId)) throw new OfpError(OFPET.METER_MOD_FAILED, OFPMMFC.UNKNOWN_METER, `meter ${ins.meterId} does not exist`);
          break;
        case OFPIT.APPLY_ACTIONS:
        case OFPIT.WRITE_ACTIONS:
          this.validateActions(ins.actions, false);
          if (match !== undefined) checkSetFieldPrereqs(ins.actions, match);
          break;
        case OFPIT.CLEAR_ACTIONS:
        case OFPIT.WRITE_METADATA:
          break;
        case OFPIT.EXPERIMENTER:
          throw new OfpError(OFPET.BAD_INSTRUCTION, OFPBIC.BAD_EXPERIMENTER, `experimenter instruction 0x${ins.experimenter.toString(16)}`);
        default:
          throw new OfpError(OFPET.BAD_INSTRUCTION, OFPBIC.UNKNOWN_INST, `instruction type ${(ins as Instruction).type}`);
      }
    }
  }

  validateActions(actions: readonly Action[], packetOut: boolean): void {
    const bac = (code: number, m: string): OfpError => new OfpError(OFPET.BAD_ACTION, code, m);
    for (const a of actions) {
      switch (a.type) {
        case OFPAT.OUTPUT:
          if (a.port === 0 || (a.port > OFPP.MAX && !STANDARD_PORT_RESERVED_OK.has(a.port) && !(packetOut && a.port === OFPP.TABLE))) {
            throw bac(OFPBAC.BAD_OUT_PORT, `output to port 0x${a.port.toString(16)}`);
          }
          if (a.port === OFPP.CONTROLLER && a.maxLen > OFPCML_MAX && a.maxLen !== OFPCML_NO_BUFFER) {
            throw bac(OFPBAC.BAD_ARGUMENT, `output:CONTROLLER max_len ${a.maxLen}`);
          }
          break;
        case OFPAT.GROUP:
          if (!this.groups.get(a.groupId)) throw bac(OFPBAC.BAD_OUT_GROUP, `group ${a.groupId} does not exist`);
          break;
        case OFPAT.SET_FIELD:
          if (a.field.kind !== 'basic' || !SETTABLE.has(a.field.field)) {
            const what = a.field.kind === 'basic' ? (OXM_FIELDS[a.field.field]?.name ?? String(a.field.field)) : 'non-basic OXM';
            throw bac(OFPBAC.BAD_SET_TYPE, `set_field: ${what} cannot be set by this switch`);
          }
          if (a.field.field === OFPXMT.ETH_TYPE && Number(a.field.value) < 0x600) {
            throw bac(OFPBAC.BAD_SET_ARGUMENT, `set_field: eth_type 0x${Number(a.field.value).toString(16)} is a length, not an ethertype`);
          }
          break;
        case OFPAT.PUSH_VLAN:
          if (a.ethertype !== 0x8100 && a.ethertype !== 0x88a8) throw bac(OFPBAC.BAD_ARGUMENT, `push_vlan ethertype 0x${a.ethertype.toString(16)}`);
          break;
        case OFPAT.PUSH_MPLS:
          if (a.ethertype !== 0x8847 && a.ethertype !== 0x8848) throw bac(OFPBAC.BAD_ARGUMENT, `push_mpls ethertype 0x${a.ethertype.toString(16)}`);
          break;
        case OFPAT.POP_MPLS:
          if (a.ethertype < 0x600) throw bac(OFPBAC.BAD_ARGUMENT, `pop_mpls ethertype 0x${a.ethertype.toString(16)}`);
          break;
        case OFPAT.PUSH_PBB:
          if (a.ethertype !== 0x88e7) throw bac(OFPBAC.BAD_ARGUMENT, `push_pbb ethertype 0x${a.ethertype.toString(16)}`);
          break;
        case OFPAT.POP_PBB:
        case OFPAT.COPY_TTL_IN:
        case OFPAT.COPY_TTL_OUT:
        case OFPAT.SET_MPLS_TTL:
        case OFPAT.DEC_MPLS_TTL:
        case OFPAT.POP_VLAN:
        case OFPAT.SET_QUEUE:
        case OFPAT.SET_NW_TTL:
        case OFPAT.DEC_NW_TTL:
          break;
        case OFPAT.EXPERIMENTER:
          throw bac(OFPBAC.BAD_EXPERIMENTER, `experimenter action 0x${a.experimenter.toString(16)}`);
        default:
          throw bac(OFPBAC.BAD_TYPE, `action type ${(a as Action).type} is not supported`);
      }
    }
  }

  private handleGroupMod(m: GroupModMsg): void {
    this.pullStats();
    const res = this.groups.groupMod(m, this.clock(), (acts) => this.validateActions(acts, false));
    if (res.deleted.length > 0) {
      const gone = new Set(res.deleted);
      for (const r of [...this.tables.allRules()]) {
        if (ruleUses(r, (a) => a.type === OFPAT.GROUP && gone.has(a.groupId))) {
          this.tables.removeRule(r);
          this.flowRemoved({ rule: r, reason: OFPRR.GROUP_DELETE });
        }
      }
    }
    this.changed(ALL_TABLES);
  }

  private handleMeterMod(m: MeterModMsg): void {
    this.pullStats();
    const res = this.meters.meterMod(m, this.clock());
    for (const id of res.deleted) this.datapath.meterDel(id);
    const changed = m.command === OFPMC.DELETE ? undefined : this.meters.get(m.meterId);
    if (changed !== undefined) this.datapath.meterSet(changed.meterId, dpMeterConfig(changed));
    if (res.deleted.length > 0) {
      const gone = new Set(res.deleted);
      for (const r of [...this.tables.allRules()]) {
        if (r.instructions.some((i) => i.type === OFPIT.METER && gone.has(i.meterId))) {
          this.tables.removeRule(r);
          this.flowRemoved({ rule: r, reason: OFPRR.DELETE });
        }
      }
    }
    this.changed(ALL_TABLES);
  }

  private handlePortMod(m: PortModMsg): void {
    const p = this.portsByOf.get(m.portNo);
    if (p === undefined) throw new OfpError(OFPET.PORT_MOD_FAILED, OFPPMFC.BAD_PORT, `port ${m.portNo}: no such OpenFlow port on ${this.name}`);
    if (!Buffer.from(p.dp.mac).equals(m.hwAddr)) throw new OfpError(OFPET.PORT_MOD_FAILED, OFPPMFC.BAD_HW_ADDR, `port ${m.portNo}: hw_addr does not match`);
    const allowed = OFPPC.PORT_DOWN | OFPPC.NO_RECV | OFPPC.NO_FWD | OFPPC.NO_PACKET_IN;
    if ((m.mask & ~allowed) !== 0 || (m.config & ~allowed) !== 0) {
      throw new OfpError(OFPET.PORT_MOD_FAILED, OFPPMFC.BAD_CONFIG, `port config bits 0x${(m.config | m.mask).toString(16)}`);
    }
    const config = (p.config & ~m.mask) | (m.config & m.mask);
    if (config !== p.config) this.setPortConfig(p.ofPort, { config });
  }

  private handleTableMod(m: TableModMsg): void {
    if (m.tableId >= N_TABLES && m.tableId !== OFPTT.ALL) throw new OfpError(OFPET.TABLE_MOD_FAILED, OFPTMFC.BAD_TABLE, `table ${m.tableId} does not exist`);
    if ((m.config & ~OFPTC_DEPRECATED_MASK) !== 0) throw new OfpError(OFPET.TABLE_MOD_FAILED, OFPTMFC.BAD_CONFIG, `table config 0x${m.config.toString(16)}`);
    for (const t of m.tableId === OFPTT.ALL ? this.tables.tables : [this.tables.tables[m.tableId]!]) t.config = m.config;
  }

  // --- PACKET_OUT ----------------------------------------------------------------------------

  private handlePacketOut(m: PacketOutMsg): void {
    if (m.bufferId !== OFP_NO_BUFFER) throw brc(OFPBRC.BUFFER_UNKNOWN, `buffer ${m.bufferId}: this switch does not buffer packets`);
    const inPort = m.inPort;
    if (inPort === 0 || (inPort > OFPP.MAX && inPort !== OFPP.CONTROLLER && inPort !== OFPP.LOCAL && inPort !== OFPP.ANY)) {
      throw brc(OFPBRC.BAD_PORT, `packet-out in_port 0x${inPort.toString(16)}`);
    }
    if (m.data.length < 14) throw brc(OFPBRC.BAD_PACKET, `packet-out data of ${m.data.length} bytes`);
    this.validateActions(m.actions, true);
    this.counters.packetOuts++;
    const ofIn = inPort === OFPP.ANY ? OFPP.CONTROLLER : inPort;
    const dpIn = this.portsByOf.get(ofIn)?.dpPort ?? 0;
    const key = this.scratchKey;
    extractFlow(m.data, 0, m.data.length, dpIn, key, this.scratchLayout);
    const res = xlate(this.env, key, { ofInPort: ofIn, packetBytes: m.data.length, learn: false, actions: m.actions, packet: m.data });
    this.credit(res, 1, m.data.length);
    if (res.actions.length > 0) this.datapath.execute(m.data, dpIn, res.actions);
  }

  // --- MULTIPART ---------------------------------------------------------------------------------

  private reply(conn: OfConn, req: MultipartRequestMsg, body: MultipartReplyBody): void {
    for (const m of splitMultipartReply({ type: OFPT.MULTIPART_REPLY, version: conn.version, xid: req.xid, flags: 0, body })) conn.send(m);
  }

  private handleMultipart(conn: OfConn, req: MultipartRequestMsg): void {
    const b = req.body;
    switch (b.mpType) {
      case OFPMP.DESC:
        return this.reply(conn, req, {
          mpType: OFPMP.DESC,
          mfrDesc: 'tsvs',
          hwDesc: 'tsvs userspace datapath',
          swDesc: 'tsvs 0.1.0',
          serialNum: 'None',
          dpDesc: this.name,
        });
      case OFPMP.FLOW:
        this.pullStats();
        return this.reply(conn, req, { mpType: OFPMP.FLOW, flows: this.selectForStats(b).map((r) => this.flowStats(r)) });
      case OFPMP.AGGREGATE: {
        this.pullStats();
        const rules = this.selectForStats(b);
        let packets = 0;
        let bytes = 0;
        for (const r of rules) {
          packets += r.packetCount;
          bytes += r.byteCount;
        }
        return this.reply(conn, req, { mpType: OFPMP.AGGREGATE, packetCount: big(packets), byteCount: big(bytes), flowCount: rules.length });
      }
      case OFPMP.TABLE:
        this.pullStats();
        return this.reply(conn, req, {
          mpType: OFPMP.TABLE,
          tables: this.tables.tables.map((t) => ({ tableId: t.tableId, activeCount: t.count, lookupCount: big(t.lookupCount), matchedCount: big(t.matchedCount) })),
        });
      case OFPMP.PORT_STATS: {
        const ports = b.portNo === OFPP.ANY ? this.ports() : [this.portsByOf.get(b.portNo)].filter((p): p is OfPortState => p !== undefined);
        if (b.portNo !== OFPP.ANY && ports.length === 0) throw brc(OFPBRC.BAD_PORT, `port ${b.portNo}: no such OpenFlow port on ${this.name}`);
        return this.reply(conn, req, {
          mpType: OFPMP.PORT_STATS,
          ports: ports.map((p) => {
            const s = p.dp.stats;
            const d = this.duration(p.createdMs);
            // Port counters are the port's view: what the switch received from it (rx) and sent to it (tx).
            return {
              portNo: p.ofPort,
              rxPackets: big(s.rxPackets),
              txPackets: big(s.txPackets),
              rxBytes: big(s.rxBytes),
              txBytes: big(s.txBytes),
              rxDropped: big(s.rxDropped),
              txDropped: big(s.txDropped),
              rxErrors: big(s.rxErrors),
              txErrors: big(s.txErrors),
              rxFrameErr: 0n,
              rxOverErr: 0n,
              rxCrcErr: 0n,
              collisions: 0n,
              durationSec: d.sec,
              durationNsec: d.nsec,
            };
          }),
        });
      }
      case OFPMP.PORT_DESC:
        return this.reply(conn, req, { mpType: OFPMP.PORT_DESC, ports: this.ports().map((p) => this.portDesc(p)) });
      case OFPMP.QUEUE:
        return this.reply(conn, req, { mpType: OFPMP.QUEUE, queues: [] });
      case OFPMP.GROUP: {
        this.pullStats();
        const gs = b.groupId === OFPG.ALL ? [...this.groups.groups.values()] : [this.groups.get(b.groupId)].filter((g) => g !== undefined);
        return this.reply(conn, req, {
          mpType: OFPMP.GROUP,
          groups: gs.map((g) => {
            const d = this.duration(g.createdMs);
            return {
              groupId: g.groupId,
              refCount: [...this.tables.allRules()].filter((r) => ruleUses(r, (a) => a.type === OFPAT.GROUP && a.groupId === g.groupId)).length,
              packetCount: big(g.packetCount),
              byteCount: big(g.byteCount),
              durationSec: d.sec,
              durationNsec: d.nsec,
              bucketStats: g.bucketPackets.map((p, i) => ({ packetCount: big(p), byteCount: big(g.bucketBytes[i]!) })),
            };
          }),
        });
      }
      case OFPMP.GROUP_DESC:
        return this.reply(conn, req, {
          mpType: OFPMP.GROUP_DESC,
          groups: [...this.groups.groups.values()].map((g) => ({ groupType: g.groupType, groupId: g.groupId, buckets: g.buckets })),
        });
      case OFPMP.GROUP_FEATURES: {
        const acts = SUPPORTED_ACTIONS.reduce((n, a) => n | (1 << a), 0) >>> 0;
        return this.reply(conn, req, {
          mpType: OFPMP.GROUP_FEATURES,
          types: (1 << OFPGT.ALL) | (1 << OFPGT.SELECT) | (1 << OFPGT.INDIRECT) | (1 << OFPGT.FF),
          capabilities: 1 | 2 | 4 | 8, // SELECT_WEIGHT, SELECT_LIVENESS, CHAINING, CHAINING_CHECKS
          maxGroups: [MAX_GROUPS, MAX_GROUPS, MAX_GROUPS, MAX_GROUPS],
          actions: [acts, acts, acts, acts],
        });
      }
      case OFPMP.METER: {
        const ms = this.metersFor(b.meterId);
        return this.reply(conn, req, {
          mpType: OFPMP.METER,
          meters: ms.map((m) => {
            const d = this.duration(m.createdMs);
            const dm = this.datapath.meterGet(m.meterId);
            return {
              meterId: m.meterId,
              flowCount: [...this.tables.allRules()].filter((r) => r.instructions.some((i) => i.type === OFPIT.METER && i.meterId === m.meterId)).length,
              packetInCount: big(dm?.packets ?? 0),
              byteInCount: big(dm?.bytes ?? 0),
              durationSec: d.sec,
              durationNsec: d.nsec,
              bandStats: m.bands.map((_, i) => ({ packetBandCount: big(dm?.bandPackets[i] ?? 0), byteBandCount: big(dm?.bandBytes[i] ?? 0) })),
            };
          }),
        });
      }
      case OFPMP.METER_CONFIG: {
        const ms = this.metersFor(b.meterId);
        return this.reply(conn, req, { mpType: OFPMP.METER_CONFIG, meters: ms.map((m) => ({ flags: m.flags, meterId: m.meterId, bands: m.bands })) });
      }
      case OFPMP.METER_FEATURES:
        return this.reply(conn, req, {
          mpType: OFPMP.METER_FEATURES,
          maxMeter: MAX_METERS,
          bandTypes: (1 << OFPMBT.DROP) | (1 << OFPMBT.DSCP_REMARK),
          capabilities: OFPMF.KBPS | OFPMF.PKTPS | OFPMF.BURST | OFPMF.STATS,
          maxBands: MAX_BANDS,
          maxColor: 0,
        });
      case OFPMP.TABLE_FEATURES:
        if (b.tables.length > 0) throw new OfpError(OFPET.TABLE_FEATURES_FAILED, OFPTFFC.EPERM, 'changing table features is not supported');
        return this.reply(conn, req, { mpType: OFPMP.TABLE_FEATURES, tables: this.tables.tables.map((t) => this.tableFeatures(t.tableId)) });
      case OFPMP.EXPERIMENTER:
        throw brc(OFPBRC.BAD_EXPERIMENTER, `multipart experimenter 0x${b.experimenter.toString(16)}`);
      default:
        throw brc(OFPBRC.BAD_MULTIPART, `multipart type ${(b as { mpType: number }).mpType}`);
    }
  }

  /** Meters named by a METER / METER_CONFIG request (OVS answers an unknown id with OFPMMFC_UNKNOWN_METER). */
  private metersFor(meterId: number): OfMeter[] {
    if (meterId === OFPM.ALL) return [...this.meters.meters.values()];
    const m = this.meters.get(meterId);
    if (m === undefined) throw new OfpError(OFPET.METER_MOD_FAILED, OFPMMFC.UNKNOWN_METER, `meter ${meterId} does not exist`);
    return [m];
  }

  /**
   * fdb/flush: forget every learned MAC. Megaflows built from them (NORMAL
   * forwarding to a learned port) are revalidated, so the next packet floods
   * and learns again. Returns how many entries were dropped.
   */
  fdbFlush(): number {
    // Credit megaflow hits first: crediting them after the flush would re-learn their MACs.
    this.pullStats();
    const n = this.mac.count;
    this.mac.flush();
    this.revalidate();
    return n;
  }

  /** fdb/show: the MAC table as text (port, VLAN, MAC, age in seconds), like ovs-appctl fdb/show. */
  fdbShow(): string {
    const now = this.clock();
    const lines = [' port  VLAN  MAC                Age'];
    for (const e of this.mac.entries()) {
      const port = e.port === OFPP.LOCAL ? 'LOCAL' : String(e.port);
      lines.push(`${port.padStart(5)}  ${String(e.vlan).padStart(4)}  ${e.mac}  ${Math.floor((now - e.usedMs) / 1000)}`);
    }
    return lines.join('\n');
  }

  private selectForStats(b: FlowStatsRequestBody): OfRule[] {
    if (b.tableId >= N_TABLES && b.tableId !== OFPTT.ALL) throw brc(OFPBRC.BAD_TABLE_ID, `table ${b.tableId} does not exist`);
    return this.tables.select(b.tableId, ofMatchFromOxm(b.match), b.cookie, b.cookieMask, b.outPort, b.outGroup).sort((x, y) => x.tableId - y.tableId || y.priority - x.priority);
  }

  private flowStats(r: OfRule): FlowStats {
    const d = this.duration(r.createdMs);
    return {
      tableId: r.tableId,
      durationSec: d.sec,
      durationNsec: d.nsec,
      priority: r.priority,
      idleTimeout: r.idleTimeout,
      hardTimeout: r.hardTimeout,
      flags: r.flags,
      cookie: r.cookie,
      packetCount: big(r.packetCount),
      byteCount: big(r.byteCount),
      match: r.oxm,
      instructions: r.instructions,
    };
  }

  private tableFeatures(tableId: number): TableFeatures {
    const t = this.tables.tables[tableId]!;
    const insIds = [OFPIT.GOTO_TABLE, OFPIT.WRITE_METADATA, OFPIT.WRITE_ACTIONS, OFPIT.APPLY_ACTIONS, OFPIT.CLEAR_ACTIONS, OFPIT.METER]
      .filter((i) => i !== OFPIT.GOTO_TABLE || tableId < N_TABLES - 1)
      .map((type) => ({ type, data: Buffer.alloc(0) }));
    const actIds = SUPPORTED_ACTIONS.map((type) => ({ type, data: Buffer.alloc(0) }));
    const next: number[] = [];
    for (let n = tableId + 1; n < N_TABLES; n++) next.push(n);
    const matchIds = MATCHABLE.map((f) => ({ header: oxmHeader(f.field, f.maskable) }));
    const wildIds = MATCHABLE.map((f) => ({ header: oxmHeader(f.field) }));
    const setIds = [...SETTABLE].map((f) => ({ header: oxmHeader(f) }));
    const props: TableFeatureProp[] = [
      { kind: 'instructions', type: OFPTFPT.INSTRUCTIONS, ids: insIds },
      { kind: 'instructions', type: OFPTFPT.INSTRUCTIONS_MISS, ids: insIds },
      { kind: 'nextTables', type: OFPTFPT.NEXT_TABLES, tableIds: next },
      { kind: 'nextTables', type: OFPTFPT.NEXT_TABLES_MISS, tableIds: next },
      { kind: 'actions', type: OFPTFPT.WRITE_ACTIONS, ids: actIds },
      { kind: 'actions', type: OFPTFPT.WRITE_ACTIONS_MISS, ids: actIds },
      { kind: 'actions', type: OFPTFPT.APPLY_ACTIONS, ids: actIds },
      { kind: 'actions', type: OFPTFPT.APPLY_ACTIONS_MISS, ids: actIds },
      { kind: 'oxm', type: OFPTFPT.MATCH, ids: matchIds },
      { kind: 'oxm', type: OFPTFPT.WILDCARDS, ids: wildIds },
      { kind: 'oxm', type: OFPTFPT.WRITE_SETFIELD, ids: setIds },
      { kind: 'oxm', type: OFPTFPT.WRITE_SETFIELD_MISS, ids: setIds },
      { kind: 'oxm', type: OFPTFPT.APPLY_SETFIELD, ids: setIds },
      { kind: 'oxm', type: OFPTFPT.APPLY_SETFIELD_MISS, ids: setIds },
    ];
    return {
      tableId,
      name: t.name,
      metadataMatch: 0xffffffffffffffffn,
      metadataWrite: 0xffffffffffffffffn,
      config: t.config,
      maxEntries: t.maxEntries,
      properties: props,
    };
  }

  // --- trace ----------------------------------------------------------------------------------------

  /**
   * ofproto/trace: translate a frame, or a flow (a datapath key or an OF
   * flow), arriving on OpenFlow port `ofInPort`, and describe each step, the
   * final flow, the megaflow and the datapath actions, as OVS prints them.
   * No meters run, no rule or group statistics change and no packet-in is
   * sent. MACs are learned only with `learn` (OVS learns when the trace has a
   * packet: -generate or packet bytes).
   */
  trace(input: Uint8Array | Uint32Array, ofInPort: number, o: { learn?: boolean; packetBytes?: number } = {}): string {
    const p = this.portsByOf.get(ofInPort);
    const dpIn = p?.dpPort ?? 0;
    let key: Uint32Array;
    let bytes = o.packetBytes ?? 64;
    if (input instanceof Uint32Array) {
      key = input.slice(0, KEY_WORDS);
      key[W_IN_PORT] = dpIn;
    } else {
      key = newKey();
      extractFlow(input, 0, input.length, dpIn, key, newLayout());
      bytes = input.length;
    }
    const flow = newOfFlow();
    flow.set(key);
    flow[W_OF_IN_PORT] = ofInPort;
    const tr = new XlateTrace();
    tr.bridge(this.name);
    this.traceEnv ??= { ...this.env, packetInCookie: () => TRACE_PACKET_IN_COOKIE };
    const res = xlate(this.traceEnv, key, { ofInPort, packetBytes: bytes, learn: o.learn === true, trace: tr });
    if (res.macChanged) this.changed(ALL_TABLES);
    const final = res.flow;
    let unchanged = true;
    for (let i = 1; i < OF_WORDS; i++) if (i !== W_OF_METADATA_HI && i !== W_OF_METADATA_LO && final[i] !== flow[i]) unchanged = false;
    const mask = res.wc.slice();
    mask[W_OF_IN_PORT] = 0xffffffff; // as miss() installs it
    mask[W_IN_PORT] = 0;
    mask[W_OF_METADATA_HI] = mask[W_OF_METADATA_LO] = 0; // metadata is never a datapath match
    const lines = [
      `Flow: ${formatTraceFlow(flow)}`,
      tr.format().replace(/\n$/, ''),
      '',
      `Final flow: ${unchanged ? 'unchanged' : formatTraceFlow(final)}`,
      `Megaflow: ${formatTraceMatch(flow, mask, true)}`,
      `Datapath actions: ${res.actions.length === 0 ? 'drop' : formatActions(res.actions as DpAction[])}`,
    ];
    return lines.join('\n') + '\n';
  }

  private traceEnv: XlateEnv | null = null;
}

/** The userspace cookie a trace shows for a packet-in (translation for a trace registers none). */
const TRACE_PACKET_IN_COOKIE = new Uint8Array(8);

/**
 * set_field needs its field's prerequisites in the rule's match (as OVS's
 * ofpact_check: OFPBAC_MATCH_INCONSISTENT), following eth_type through
 * push_mpls/pop_mpls. VLAN fields are exempt: setting them pushes a tag.
 */
function checkSetFieldPrereqs(actions: readonly Action[], match: OfMatch): void {
  const exact = (w: number, bits: number): number | null => ((match.mask[w]! & bits) >>> 0 === bits >>> 0 ? (match.value[w]! & bits) >>> 0 : null);
  let ethType = exact(W_ETH_TYPE, 0xffff);
  const proto = exact(W_NW_PROTO_TOS_TTL_FRAG, 0xff000000);
  const ipProto = proto === null ? null : proto >>> 24;
  const icmpType = exact(W_TP_PORTS, 0x00ff0000);
  const X = OFPXMT;
  const fail = (field: number, need: string): OfpError =>
    new OfpError(OFPET.BAD_ACTION, OFPBAC.MATCH_INCONSISTENT, `set_field ${OXM_FIELDS[field]?.name ?? field} needs a match on ${need}`);
  for (const a of actions) {
    if (a.type === OFPAT.PUSH_MPLS) ethType = a.ethertype;
    else if (a.type === OFPAT.POP_MPLS) ethType = a.ethertype;
    else if (a.type === OFPAT.PUSH_PBB) ethType = a.ethertype;
    else if (a.type === OFPAT.POP_PBB) ethType = null; // the customer frame's type is not known here
    if (a.type !== OFPAT.SET_FIELD || a.field.kind !== 'basic') continue;
    const f = a.field.field;
    if (f === X.ETH_TYPE) {
      ethType = Number(a.field.value);
      continue;
    }
    const ip4 = ethType === 0x0800;
    const ip6 = ethType === 0x86dd;
    const l4 = (p: number): boolean => (ip4 || ip6) && ipProto === p;
    switch (f) {
      case X.IPV4_SRC:
      case X.IPV4_DST:
        if (!ip4) throw fail(f, 'eth_type=0x0800');
        break;
      case X.IPV6_SRC:
      case X.IPV6_DST:
      case X.IPV6_FLABEL:
        if (!ip6) throw fail(f, 'eth_type=0x86dd');
        break;
      case X.IP_DSCP:
      case X.IP_ECN:
        if (!ip4 && !ip6) throw fail(f, 'an IP eth_type');
        break;
      case X.TCP_SRC:
      case X.TCP_DST:
        if (!l4(6)) throw fail(f, 'ip_proto=6');
        break;
      case X.UDP_SRC:
      case X.UDP_DST:
        if (!l4(17)) throw fail(f, 'ip_proto=17');
        break;
      case X.SCTP_SRC:
      case X.SCTP_DST:
        if (!l4(132)) throw fail(f, 'ip_proto=132');
        break;
      case X.ICMPV4_TYPE:
      case X.ICMPV4_CODE:
        if (!(ip4 && ipProto === 1)) throw fail(f, 'ip_proto=1');
        break;
      case X.ICMPV6_TYPE:
      case X.ICMPV6_CODE:
        if (!(ip6 && ipProto === 58)) throw fail(f, 'ip_proto=58');
        break;
      case X.IPV6_ND_TARGET:
      case X.IPV6_ND_SLL:
      case X.IPV6_ND_TLL: {
        const t = icmpType === null ? -1 : icmpType >>> 16;
        const ok = ip6 && ipProto === 58 && (f === X.IPV6_ND_TARGET ? t === 135 || t === 136 : f === X.IPV6_ND_SLL ? t === 135 : t === 136);
        if (!ok) throw fail(f, 'an ICMPv6 neighbour discovery type');
        break;
      }
      case X.ARP_OP:
      case X.ARP_SPA:
      case X.ARP_TPA:
      case X.ARP_SHA:
      case X.ARP_THA:
        if (ethType !== 0x0806) throw fail(f, 'eth_type=0x0806');
        break;
      case X.MPLS_LABEL:
      case X.MPLS_TC:
        if (ethType !== 0x8847 && ethType !== 0x8848) throw fail(f, 'an MPLS eth_type');
        break;
      default:
        break;
    }
  }
}

function ruleUses(r: OfRule, pred: (a: Action) => boolean): boolean {
  for (const i of r.instructions) if ((i.type === OFPIT.APPLY_ACTIONS || i.type === OFPIT.WRITE_ACTIONS) && i.actions.some(pred)) return true;
  return false;
}

/** True when a megaflow whose translation looked up `used` may be affected by changes to `changed`. */
function usesAny(used: number[], changed: Set<number>): boolean {
  for (const t of used) if (changed.has(t)) return true;
  return false;
}

/** Datapath action lists equal (same text as dpctl/dump-flows prints, which covers every field). */
function sameDpActions(a: DpAction[], b: DpAction[]): boolean {
  if (a.length !== b.length) return false;
  return formatActions(a) === formatActions(b);
}

function flowSig(maskedKey: Uint32Array, mask: Uint32Array): string {
  let s = '';
  for (let i = 0; i < KEY_WORDS; i++) if (mask[i] !== 0) s += `${i}:${maskedKey[i]}/${mask[i]},`;
  return s;
}
