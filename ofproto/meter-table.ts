// OpenFlow meters (1.3.5 5.7, 7.3.4.4): METER_MOD with the spec's checks and
// a token bucket per band (kbps or pktps, burst). A packet "exceeds" a band
// when that band's bucket lacks tokens for it; the exceeded band with the
// highest rate applies (drop, or dscp_remark raising the drop precedence).
//
// Datapath choice: a metered flow is never installed as a megaflow; every
// packet through a meter instruction takes the slow path (upcall) and is
// metered here, exactly. Simple and correct, at upcall cost per packet; a
// datapath meter action is later work.

import { OFPET, OFPM, OFPMBT, OFPMC, OFPMF, OFPMMFC } from './openflow/constants.js';
import { OfpError } from './openflow/errors.js';
import type { MeterBand, MeterModMsg } from './openflow/meter-mod.js';

export const MAX_METERS = 4096;
export const MAX_BANDS = 8;

class BandState {
  tokens: number;
  packets = 0;
  bytes = 0;
  constructor(
    readonly band: MeterBand,
    /** Bucket capacity: bits for kbps, packets for pktps (scaled ×1000 for ms refill). */
    readonly capacity: number,
  ) {
    this.tokens = capacity;
  }
}

export interface MeterVerdict {
  /** 'pass', 'drop' or a dscp_remark's prec_level. */
  action: 'pass' | 'drop' | 'remark';
  precLevel: number;
}

export class OfMeter {
  bands: BandState[] = [];
  packetInCount = 0;
  byteInCount = 0;
  lastMs: number;
  constructor(
    readonly meterId: number,
    public flags: number,
    bands: MeterBand[],
    readonly createdMs: number,
  ) {
    this.lastMs = createdMs;
    this.configure(flags, bands);
  }

  configure(flags: number, bands: MeterBand[]): void {
    this.flags = flags;
    const burst = (flags & OFPMF.BURST) !== 0;
    this.bands = bands.map((b) => {
      const size = burst && b.burstSize > 0 ? b.burstSize : b.rate;
      // kbps: rate kbit/s = rate bits/ms, burst in kbits; pktps: rate packets/s, burst in packets (×1000 to refill per ms).
      return new BandState(b, (flags & OFPMF.KBPS) !== 0 ? size * 1000 : size * 1000);
    });
  }

  /** Meter one packet of `bytes` at `nowMs`. */
  apply(bytes: number, nowMs: number): MeterVerdict {
    const dt = Math.max(0, nowMs - this.lastMs);
    this.lastMs = nowMs;
    this.packetInCount++;
    this.byteInCount += bytes;
    const kbps = (this.flags & OFPMF.KBPS) !== 0;
    const cost = kbps ? bytes * 8 : 1000;
    let exceeded: BandState | null = null;
    for (const s of this.bands) {
      s.tokens = Math.min(s.capacity, s.tokens + s.band.rate * dt);
      if (s.tokens >= cost) s.tokens -= cost;
      else if (exceeded === null || s.band.rate > exceeded.band.rate) exceeded = s;
    }
    if (exceeded === null) return { action: 'pass', precLevel: 0 };
    exceeded.packets++;
    exceeded.bytes += bytes;
    if (exceeded.band.type === OFPMBT.DROP) return { action: 'drop', precLevel: 0 };
    if (exceeded.band.type === OFPMBT.DSCP_REMARK) return { action: 'remark', precLevel: exceeded.band.precLevel };
    return { action: 'pass', precLevel: 0 };
  }
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
