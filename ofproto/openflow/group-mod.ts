// OFPT_GROUP_MOD (7.3.4.2) and ofp_bucket, shared with the GROUP_DESC reply.
import { OFPET, OFPGC, OFPGMFC, OFPGT, OFPT } from './constants.js';
import { OfpError } from './errors.js';
import type { MessageBase } from './header.js';
import { decodeActions, encodeActions, type Action } from './actions.js';
import { WireReader, WireWriter } from './wire.js';

export interface Bucket {
  /** Relative weight (select groups); 0 otherwise. */
  weight: number;
  /** Liveness port/group (fast-failover); OFPP_ANY / OFPG_ANY otherwise. */
  watchPort: number;
  watchGroup: number;
  actions: Action[];
}

export interface GroupModMsg extends MessageBase {
  type: typeof OFPT.GROUP_MOD;
  /** OFPGC_* */
  command: number;
  /** OFPGT_* */
  groupType: number;
  groupId: number;
  buckets: Bucket[];
}

const BUCKET_HEADER_LEN = 16;

export function decodeBucket(r: WireReader): Bucket {
  const start = r.pos;
  const len = r.u16('bucket len');
  if (len < BUCKET_HEADER_LEN || len % 8 !== 0) {
    throw new OfpError(OFPET.GROUP_MOD_FAILED, OFPGMFC.BAD_BUCKET, `bucket length ${len} is not a multiple of 8 >= 16`);
  }
  r.pos = start;
  const b = r.sub(len, 'bucket');
  b.skip(2, 'bucket len');
  const weight = b.u16('weight');
  const watchPort = b.u32('watch_port');
  const watchGroup = b.u32('watch_group');
  b.skip(4, 'pad');
  return { weight, watchPort, watchGroup, actions: decodeActions(b) };
}

export function decodeBuckets(r: WireReader): Bucket[] {
  const out: Bucket[] = [];
  while (r.remaining > 0) out.push(decodeBucket(r));
  return out;
}

export function encodeBuckets(w: WireWriter, buckets: readonly Bucket[]): void {
  for (const b of buckets) {
    const start = w.length;
    w.u16(0).u16(b.weight).u32(b.watchPort).u32(b.watchGroup).zeros(4);
    encodeActions(w, b.actions);
    w.setU16(start, w.length - start);
  }
}

export function decodeGroupMod(r: WireReader, base: MessageBase): GroupModMsg {
  const command = r.u16('command');
  const groupType = r.u8('type');
  r.skip(1, 'pad');
  const groupId = r.u32('group_id');
  if (command > OFPGC.DELETE) throw new OfpError(OFPET.GROUP_MOD_FAILED, OFPGMFC.BAD_COMMAND, `group mod command ${command}`);
  if (groupType > OFPGT.FF) throw new OfpError(OFPET.GROUP_MOD_FAILED, OFPGMFC.BAD_TYPE, `group type ${groupType}`);
  return { type: OFPT.GROUP_MOD, ...base, command, groupType, groupId, buckets: decodeBuckets(r) };
}

export function encodeGroupMod(w: WireWriter, m: GroupModMsg): void {
  w.u16(m.command).u8(m.groupType).zeros(1).u32(m.groupId);
  encodeBuckets(w, m.buckets);
}
