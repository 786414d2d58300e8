// OFPT_MULTIPART_REQUEST / OFPT_MULTIPART_REPLY (7.3.5): the header (type,
// flags with REQ_MORE/REPLY_MORE) and every OpenFlow 1.3 body: DESC, FLOW,
// AGGREGATE, TABLE, PORT_STATS, QUEUE, GROUP, GROUP_DESC, GROUP_FEATURES,
// METER, METER_CONFIG, METER_FEATURES, TABLE_FEATURES, PORT_DESC, EXPERIMENTER.
import { OFPBRC, OFPET, OFPMP, OFPMPF, OFPT, OFPTFFC, OFPTFPT } from './constants.js';
import { OfpError } from './errors.js';
import type { MessageBase } from './header.js';
import { decodeBuckets, encodeBuckets, type Bucket } from './group-mod.js';
import { decodeInstructions, encodeInstructions, type Instruction } from './instructions.js';
import { decodeMatch, encodeMatch, type Match } from './match.js';
import { decodeBands, encodeBands, type MeterBand } from './meter-mod.js';
import { decodeOxmId, encodeOxmId, type OxmId } from './oxm.js';
import { decodePort, encodePort, type OfpPort } from './port.js';
import { WireReader, WireWriter } from './wire.js';

// --- request bodies ------------------------------------------------------------

/** Shared by FLOW and AGGREGATE requests. */
export interface FlowStatsRequestBody {
  mpType: typeof OFPMP.FLOW | typeof OFPMP.AGGREGATE;
  tableId: number;
  outPort: number;
  outGroup: number;
  cookie: bigint;
  cookieMask: bigint;
  match: Match;
}

export interface ExperimenterBody {
  mpType: typeof OFPMP.EXPERIMENTER;
  experimenter: number;
  expType: number;
  data: Buffer;
}

export type MultipartRequestBody =
  | {
      mpType:
        | typeof OFPMP.DESC
        | typeof OFPMP.TABLE
        | typeof OFPMP.GROUP_DESC
        | typeof OFPMP.GROUP_FEATURES
        | typeof OFPMP.METER_FEATURES
        | typeof OFPMP.PORT_DESC;
    }
  | FlowStatsRequestBody
  | { mpType: typeof OFPMP.PORT_STATS; portNo: number }
  | { mpType: typeof OFPMP.QUEUE; portNo: number; queueId: number }
  | { mpType: typeof OFPMP.GROUP; groupId: number }
  | { mpType: typeof OFPMP.METER | typeof OFPMP.METER_CONFIG; meterId: number }
  | { mpType: typeof OFPMP.TABLE_FEATURES; tables: TableFeatures[] }
  | ExperimenterBody;

// --- reply bodies --------------------------------------------------------------

export interface DescBody {
  mpType: typeof OFPMP.DESC;
  mfrDesc: string;
  hwDesc: string;
  swDesc: string;
  serialNum: string;
  dpDesc: string;
}

export interface FlowStats {
  tableId: number;
  durationSec: number;
  durationNsec: number;
  priority: number;
  idleTimeout: number;
  hardTimeout: number;
  flags: number;
  cookie: bigint;
  packetCount: bigint;
  byteCount: bigint;
  match: Match;
  instructions: Instruction[];
}

export interface TableStats {
  tableId: number;
  activeCount: number;
  lookupCount: bigint;
  matchedCount: bigint;
}

export interface PortStats {
  portNo: number;
  rxPackets: bigint;
  txPackets: bigint;
  rxBytes: bigint;
  txBytes: bigint;
  rxDropped: bigint;
  txDropped: bigint;
  rxErrors: bigint;
  txErrors: bigint;
  rxFrameErr: bigint;
  rxOverErr: bigint;
  rxCrcErr: bigint;
  collisions: bigint;
  durationSec: number;
  durationNsec: number;
}

export interface QueueStats {
  portNo: number;
  queueId: number;
  txBytes: bigint;
  txPackets: bigint;
  txErrors: bigint;
  durationSec: number;
  durationNsec: number;
}

export interface GroupStats {
  groupId: number;
  refCount: number;
  packetCount: bigint;
  byteCount: bigint;
  durationSec: number;
  durationNsec: number;
  bucketStats: Array<{ packetCount: bigint; byteCount: bigint }>;
}

export interface GroupDesc {
  /** OFPGT_* */
  groupType: number;
  groupId: number;
  buckets: Bucket[];
}

export interface GroupFeaturesBody {
  mpType: typeof OFPMP.GROUP_FEATURES;
  /** Bitmap of OFPGT_* */
  types: number;
  /** OFPGFC_* */
  capabilities: number;
  /** Per group type: all, select, indirect, fast failover. */
  maxGroups: [number, number, number, number];
  /** Per group type: bitmap of OFPAT_* supported. */
  actions: [number, number, number, number];
}

export interface MeterStats {
  meterId: number;
  flowCount: number;
  packetInCount: bigint;
  byteInCount: bigint;
  durationSec: number;
  durationNsec: number;
  bandStats: Array<{ packetBandCount: bigint; byteBandCount: bigint }>;
}

export interface MeterConfig {
  /** OFPMF_* */
  flags: number;
  meterId: number;
  bands: MeterBand[];
}

export interface MeterFeaturesBody {
  mpType: typeof OFPMP.METER_FEATURES;
  maxMeter: number;
  /** Bitmap of (1 << OFPMBT_*). */
  bandTypes: number;
  /** OFPMF_* */
  capabilities: number;
  maxBands: number;
  maxColor: number;
}

/** An instruction or action id in a table-feature property: type + any body (experimenter id). */
export interface TlvId {
  type: number;
  data: Buffer;
}

export type TableFeatureProp =
  | {
      kind: 'instructions';
      type: typeof OFPTFPT.INSTRUCTIONS | typeof OFPTFPT.INSTRUCTIONS_MISS;
      ids: TlvId[];
    }
  | { kind: 'nextTables'; type: typeof OFPTFPT.NEXT_TABLES | typeof OFPTFPT.NEXT_TABLES_MISS; tableIds: number[] }
  | {
      kind: 'actions';
      type:
        | typeof OFPTFPT.WRITE_ACTIONS
        | typeof OFPTFPT.WRITE_ACTIONS_MISS
        | typeof OFPTFPT.APPLY_ACTIONS
        | typeof OFPTFPT.APPLY_ACTIONS_MISS;
      ids: TlvId[];
    }
  | {
      kind: 'oxm';
      type:
        | typeof OFPTFPT.MATCH
        | typeof OFPTFPT.WILDCARDS
        | typeof OFPTFPT.WRITE_SETFIELD
        | typeof OFPTFPT.WRITE_SETFIELD_MISS
        | typeof OFPTFPT.APPLY_SETFIELD
        | typeof OFPTFPT.APPLY_SETFIELD_MISS;
      ids: OxmId[];
    }
  | {
      kind: 'experimenter';
      type: typeof OFPTFPT.EXPERIMENTER | typeof OFPTFPT.EXPERIMENTER_MISS;
      experimenter: number;
      expType: number;
      data: Buffer;
    }
  | { kind: 'opaque'; type: number; data: Buffer };

export interface TableFeatures {
  tableId: number;
  name: string;
  metadataMatch: bigint;
  metadataWrite: bigint;
  config: number;
  maxEntries: number;
  properties: TableFeatureProp[];
}

export type MultipartReplyBody =
  | DescBody
  | { mpType: typeof OFPMP.FLOW; flows: FlowStats[] }
  | { mpType: typeof OFPMP.AGGREGATE; packetCount: bigint; byteCount: bigint; flowCount: number }
  | { mpType: typeof OFPMP.TABLE; tables: TableStats[] }
  | { mpType: typeof OFPMP.PORT_STATS; ports: PortStats[] }
  | { mpType: typeof OFPMP.QUEUE; queues: QueueStats[] }
  | { mpType: typeof OFPMP.GROUP; groups: GroupStats[] }
  | { mpType: typeof OFPMP.GROUP_DESC; groups: GroupDesc[] }
  | GroupFeaturesBody
  | { mpType: typeof OFPMP.METER; meters: MeterStats[] }
  | { mpType: typeof OFPMP.METER_CONFIG; meters: MeterConfig[] }
  | MeterFeaturesBody
  | { mpType: typeof OFPMP.TABLE_FEATURES; tables: TableFeatures[] }
  | { mpType: typeof OFPMP.PORT_DESC; ports: OfpPort[] }
  | ExperimenterBody;

export interface MultipartRequestMsg extends MessageBase {
  type: typeof OFPT.MULTIPART_REQUEST;
  /** OFPMPF_REQ_MORE */
  flags: number;
  body: MultipartRequestBody;
}

export interface MultipartReplyMsg extends MessageBase {
  type: typeof OFPT.MULTIPART_REPLY;
  /** OFPMPF_REPLY_MORE */
  flags: number;
  body: MultipartReplyBody;
}

// --- helpers ---------------------------------------------------------------------

function badMultipart(mpType: number): OfpError {
  return new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_MULTIPART, `unknown multipart type ${mpType}`);
}

/** Repeats `one` until the reader is empty. */
function many<T>(r: WireReader, one: (r: WireReader) => T): T[] {
  const out: T[] = [];
  while (r.remaining > 0) out.push(one(r));
  return out;
}

/** A record that starts with its own u16 length at `lenOffset`: returns a reader over it. */
function lengthPrefixed(r: WireReader, minLen: number, what: string, lenOffset = 0): WireReader {
  r.need(lenOffset + 2, `${what} length`);
  const len = r.buf.readUInt16BE(r.pos + lenOffset);
  if (len < minLen) throw r.fail(`${what}: length ${len} < ${minLen}`);
  return r.sub(len, what);
}

function experimenterBody(r: WireReader): ExperimenterBody {
  const experimenter = r.u32('experimenter');
  const expType = r.u32('exp_type');
  return { mpType: OFPMP.EXPERIMENTER, experimenter, expType, data: Buffer.from(r.rest()) };
}

// --- table features --------------------------------------------------------------

function tfErr(message: string): OfpError {
  return new OfpError(OFPET.TABLE_FEATURES_FAILED, OFPTFFC.BAD_LEN, message);
}

function decodeTlvIds(r: WireReader): TlvId[] {
  const out: TlvId[] = [];
  while (r.remaining > 0) {
    const type = r.u16('id type');
    const len = r.u16('id len');
    if (len < 4) throw r.fail(`id type ${type}: length ${len} < 4`);
    out.push({ type, data: Buffer.from(r.bytes(len - 4, `id type ${type} body`)) });
  }
  return out;
}

function decodeTableFeatureProp(r: WireReader): TableFeatureProp {
  const start = r.pos;
  const type = r.u16('table feature property type');
  const len = r.u16('table feature property length');
  if (len < 4) throw tfErr(`table feature property ${type}: length ${len} < 4`);
  const padded = (len + 7) & ~7;
  r.pos = start;
  const p = r.sub(len, `table feature property ${type}`);
  r.skip(Math.min(padded - len, r.remaining), 'table feature property padding');
  p.skip(4, 'property header');
  switch (type) {
    case OFPTFPT.INSTRUCTIONS:
    case OFPTFPT.INSTRUCTIONS_MISS:
      return { kind: 'instructions', type, ids: decodeTlvIds(p) };
    case OFPTFPT.NEXT_TABLES:
    case OFPTFPT.NEXT_TABLES_MISS:
      return { kind: 'nextTables', type, tableIds: [...p.rest()] };
    case OFPTFPT.WRITE_ACTIONS:
    case OFPTFPT.WRITE_ACTIONS_MISS:
    case OFPTFPT.APPLY_ACTIONS:
    case OFPTFPT.APPLY_ACTIONS_MISS:
      return { kind: 'actions', type, ids: decodeTlvIds(p) };
    case OFPTFPT.MATCH:
    case OFPTFPT.WILDCARDS:
    case OFPTFPT.WRITE_SETFIELD:
    case OFPTFPT.WRITE_SETFIELD_MISS:
    case OFPTFPT.APPLY_SETFIELD:
    case OFPTFPT.APPLY_SETFIELD_MISS:
      return { kind: 'oxm', type, ids: many(p, decodeOxmId) };
    case OFPTFPT.EXPERIMENTER:
    case OFPTFPT.EXPERIMENTER_MISS: {
      const experimenter = p.u32('experimenter');
      const expType = p.u32('exp_type');
      return { kind: 'experimenter', type, experimenter, expType, data: Buffer.from(p.rest()) };
    }
    default:
      return { kind: 'opaque', type, data: Buffer.from(p.rest()) };
  }
}

function encodeTableFeatureProp(w: WireWriter, prop: TableFeatureProp): void {
  const start = w.length;
  w.u16(prop.type).u16(0);
  switch (prop.kind) {
    case 'instructions':
    case 'actions':
      for (const id of prop.ids) w.u16(id.type).u16(4 + id.data.length).bytes(id.data);
      break;
    case 'nextTables':
      for (const t of prop.tableIds) w.u8(t);
      break;
    case 'oxm':
      for (const id of prop.ids) encodeOxmId(w, id);
      break;
    case 'experimenter':
      w.u32(prop.experimenter).u32(prop.expType).bytes(prop.data);
      break;
    case 'opaque':
      w.bytes(prop.data);
      break;
  }
  w.setU16(start + 2, w.length - start);
  w.pad8(start);
}

const TABLE_FEATURES_HEADER_LEN = 64;

export function decodeTableFeatures(r: WireReader): TableFeatures {
  const t = new WireReader(r.buf, r.pos, r.end, OFPET.TABLE_FEATURES_FAILED, OFPTFFC.BAD_LEN);
  const f = lengthPrefixed(t, TABLE_FEATURES_HEADER_LEN, 'table features');
  r.pos = t.pos;
  f.skip(2, 'length');
  const tableId = f.u8('table_id');
  f.skip(5, 'pad');
  const name = f.str(32, 'name');
  const metadataMatch = f.u64('metadata_match');
  const metadataWrite = f.u64('metadata_write');
  const config = f.u32('config');
  const maxEntries = f.u32('max_entries');
  const properties = many(f, decodeTableFeatureProp);
  return { tableId, name, metadataMatch, metadataWrite, config, maxEntries, properties };
}

export function encodeTableFeatures(w: WireWriter, t: TableFeatures): void {
  const start = w.length;
  w.u16(0).u8(t.tableId).zeros(5).str(t.name, 32).u64(t.metadataMatch).u64(t.metadataWrite);
  w.u32(t.config).u32(t.maxEntries);
  for (const p of t.properties) encodeTableFeatureProp(w, p);
  w.setU16(start, w.length - start);
}

// --- per-record codecs -----------------------------------------------------------

function decodeFlowStats(r: WireReader): FlowStats {
  const f = lengthPrefixed(r, 56, 'flow stats');
  f.skip(2, 'length');
  const tableId = f.u8('table_id');
  f.skip(1, 'pad');
  const durationSec = f.u32('duration_sec');
  const durationNsec = f.u32('duration_nsec');
  const priority = f.u16('priority');
  const idleTimeout = f.u16('idle_timeout');
  const hardTimeout = f.u16('hard_timeout');
  const flags = f.u16('flags');
  f.skip(4, 'pad');
  const cookie = f.u64('cookie');
  const packetCount = f.u64('packet_count');
  const byteCount = f.u64('byte_count');
  const match = decodeMatch(f, { check: false });
  const instructions = decodeInstructions(f);
  return {
    tableId,
    durationSec,
    durationNsec,
    priority,
    idleTimeout,
    hardTimeout,
    flags,
    cookie,
    packetCount,
    byteCount,
    match,
    instructions,
  };
}

function encodeFlowStats(w: WireWriter, s: FlowStats): void {
  const start = w.length;
  w.u16(0).u8(s.tableId).zeros(1).u32(s.durationSec).u32(s.durationNsec).u16(s.priority);
  w.u16(s.idleTimeout).u16(s.hardTimeout).u16(s.flags).zeros(4).u64(s.cookie).u64(s.packetCount).u64(s.byteCount);
  encodeMatch(w, s.match);
  encodeInstructions(w, s.instructions);
  w.setU16(start, w.length - start);
}

function decodeTableStats(r: WireReader): TableStats {
  const tableId = r.u8('table_id');
  r.skip(3, 'pad');
  return { tableId, activeCount: r.u32('active_count'), lookupCount: r.u64('lookup_count'), matchedCount: r.u64('matched_count') };
}

function decodePortStats(r: WireReader): PortStats {
  const portNo = r.u32('port_no');
  r.skip(4, 'pad');
  const c = (what: string): bigint => r.u64(what);
  return {
    portNo,
    rxPackets: c('rx_packets'),
    txPackets: c('tx_packets'),
    rxBytes: c('rx_bytes'),
    txBytes: c('tx_bytes'),
    rxDropped: c('rx_dropped'),
    txDropped: c('tx_dropped'),
    rxErrors: c('rx_errors'),
    txErrors: c('tx_errors'),
    rxFrameErr: c('rx_frame_err'),
    rxOverErr: c('rx_over_err'),
    rxCrcErr: c('rx_crc_err'),
    collisions: c('collisions'),
    durationSec: r.u32('duration_sec'),
    durationNsec: r.u32('duration_nsec'),
  };
}

function encodePortStats(w: WireWriter, s: PortStats): void {
  w.u32(s.portNo).zeros(4);
  for (const v of [s.rxPackets, s.txPackets, s.rxBytes, s.txBytes, s.rxDropped, s.txDropped, s.rxErrors, s.txErrors]) w.u64(v);
  w.u64(s.rxFrameErr).u64(s.rxOverErr).u64(s.rxCrcErr).u64(s.collisions).u32(s.durationSec).u32(s.durationNsec);
}

function decodeQueueStats(r: WireReader): QueueStats {
  return {
    portNo: r.u32('port_no'),
    queueId: r.u32('queue_id'),
    txBytes: r.u64('tx_bytes'),
    txPackets: r.u64('tx_packets'),
    txErrors: r.u64('tx_errors'),
    durationSec: r.u32('duration_sec'),
    durationNsec: r.u32('duration_nsec'),
  };
}

function decodeGroupStats(r: WireReader): GroupStats {
  const g = lengthPrefixed(r, 40, 'group stats');
  g.skip(4, 'length, pad');
  const groupId = g.u32('group_id');
  const refCount = g.u32('ref_count');
  g.skip(4, 'pad');
  const packetCount = g.u64('packet_count');
  const byteCount = g.u64('byte_count');
  const durationSec = g.u32('duration_sec');
  const durationNsec = g.u32('duration_nsec');
  const bucketStats = many(g, (b) => ({ packetCount: b.u64('bucket packet_count'), byteCount: b.u64('bucket byte_count') }));
  return { groupId, refCount, packetCount, byteCount, durationSec, durationNsec, bucketStats };
}

function encodeGroupStats(w: WireWriter, s: GroupStats): void {
  const start = w.length;
  w.u16(0).zeros(2).u32(s.groupId).u32(s.refCount).zeros(4).u64(s.packetCount).u64(s.byteCount);
  w.u32(s.durationSec).u32(s.durationNsec);
  for (const b of s.bucketStats) w.u64(b.packetCount).u64(b.byteCount);
  w.setU16(start, w.length - start);
}

function decodeGroupDesc(r: WireReader): GroupDesc {
  const g = lengthPrefixed(r, 8, 'group desc');
  g.skip(2, 'length');
  const groupType = g.u8('type');
  g.skip(1, 'pad');
  const groupId = g.u32('group_id');
  return { groupType, groupId, buckets: decodeBuckets(g) };
}

function encodeGroupDesc(w: WireWriter, d: GroupDesc): void {
  const start = w.length;
  w.u16(0).u8(d.groupType).zeros(1).u32(d.groupId);
  encodeBuckets(w, d.buckets);
  w.setU16(start, w.length - start);
}

function decodeMeterStats(r: WireReader): MeterStats {
  const m = lengthPrefixed(r, 40, 'meter stats', 4);
  const meterId = m.u32('meter_id');
  m.skip(8, 'len, pad');
  const flowCount = m.u32('flow_count');
  const packetInCount = m.u64('packet_in_count');
  const byteInCount = m.u64('byte_in_count');
  const durationSec = m.u32('duration_sec');
  const durationNsec = m.u32('duration_nsec');
  const bandStats = many(m, (b) => ({ packetBandCount: b.u64('packet_band_count'), byteBandCount: b.u64('byte_band_count') }));
  return { meterId, flowCount, packetInCount, byteInCount, durationSec, durationNsec, bandStats };
}

function encodeMeterStats(w: WireWriter, s: MeterStats): void {
  const start = w.length;
  w.u32(s.meterId).u16(0).zeros(6).u32(s.flowCount).u64(s.packetInCount).u64(s.byteInCount);
  w.u32(s.durationSec).u32(s.durationNsec);
  for (const b of s.bandStats) w.u64(b.packetBandCount).u64(b.byteBandCount);
  w.setU16(start + 4, w.length - start);
}

function decodeMeterConfig(r: WireReader): MeterConfig {
  const m = lengthPrefixed(r, 8, 'meter config');
  m.skip(2, 'length');
  const flags = m.u16('flags');
  const meterId = m.u32('meter_id');
  return { flags, meterId, bands: decodeBands(m) };
}

function encodeMeterConfig(w: WireWriter, c: MeterConfig): void {
  const start = w.length;
  w.u16(0).u16(c.flags).u32(c.meterId);
  encodeBands(w, c.bands);
  w.setU16(start, w.length - start);
}

// --- request ---------------------------------------------------------------------

function decodeFlowStatsRequest(r: WireReader, mpType: FlowStatsRequestBody['mpType']): FlowStatsRequestBody {
  const tableId = r.u8('table_id');
  r.skip(3, 'pad');
  const outPort = r.u32('out_port');
  const outGroup = r.u32('out_group');
  r.skip(4, 'pad');
  const cookie = r.u64('cookie');
  const cookieMask = r.u64('cookie_mask');
  const match = decodeMatch(r);
  return { mpType, tableId, outPort, outGroup, cookie, cookieMask, match };
}

function decodeRequestBody(mpType: number, r: WireReader): MultipartRequestBody {
  switch (mpType) {
    case OFPMP.DESC:
    case OFPMP.TABLE:
    case OFPMP.GROUP_DESC:
    case OFPMP.GROUP_FEATURES:
    case OFPMP.METER_FEATURES:
    case OFPMP.PORT_DESC:
      return { mpType };
    case OFPMP.FLOW:
    case OFPMP.AGGREGATE:
      return decodeFlowStatsRequest(r, mpType);
    case OFPMP.PORT_STATS: {
      const portNo = r.u32('port_no');
      r.skip(4, 'pad');
      return { mpType, portNo };
    }
    case OFPMP.QUEUE:
      return { mpType, portNo: r.u32('port_no'), queueId: r.u32('queue_id') };
    case OFPMP.GROUP: {
      const groupId = r.u32('group_id');
      r.skip(4, 'pad');
      return { mpType, groupId };
    }
    case OFPMP.METER:
    case OFPMP.METER_CONFIG: {
      const meterId = r.u32('meter_id');
      r.skip(4, 'pad');
      return { mpType, meterId };
    }
    case OFPMP.TABLE_FEATURES:
      return { mpType, tables: many(r, decodeTableFeatures) };
    case OFPMP.EXPERIMENTER:
      return experimenterBody(r);
    default:
      throw badMultipart(mpType);
  }
}

export function decodeMultipartRequest(r: WireReader, base: MessageBase): MultipartRequestMsg {
  const mpType = r.u16('multipart type');
  const flags = r.u16('flags');
  r.skip(4, 'pad');
  const body = decodeRequestBody(mpType, r);
  r.done(`multipart request type ${mpType}`);
  return { type: OFPT.MULTIPART_REQUEST, ...base, flags, body };
}

export function encodeMultipartRequest(w: WireWriter, m: MultipartRequestMsg): void {
  const b = m.body;
  w.u16(b.mpType).u16(m.flags).zeros(4);
  switch (b.mpType) {
    case OFPMP.FLOW:
    case OFPMP.AGGREGATE:
      w.u8(b.tableId).zeros(3).u32(b.outPort).u32(b.outGroup).zeros(4).u64(b.cookie).u64(b.cookieMask);
      encodeMatch(w, b.match);
      break;
    case OFPMP.PORT_STATS:
      w.u32(b.portNo).zeros(4);
      break;
    case OFPMP.QUEUE:
      w.u32(b.portNo).u32(b.queueId);
      break;
    case OFPMP.GROUP:
      w.u32(b.groupId).zeros(4);
      break;
    case OFPMP.METER:
    case OFPMP.METER_CONFIG:
      w.u32(b.meterId).zeros(4);
      break;
    case OFPMP.TABLE_FEATURES:
      for (const t of b.tables) encodeTableFeatures(w, t);
      break;
    case OFPMP.EXPERIMENTER:
      w.u32(b.experimenter).u32(b.expType).bytes(b.data);
      break;
    default:
      break;
  }
}

// --- reply -----------------------------------------------------------------------

function decodeReplyBody(mpType: number, r: WireReader): MultipartReplyBody {
  switch (mpType) {
    case OFPMP.DESC:
      return {
        mpType,
        mfrDesc: r.str(256, 'mfr_desc'),
        hwDesc: r.str(256, 'hw_desc'),
        swDesc: r.str(256, 'sw_desc'),
        serialNum: r.str(32, 'serial_num'),
        dpDesc: r.str(256, 'dp_desc'),
      };
    case OFPMP.FLOW:
      return { mpType, flows: many(r, decodeFlowStats) };
    case OFPMP.AGGREGATE: {
      const packetCount = r.u64('packet_count');
      const byteCount = r.u64('byte_count');
      const flowCount = r.u32('flow_count');
      r.skip(4, 'pad');
      return { mpType, packetCount, byteCount, flowCount };
    }
    case OFPMP.TABLE:
      return { mpType, tables: many(r, decodeTableStats) };
    case OFPMP.PORT_STATS:
      return { mpType, ports: many(r, decodePortStats) };
    case OFPMP.QUEUE:
      return { mpType, queues: many(r, decodeQueueStats) };
    case OFPMP.GROUP:
      return { mpType, groups: many(r, decodeGroupStats) };
    case OFPMP.GROUP_DESC:
      return { mpType, groups: many(r, decodeGroupDesc) };
    case OFPMP.GROUP_FEATURES: {
      const types = r.u32('types');
      const capabilities = r.u32('capabilities');
      const four = (what: string): [number, number, number, number] => [r.u32(what), r.u32(what), r.u32(what), r.u32(what)];
      const maxGroups = four('max_groups');
      const actions = four('actions');
      return { mpType, types, capabilities, maxGroups, actions };
    }
    case OFPMP.METER:
      return { mpType, meters: many(r, decodeMeterStats) };
    case OFPMP.METER_CONFIG:
      return { mpType, meters: many(r, decodeMeterConfig) };
    case OFPMP.METER_FEATURES: {
      const maxMeter = r.u32('max_meter');
      const bandTypes = r.u32('band_types');
      const capabilities = r.u32('capabilities');
      const maxBands = r.u8('max_bands');
      const maxColor = r.u8('max_color');
      r.skip(2, 'pad');
      return { mpType, maxMeter, bandTypes, capabilities, maxBands, maxColor };
    }
    case OFPMP.TABLE_FEATURES:
      return { mpType, tables: many(r, decodeTableFeatures) };
    case OFPMP.PORT_DESC:
      return { mpType, ports: many(r, decodePort) };
    case OFPMP.EXPERIMENTER:
      return experimenterBody(r);
    default:
      throw badMultipart(mpType);
  }
}

export function decodeMultipartReply(r: WireReader, base: MessageBase): MultipartReplyMsg {
  const mpType = r.u16('multipart type');
  const flags = r.u16('flags');
  r.skip(4, 'pad');
  const body = decodeReplyBody(mpType, r);
  r.done(`multipart reply type ${mpType}`);
  return { type: OFPT.MULTIPART_REPLY, ...base, flags, body };
}

export function encodeMultipartReply(w: WireWriter, m: MultipartReplyMsg): void {
  const b = m.body;
  w.u16(b.mpType).u16(m.flags).zeros(4);
  switch (b.mpType) {
    case OFPMP.DESC:
      w.str(b.mfrDesc, 256).str(b.hwDesc, 256).str(b.swDesc, 256).str(b.serialNum, 32).str(b.dpDesc, 256);
      break;
    case OFPMP.FLOW:
      for (const f of b.flows) encodeFlowStats(w, f);
      break;
    case OFPMP.AGGREGATE:
      w.u64(b.packetCount).u64(b.byteCount).u32(b.flowCount).zeros(4);
      break;
    case OFPMP.TABLE:
      for (const t of b.tables) w.u8(t.tableId).zeros(3).u32(t.activeCount).u64(t.lookupCount).u64(t.matchedCount);
      break;
    case OFPMP.PORT_STATS:
      for (const p of b.ports) encodePortStats(w, p);
      break;
    case OFPMP.QUEUE:
      for (const q of b.queues) {
        w.u32(q.portNo).u32(q.queueId).u64(q.txBytes).u64(q.txPackets).u64(q.txErrors).u32(q.durationSec).u32(q.durationNsec);
      }
      break;
    case OFPMP.GROUP:
      for (const g of b.groups) encodeGroupStats(w, g);
      break;
    case OFPMP.GROUP_DESC:
      for (const g of b.groups) encodeGroupDesc(w, g);
      break;
    case OFPMP.GROUP_FEATURES:
      w.u32(b.types).u32(b.capabilities);
      for (const v of b.maxGroups) w.u32(v);
      for (const v of b.actions) w.u32(v);
      break;
    case OFPMP.METER:
      for (const s of b.meters) encodeMeterStats(w, s);
      break;
    case OFPMP.METER_CONFIG:
      for (const c of b.meters) encodeMeterConfig(w, c);
      break;
    case OFPMP.METER_FEATURES:
      w.u32(b.maxMeter).u32(b.bandTypes).u32(b.capabilities).u8(b.maxBands).u8(b.maxColor).zeros(2);
      break;
    case OFPMP.TABLE_FEATURES:
      for (const t of b.tables) encodeTableFeatures(w, t);
      break;
    case OFPMP.PORT_DESC:
      for (const p of b.ports) encodePort(w, p);
      break;
    case OFPMP.EXPERIMENTER:
      w.u32(b.experimenter).u32(b.expType).bytes(b.data);
      break;
  }
}

// --- splitting replies -------------------------------------------------------------

/** The array field of each multipart reply body that holds its records. */
const REPLY_RECORDS: Partial<Record<number, string>> = {
  [OFPMP.FLOW]: 'flows',
  [OFPMP.TABLE]: 'tables',
  [OFPMP.PORT_STATS]: 'ports',
  [OFPMP.QUEUE]: 'queues',
  [OFPMP.GROUP]: 'groups',
  [OFPMP.GROUP_DESC]: 'groups',
  [OFPMP.METER]: 'meters',
  [OFPMP.METER_CONFIG]: 'meters',
  [OFPMP.TABLE_FEATURES]: 'tables',
  [OFPMP.PORT_DESC]: 'ports',
};

/** OpenFlow header + multipart header. */
const MULTIPART_HEADER_LEN = 16;

/**
 * Splits a reply whose records would not fit one message into several, each
 * at most `maxBytes` long, all but the last flagged OFPMPF_REPLY_MORE (7.3.5).
 * A single record larger than the limit is an OfpError (OFPBRC_BAD_LEN).
 */
export function splitMultipartReply(m: MultipartReplyMsg, maxBytes = 0xffff): MultipartReplyMsg[] {
  const key = REPLY_RECORDS[m.body.mpType];
  if (key === undefined) return [m];
  const records = (m.body as unknown as Record<string, unknown[]>)[key]!;
  const budget = maxBytes - MULTIPART_HEADER_LEN;
  const chunks: unknown[][] = [[]];
  let used = 0;
  const w = new WireWriter(1024);
  for (const rec of records) {
    w.length = 0;
    encodeMultipartReply(w, { ...m, body: { ...m.body, [key]: [rec] } as MultipartReplyBody });
    const size = w.length - 8;
    if (size > budget) {
      throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, `multipart type ${m.body.mpType}: one record of ${size} bytes exceeds ${budget}`);
    }
    if (used + size > budget) {
      chunks.push([]);
      used = 0;
    }
    chunks[chunks.length - 1]!.push(rec);
    used += size;
  }
  return chunks.map((recs, i) => ({
    ...m,
    flags: i < chunks.length - 1 ? m.flags | OFPMPF.REPLY_MORE : m.flags,
    body: { ...m.body, [key]: recs } as MultipartReplyBody,
  }));
}
