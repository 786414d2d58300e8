// OpenFlow meters (1.3.5 5.7, 7.3.4.4): METER_MOD with the spec's checks.
// The metering itself (a token bucket per band, kbps or pktps, burst; drop or
// dscp_remark) runs in the datapath: a meter instruction becomes the datapath
// action meter(id), so metered megaflows are cached and enforce the rate
// without upcalls; ofproto pushes each meter's configuration to the datapath
// (dpMeterConfig) and reads its counters back for meter statistics.

import type { DpMeterConfig } from '../datapath/meter.js';
import { OFPET, OFPM, OFPMBT, OFPMC, OFPMF, OFPMMFC } from './openflow/constants.js';
import { OfpError } from './openflow/errors.js';
import type { MeterBand, MeterModMsg } from './openflow/meter-mod.js';

export const MAX_METERS = 4096;
export const MAX_BANDS = 8;

export class OfMeter {
  constructor(
    readonly meterId: number,
    public flags: number,
    public bands: MeterBand[],
    public createdMs: number,
  ) {}

  configure(flags: number, bands: MeterBand[]): void {
    this.flags = flags;
    this.bands = bands;
  }
}

/**
 * The datapath form of a meter: kbps or pktps; the burst_size only when the
 * BURST flag is set (0 = the datapath's default of one second at the rate).
 */
export function dpMeterConfig(m: OfMeter): DpMeterConfig {
  const burst = (m.flags & OFPMF.BURST) !== 0;
  return {
    unit: (m.flags & OFPMF.KBPS) !== 0 ? 'kbps' : 'pktps',
    bands: m.bands.map((b) => ({
      type: b.type === OFPMBT.DROP ? ('drop' as const) : ('dscp_remark' as const),
      rate: b.rate,
      burst: burst ? b.burstSize : 0,
      precLevel: b.type === OFPMBT.DSCP_REMARK ? b.precLevel : 0,
    })),
  };
}

function mErr(code: number, message: string): OfpError {
  return new OfpError(OFPET.METER_MOD_FAILED, code, message);
}

export class MeterTable {
  readonly meters = new Map<number, OfMeter>();

  get(id: number): OfMeter | undefined {
    return this.meters.get(id);
  }

  /** Apply a METER_MOD; returns the ids deleted (their rules must go). */
  meterMod(m: MeterModMsg, nowMs: number): { deleted: number[] } {
    if (m.command === OFPMC.DELETE) {
      if (m.meterId === OFPM.ALL) {
        const deleted = [...this.meters.keys()];
        this.meters.clear();
        return { deleted };
      }
      return { deleted: this.meters.delete(m.meterId) ? [m.meterId] : [] };
    }
    if (m.command !== OFPMC.ADD && m.command !== OFPMC.MODIFY) throw mErr(OFPMMFC.BAD_COMMAND, `meter mod command ${m.command}`);
    if (m.meterId === 0 || m.meterId > OFPM.MAX) throw mErr(OFPMMFC.INVALID_METER, `meter id ${m.meterId} is not 1..0x${OFPM.MAX.toString(16)}`);
    const exists = this.meters.has(m.meterId);
    if (m.command === OFPMC.ADD && exists) throw mErr(OFPMMFC.METER_EXISTS, `meter ${m.meterId} already exists`);
    if (m.command === OFPMC.MODIFY && !exists) throw mErr(OFPMMFC.UNKNOWN_METER, `meter ${m.meterId} does not exist`);
    const unit = m.flags & (OFPMF.KBPS | OFPMF.PKTPS);
    if (unit !== OFPMF.KBPS && unit !== OFPMF.PKTPS) throw mErr(OFPMMFC.BAD_FLAGS, 'a meter needs exactly one of KBPS and PKTPS');
    if ((m.flags & ~(OFPMF.KBPS | OFPMF.PKTPS | OFPMF.BURST | OFPMF.STATS)) !== 0) throw mErr(OFPMMFC.BAD_FLAGS, `meter flags 0x${m.flags.toString(16)}`);
    if (m.bands.length === 0) throw mErr(OFPMMFC.BAD_BAND, 'a meter needs at least one band');
    if (m.bands.length > MAX_BANDS) throw mErr(OFPMMFC.OUT_OF_BANDS, `${m.bands.length} bands > ${MAX_BANDS}`);
    for (const b of m.bands) {
      if (b.type !== OFPMBT.DROP && b.type !== OFPMBT.DSCP_REMARK) throw mErr(OFPMMFC.BAD_BAND, `band type ${b.type} is not supported (drop, dscp_remark)`);
      if (b.rate === 0) throw mErr(OFPMMFC.BAD_RATE, 'band rate 0');
      if (b.type === OFPMBT.DSCP_REMARK && (b.precLevel < 1 || b.precLevel > 3)) throw mErr(OFPMMFC.BAD_BAND_VALUE, `prec_level ${b.precLevel}`);
      if ((m.flags & OFPMF.BURST) !== 0 && b.burstSize === 0) throw mErr(OFPMMFC.BAD_BURST, 'burst flag with burst_size 0');
    }
    if (m.command === OFPMC.ADD && this.meters.size >= MAX_METERS) throw mErr(OFPMMFC.OUT_OF_METERS, `${MAX_METERS} meters exist`);
    const existing = this.meters.get(m.meterId);
    if (existing) existing.configure(m.flags, m.bands);
    else this.meters.set(m.meterId, new OfMeter(m.meterId, m.flags, m.bands, nowMs));
    return { deleted: [] };
  }
}
