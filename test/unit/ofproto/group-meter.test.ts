import { describe, expect, it } from 'vitest';
import { GroupTable } from '../../../ofproto/group-table.js';
import { MeterTable, dpMeterConfig } from '../../../ofproto/meter-table.js';
import { OFPAT, OFPG, OFPGC, OFPGT, OFPM, OFPMBT, OFPMC, OFPMF, OFPP } from '../../../ofproto/openflow/constants.js';
import type { Bucket, GroupModMsg } from '../../../ofproto/openflow/group-mod.js';
import type { MeterModMsg } from '../../../ofproto/openflow/meter-mod.js';

const gm = (command: number, groupId: number, groupType: number, buckets: Bucket[]): GroupModMsg => ({ type: 15, version: 4, xid: 1, command, groupType, groupId, buckets });
const bucket = (o: Partial<Bucket> = {}): Bucket => ({ weight: 0, watchPort: OFPP.ANY, watchGroup: OFPG.ANY, actions: [{ type: OFPAT.OUTPUT, port: 1, maxLen: 0 }], ...o });
const mm = (command: number, meterId: number, flags: number, bands: MeterModMsg['bands']): MeterModMsg => ({ type: 29, version: 4, xid: 1, command, flags, meterId, bands });
const ok = (): void => {};

describe('GroupTable', () => {
  it('checks GROUP_MOD per spec', () => {
    const t = new GroupTable();
    t.groupMod(gm(OFPGC.ADD, 1, OFPGT.ALL, [bucket()]), 0, ok);
    expect(() => t.groupMod(gm(OFPGC.ADD, 1, OFPGT.ALL, [bucket()]), 0, ok)).toThrow(/OFPGMFC_GROUP_EXISTS/);
    expect(() => t.groupMod(gm(OFPGC.MODIFY, 2, OFPGT.ALL, []), 0, ok)).toThrow(/OFPGMFC_UNKNOWN_GROUP/);
    expect(() => t.groupMod(gm(OFPGC.ADD, OFPG.ALL, OFPGT.ALL, []), 0, ok)).toThrow(/OFPGMFC_INVALID_GROUP/);
    expect(() => t.groupMod(gm(OFPGC.ADD, 3, OFPGT.FF, [bucket()]), 0, ok)).toThrow(/OFPGMFC_BAD_WATCH/);
    expect(() => t.groupMod(gm(OFPGC.ADD, 3, OFPGT.INDIRECT, [bucket(), bucket()]), 0, ok)).toThrow(/OFPGMFC_BAD_BUCKET/);
    expect(() => t.groupMod(gm(OFPGC.ADD, 3, OFPGT.ALL, [bucket({ weight: 2 })]), 0, ok)).toThrow(/OFPGMFC_WEIGHT_UNSUPPORTED/);
    // chaining and loops
    t.groupMod(gm(OFPGC.ADD, 4, OFPGT.INDIRECT, [bucket({ actions: [{ type: OFPAT.GROUP, groupId: 1 }] })]), 0, ok);
    expect(() => t.groupMod(gm(OFPGC.MODIFY, 1, OFPGT.ALL, [bucket({ actions: [{ type: OFPAT.GROUP, groupId: 4 }] })]), 0, ok)).toThrow(/OFPGMFC_LOOP/);
    expect(() => t.groupMod(gm(OFPGC.ADD, 5, OFPGT.ALL, [bucket({ actions: [{ type: OFPAT.GROUP, groupId: 99 }] })]), 0, ok)).toThrow(/OFPGMFC_UNKNOWN_GROUP/);
    expect(() => t.groupMod(gm(OFPGC.DELETE, 1, 0, []), 0, ok)).toThrow(/OFPGMFC_CHAINED_GROUP/);
    // watch_group liveness: a bucket watching group 6 is live while a bucket of group 6 is.
    let up = true;
    t.groupMod(gm(OFPGC.ADD, 6, OFPGT.FF, [bucket({ watchPort: 9 })]), 0, ok);
    t.groupMod(gm(OFPGC.ADD, 7, OFPGT.FF, [bucket({ watchGroup: 6 })]), 0, ok);
    expect(() => t.groupMod(gm(OFPGC.ADD, 8, OFPGT.FF, [bucket({ watchGroup: 60 })]), 0, ok)).toThrow(/OFPGMFC_BAD_WATCH/);
    const live = (p: number): boolean => p === 9 && up;
    expect(t.bucketLive(t.get(7)!.buckets[0]!, live)).toBe(true);
    up = false;
    expect(t.bucketLive(t.get(7)!.buckets[0]!, live)).toBe(false);
    expect(t.groupMod(gm(OFPGC.DELETE, OFPG.ALL, 0, []), 0, ok).deleted.sort()).toEqual([1, 4, 6, 7]);
  });
});

describe('MeterTable', () => {
  it('checks METER_MOD per spec', () => {
    const t = new MeterTable();
    const drop = [{ type: OFPMBT.DROP, rate: 100, burstSize: 0 }] as MeterModMsg['bands'];
    t.meterMod(mm(OFPMC.ADD, 1, OFPMF.KBPS, drop), 0);
    expect(() => t.meterMod(mm(OFPMC.ADD, 1, OFPMF.KBPS, drop), 0)).toThrow(/OFPMMFC_METER_EXISTS/);
    expect(() => t.meterMod(mm(OFPMC.MODIFY, 2, OFPMF.KBPS, drop), 0)).toThrow(/OFPMMFC_UNKNOWN_METER/);
    expect(() => t.meterMod(mm(OFPMC.ADD, 0, OFPMF.KBPS, drop), 0)).toThrow(/OFPMMFC_INVALID_METER/);
    expect(() => t.meterMod(mm(OFPMC.ADD, OFPM.CONTROLLER, OFPMF.KBPS, drop), 0)).toThrow(/OFPMMFC_INVALID_METER/);
    expect(() => t.meterMod(mm(OFPMC.ADD, 3, OFPMF.KBPS | OFPMF.PKTPS, drop), 0)).toThrow(/OFPMMFC_BAD_FLAGS/);
    expect(() => t.meterMod(mm(OFPMC.ADD, 3, OFPMF.KBPS, []), 0)).toThrow(/OFPMMFC_BAD_BAND/);
    expect(() => t.meterMod(mm(OFPMC.ADD, 3, OFPMF.KBPS, [{ type: OFPMBT.DROP, rate: 0, burstSize: 0 }]), 0)).toThrow(/OFPMMFC_BAD_RATE/);
    expect(() => t.meterMod(mm(OFPMC.ADD, 3, OFPMF.KBPS | OFPMF.BURST, drop), 0)).toThrow(/OFPMMFC_BAD_BURST/);
    expect(t.meterMod(mm(OFPMC.DELETE, 1, 0, []), 0).deleted).toEqual([1]);
  });

  it('dpMeterConfig: the datapath form of a meter (unit, bands, burst only with the BURST flag)', () => {
    const t = new MeterTable();
    t.meterMod(
      mm(OFPMC.ADD, 1, OFPMF.KBPS | OFPMF.BURST, [
        { type: OFPMBT.DSCP_REMARK, rate: 400, burstSize: 4, precLevel: 1 },
        { type: OFPMBT.DROP, rate: 800, burstSize: 8 },
      ]),
      0,
    );
    expect(dpMeterConfig(t.get(1)!)).toEqual({
      unit: 'kbps',
      bands: [
        { type: 'dscp_remark', rate: 400, burst: 4, precLevel: 1 },
        { type: 'drop', rate: 800, burst: 8, precLevel: 0 },
      ],
    });
    t.meterMod(mm(OFPMC.MODIFY, 1, OFPMF.PKTPS, [{ type: OFPMBT.DROP, rate: 10, burstSize: 99 }]), 0);
    expect(dpMeterConfig(t.get(1)!)).toEqual({ unit: 'pktps', bands: [{ type: 'drop', rate: 10, burst: 0, precLevel: 0 }] });
  });
});
