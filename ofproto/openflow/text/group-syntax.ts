// Groups in ovs-ofctl syntax ("group_id=1,type=select,bucket=weight:50,
// actions=output:1,bucket=...") parsed into the GROUP_MOD that
// `ovs-ofctl -O OpenFlow13` sends, and printed like dump-groups and ofp-print
// (OVS lib/ofp-group.c).
import { OFP13_VERSION, OFPG, OFPGC, OFPGT, OFPP, OFPT } from '../constants.js';
import type { Bucket, GroupModMsg } from '../group-mod.js';
import type { GroupDesc, GroupStats } from '../multipart.js';
import { formatActions, parseActionList } from './action-syntax.js';
import { formatDuration, formatPort, parsePort, parseUint } from './field-values.js';
import { parseKeyValues, type KeyValue } from './key-value.js';
import { OfctlSyntaxError } from './syntax-error.js';

export type GroupCommand = 'add' | 'modify' | 'delete';

export interface ParseGroupOptions {
  command?: GroupCommand;
  xid?: number;
}

const TYPES: Readonly<Record<string, number>> = { all: OFPGT.ALL, select: OFPGT.SELECT, indirect: OFPGT.INDIRECT, ff: OFPGT.FF, fast_failover: OFPGT.FF };
const TYPE_NAMES = ['all', 'select', 'indirect', 'ff'];

function kvErr(kv: KeyValue, message: string, onValue = false): OfctlSyntaxError {
  return onValue ? new OfctlSyntaxError(message, kv.value, kv.valueAt + 1) : new OfctlSyntaxError(message, kv.key, kv.keyAt + 1);
}

function u32(kv: KeyValue, what: string): number {
  try {
    return parseUint(kv.value, 32, what);
  } catch {
    throw kvErr(kv, `invalid numeric format ${kv.value}`, true);
  }
}

function parseBucket(text: string, at: number, groupType: number): Bucket {
  let weight = groupType === OFPGT.SELECT ? 1 : 0;
  let watchPort: number = OFPP.ANY;
  let watchGroup: number = OFPG.ANY;
  const actions: string[] = [];
  for (const kv of parseKeyValues(text, at)) {
    const key = kv.key.toLowerCase();
    if (key === 'weight') {
      try {
        weight = parseUint(kv.value, 16, 'weight');
      } catch {
        throw kvErr(kv, `invalid weight "${kv.value}"`, true);
      }
    } else if (key === 'watch_port') {
      const p = parsePort(kv.value);
      if (p === undefined || (p >= 0xff00 && p !== OFPP.ANY)) throw kvErr(kv, `${kv.value}: invalid watch_port`, true);
      watchPort = p;
    } else if (key === 'watch_group') {
      watchGroup = u32(kv, 'watch_group');
      if (watchGroup > OFPG.MAX) throw kvErr(kv, `invalid watch_group id ${watchGroup}`, true);
    } else if (key === 'bucket_id') {
      // OpenFlow 1.5 only: parsed and dropped, as ovs-ofctl does for 1.3.
      u32(kv, 'bucket_id');
    } else if (key === 'action' || key === 'actions') {
      actions.push(kv.value);
    } else {
      actions.push(kv.value === '' ? kv.key : `${kv.key}(${kv.value})`);
    }
  }
  if (actions.length === 0) throw new OfctlSyntaxError('bucket must specify actions', text, at + 1);
  return { weight, watchPort, watchGroup, actions: parseActionList(actions.join(','), { base: at, unchecked: true }) };
}

/** Parses a group as add-group / mod-group / del-groups take it, into OVS's OpenFlow 1.3 GROUP_MOD. */
export function parseGroupMod(text: string, opts: ParseGroupOptions = {}): GroupModMsg {
  const cmd = opts.command ?? 'add';
  const needsType = cmd !== 'delete';
  const b = text.indexOf('bucket=');
  const head = b < 0 ? text : text.slice(0, b);
  if (b >= 0 && cmd === 'delete') throw new OfctlSyntaxError('bucket is not needed', 'bucket', b + 1);
  let groupId: number = OFPG.ANY;
  let groupType: number | undefined;
  for (const kv of parseKeyValues(head)) {
    if (kv.key === 'group_id') {
      if (kv.value === 'all') groupId = OFPG.ALL;
      else {
        groupId = u32(kv, 'group_id');
        if (groupId !== OFPG.ALL && groupId > OFPG.MAX) throw kvErr(kv, `invalid group id ${groupId}`, true);
      }
    } else if (kv.key === 'type') {
      if (!needsType) throw kvErr(kv, 'type is not needed');
      groupType = TYPES[kv.value];
      if (groupType === undefined) throw kvErr(kv, `invalid group type ${kv.value}`, true);
    } else if (['selection_method', 'selection_method_param', 'fields', 'command_bucket_id'].includes(kv.key)) {
      throw kvErr(kv, `${kv.key} needs OpenFlow 1.5, not supported by this codec`);
    } else {
      throw kvErr(kv, `unknown keyword ${kv.key}`);
    }
  }
  if (groupId === OFPG.ANY) {
    if (cmd === 'delete') groupId = OFPG.ALL;
    else throw new OfctlSyntaxError('must specify a group_id', text, 1);
  }
  if (needsType && groupType === undefined) throw new OfctlSyntaxError('must specify a type', text, 1);
  const type = groupType ?? OFPGT.ALL;
  const buckets: Bucket[] = [];
  let at = b;
  while (at >= 0) {
    const start = at + 'bucket='.length;
    const next = text.indexOf('bucket=', start);
    const bucket = parseBucket(text.slice(start, next < 0 ? undefined : next), start, type);
    if (type !== OFPGT.SELECT && bucket.weight !== 0) throw new OfctlSyntaxError('Only select groups can have bucket weights.', 'weight', start + 1);
    buckets.push(bucket);
    at = next;
  }
  if (type === OFPGT.INDIRECT && buckets.length > 1) throw new OfctlSyntaxError('Indirect groups can have at most one bucket.', 'bucket', b + 1);
  const command = cmd === 'add' ? OFPGC.ADD : cmd === 'modify' ? OFPGC.MODIFY : OFPGC.DELETE;
  return { type: OFPT.GROUP_MOD, version: OFP13_VERSION, xid: opts.xid ?? 0, command, groupType: type, groupId, buckets };
}

// --- printing -------------------------------------------------------------------------

/** ofputil_bucket_format(). */
export function formatBucket(b: Bucket, groupType: number): string {
  let s = 'bucket=';
  if (b.weight !== (groupType === OFPGT.SELECT ? 1 : 0)) s += `weight:${b.weight},`;
  if (b.watchPort !== OFPP.ANY) s += `watch_port:${formatPort(b.watchPort)},`;
  if (b.watchGroup !== OFPG.ANY) s += `watch_group:${b.watchGroup},`;
  return `${s}actions=${formatActions(b.actions)}`;
}

/** A group as dump-groups prints it (without the leading space): "group_id=1,type=select,bucket=...". */
export function formatGroupDesc(g: GroupDesc): string {
  let s = `group_id=${g.groupId},type=${TYPE_NAMES[g.groupType] ?? String(g.groupType)}`;
  for (const b of g.buckets) s += `,${formatBucket(b, g.groupType)}`;
  return s;
}

/** A GROUP_MOD as ofp-print shows it on its second line: "ADD group_id=1,type=all,bucket=...". */
export function formatGroupMod(m: GroupModMsg): string {
  const cmd = ['ADD', 'MOD', 'DEL'][m.command] ?? `cmd:${m.command}`;
  return `${cmd} ${formatGroupDesc({ groupType: m.groupType, groupId: m.groupId, buckets: m.buckets })}`;
}

/** One dump-group-stats entry: "group_id=1,duration=3.547s,ref_count=1,packet_count=0,byte_count=0,bucket0:packet_count=0,byte_count=0". */
export function formatGroupStats(g: GroupStats): string {
  let s = `group_id=${g.groupId},duration=${formatDuration(g.durationSec, g.durationNsec)},ref_count=${g.refCount},`;
  s += `packet_count=${g.packetCount},byte_count=${g.byteCount}`;
  g.bucketStats.forEach((b, i) => {
    s += `,bucket${i}:packet_count=${b.packetCount},byte_count=${b.byteCount}`;
  });
  return s;
}
