// OpenFlow groups (1.3.5 5.6, 7.3.4.2): GROUP_MOD ADD/MODIFY/DELETE with the
// spec's checks (exists, unknown, bad watch, chaining loops), bucket
// counters, and the liveness rule fast-failover and select groups use.

import { OFPAT, OFPET, OFPG, OFPGC, OFPGMFC, OFPGT, OFPP } from './openflow/constants.js';
import { OfpError } from './openflow/errors.js';
import type { Bucket, GroupModMsg } from './openflow/group-mod.js';
import type { Action } from './openflow/actions.js';

export const MAX_GROUPS = 65536;
export const MAX_BUCKETS = 256;

export class OfGroup {
  packetCount = 0;
  byteCount = 0;
  bucketPackets: number[];
  bucketBytes: number[];
  constructor(
    readonly groupId: number,
    public groupType: number,
    public buckets: Bucket[],
    readonly createdMs: number,
  ) {
    this.bucketPackets = buckets.map(() => 0);
    this.bucketBytes = buckets.map(() => 0);
  }

  hit(bucket: number, packets: number, bytes: number): void {
    this.packetCount += packets;
    this.byteCount += bytes;
    if (bucket >= 0 && bucket < this.bucketPackets.length) {
      this.bucketPackets[bucket]! += packets;
      this.bucketBytes[bucket]! += bytes;
    }
  }
}

function gErr(code: number, message: string): OfpError {
  return new OfpError(OFPET.GROUP_MOD_FAILED, code, message);
}

function groupsOf(actions: readonly Action[]): number[] {
  return actions.filter((a) => a.type === OFPAT.GROUP).map((a) => (a as { groupId: number }).groupId);
}

export interface GroupModResult {
  /** Groups deleted (their rules must go too, reason GROUP_DELETE). */
  deleted: number[];
}

export class GroupTable {
  readonly groups = new Map<number, OfGroup>();

  get(id: number): OfGroup | undefined {
    return this.groups.get(id);
  }

  /** Apply a GROUP_MOD. `validateActions` checks each bucket's action list (ports, set fields...). */
  groupMod(m: GroupModMsg, nowMs: number, validateActions: (actions: Action[]) => void): GroupModResult {
    if (m.command === OFPGC.DELETE) {
      if (m.groupId === OFPG.ALL) {
        const deleted = [...this.groups.keys()];
        this.groups.clear();
        return { deleted };
      }
      for (const g of this.groups.values()) {
        if (g.groupId !== m.groupId && g.buckets.some((b) => groupsOf(b.actions).includes(m.groupId))) {
          throw gErr(OFPGMFC.CHAINED_GROUP, `group ${m.groupId} is used by group ${g.groupId}`);
        }
      }
      return { deleted: this.groups.delete(m.groupId) ? [m.groupId] : [] };
    }
    if (m.groupId > OFPG.MAX) throw gErr(OFPGMFC.INVALID_GROUP, `group id 0x${m.groupId.toString(16)} is reserved`);
    if (m.command !== OFPGC.ADD && m.command !== OFPGC.MODIFY) throw gErr(OFPGMFC.BAD_COMMAND, `group mod command ${m.command}`);
    const exists = this.groups.has(m.groupId);
    if (m.command === OFPGC.ADD && exists) throw gErr(OFPGMFC.GROUP_EXISTS, `group ${m.groupId} already exists`);
    if (m.command === OFPGC.MODIFY && !exists) throw gErr(OFPGMFC.UNKNOWN_GROUP, `group ${m.groupId} does not exist`);
    if (m.groupType > OFPGT.FF) throw gErr(OFPGMFC.BAD_TYPE, `group type ${m.groupType}`);
    if (m.command === OFPGC.ADD && this.groups.size >= MAX_GROUPS) throw gErr(OFPGMFC.OUT_OF_GROUPS, `${MAX_GROUPS} groups exist`);
    if (m.buckets.length > MAX_BUCKETS) throw gErr(OFPGMFC.OUT_OF_BUCKETS, `${m.buckets.length} buckets > ${MAX_BUCKETS}`);
    if (m.groupType === OFPGT.INDIRECT && m.buckets.length !== 1) {
      throw gErr(OFPGMFC.BAD_BUCKET, `an indirect group needs exactly one bucket, got ${m.buckets.length}`);
    }
    for (const [i, b] of m.buckets.entries()) {
      if (m.groupType !== OFPGT.SELECT && b.weight !== 0) throw gErr(OFPGMFC.WEIGHT_UNSUPPORTED, `bucket ${i}: weight is for select groups only`);
      if (m.groupType === OFPGT.FF) {
        if (b.watchPort === OFPP.ANY && b.watchGroup === OFPG.ANY) throw gErr(OFPGMFC.BAD_WATCH, `bucket ${i}: fast-failover needs watch_port or watch_group`);
        if (b.watchGroup !== OFPG.ANY && !this.groups.has(b.watchGroup)) throw gErr(OFPGMFC.BAD_WATCH, `bucket ${i}: watch_group ${b.watchGroup} does not exist`);
      }
      for (const g of groupsOf(b.actions)) {
        if (!this.groups.has(g)) throw gErr(OFPGMFC.UNKNOWN_GROUP, `bucket ${i}: group ${g} does not exist`);
        if (g === m.groupId || this.reaches(g, m.groupId)) throw gErr(OFPGMFC.LOOP, `bucket ${i}: group ${g} leads back to group ${m.groupId}`);
      }
      validateActions(b.actions);
    }
    const existing = this.groups.get(m.groupId);
    if (existing !== undefined) {
      existing.groupType = m.groupType;
      existing.buckets = m.buckets;
      existing.bucketPackets = m.buckets.map(() => 0);
      existing.bucketBytes = m.buckets.map(() => 0);
    } else {
      this.groups.set(m.groupId, new OfGroup(m.groupId, m.groupType, m.buckets, nowMs));
    }
    return { deleted: [] };
  }

  /**
   * Liveness (OF 1.3.5 6.5): a bucket is live when its watched port is live
   * and its watched group is; a group is live when any bucket is.
   */
  bucketLive(b: Bucket, portLive: (port: number) => boolean, depth = 0): boolean {
    if (b.watchPort !== OFPP.ANY && !portLive(b.watchPort)) return false;
    if (b.watchGroup !== OFPG.ANY) {
      const g = this.groups.get(b.watchGroup);
      if (g === undefined || depth > 32) return false;
      if (!g.buckets.some((x) => this.bucketLive(x, portLive, depth + 1))) return false;
    }
    return true;
  }

  /** True if group `from` chains (directly or not) to group `to`. */
  private reaches(from: number, to: number, depth = 0): boolean {
    if (depth > 32) return true;
    const g = this.groups.get(from);
    if (g === undefined) return false;
    for (const b of g.buckets) for (const n of groupsOf(b.actions)) if (n === to || this.reaches(n, to, depth + 1)) return true;
    return false;
  }
}
