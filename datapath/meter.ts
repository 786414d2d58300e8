// Datapath meters (OVS's dp_meter of dpif-netdev, OVS_ACTION_ATTR_METER): a
// token bucket per band, in kbps or pktps, refilled from the datapath's clock.
// The meter(id) action asks the meter about one packet; the answer is pass,
// drop, or a DSCP drop-precedence increase (dscp_remark band), and only that
// packet is affected. Per-meter and per-band counters are what OpenFlow meter
// statistics report. Allocation-free per packet.

import { DpifError } from './dpif-error.js';

export type DpMeterBandType = 'drop' | 'dscp_remark';

export interface DpMeterBandConfig {
  readonly type: DpMeterBandType;
  /** kbit/s or packets/s, per the meter's unit; > 0. */
  readonly rate: number;
  /** Bucket size in kbits or packets; 0 = the rate (one second's worth, as OVS does). */
  readonly burst: number;
  /** dscp_remark: drop-precedence levels to add (1..3). */
  readonly precLevel?: number;
}

export interface DpMeterConfig {
  readonly unit: 'kbps' | 'pktps';
  readonly bands: readonly DpMeterBandConfig[];
}

/** meter() verdicts: pass, drop, or 1..3 = raise the DSCP drop precedence by that much. */
export const METER_PASS = 0;
export const METER_DROP = -1;

/** Largest meter id (OpenFlow's OFPM_MAX). */
export const DP_METER_MAX_ID = 0xffff0000;
export const DP_METER_MAX_BANDS = 8;

export class DpMeter {
  readonly kbps: boolean;
  readonly bandCount: number;
  /** Per band: refill per ms (bits for kbps, milli-packets for pktps). */
  readonly rate: Float64Array;
  /** Per band: bucket size, same unit as tokens. */
  readonly capacity: Float64Array;
  readonly tokens: Float64Array;
  /** Per band: METER_DROP or the dscp_remark prec_level. */
  readonly verdict: Int32Array;
  readonly bandPackets: Float64Array;
  readonly bandBytes: Float64Array;
  packets = 0;
  bytes = 0;
  lastMs: number;

  constructor(
    readonly id: number,
    readonly config: DpMeterConfig,
    readonly createdMs: number,
  ) {
    this.kbps = config.unit === 'kbps';
    const n = config.bands.length;
    this.bandCount = n;
    this.rate = new Float64Array(n);
    this.capacity = new Float64Array(n);
    this.tokens = new Float64Array(n);
    this.verdict = new Int32Array(n);
    this.bandPackets = new Float64Array(n);
    this.bandBytes = new Float64Array(n);
    for (let b = 0; b < n; b++) {
      const band = config.bands[b]!;
      // kbps: rate kbit/s = rate bits/ms; burst kbits = ×1000 bits. pktps: rate pkt/s = rate milli-packets/ms.
      this.rate[b] = band.rate;
      this.capacity[b] = (band.burst > 0 ? band.burst : band.rate) * 1000;
      this.tokens[b] = this.capacity[b]!;
      this.verdict[b] = band.type === 'drop' ? METER_DROP : band.precLevel!;
    }
    this.lastMs = createdMs;
  }

  /**
   * Meter one packet of `bytes` at `nowMs`: refill every band, take the
   * packet's cost from each band that has it; of the bands that lack it, the
   * one with the highest rate applies (OpenFlow 1.3.5 5.7). Returns
   * METER_PASS, METER_DROP or a prec_level.
   */
  apply(bytes: number, nowMs: number): number {
    let dt = nowMs - this.lastMs;
    if (dt < 0) dt = 0;
    this.lastMs = nowMs;
    this.packets++;
    this.bytes += bytes;
    const cost = this.kbps ? bytes * 8 : 1000;
    let exceeded = -1;
    const tokens = this.tokens;
    for (let b = 0; b < this.bandCount; b++) {
      let t = tokens[b]! + this.rate[b]! * dt;
      const cap = this.capacity[b]!;
      if (t > cap) t = cap;
      if (t >= cost) t -= cost;
      else if (exceeded < 0 || this.rate[b]! > this.rate[exceeded]!) exceeded = b;
      tokens[b] = t;
    }
    if (exceeded < 0) return METER_PASS;
    this.bandPackets[exceeded]++;
    this.bandBytes[exceeded] += bytes;
    return this.verdict[exceeded]!;
  }
}

/** The datapath's meters by id. */
export class DpMeterTable {
  private readonly meters = new Map<number, DpMeter>();

  /** Add or replace meter `id` (a replaced meter starts with full buckets and zero counters, as in OVS). */
  set(id: number, config: DpMeterConfig, nowMs: number): DpMeter {
    if (!Number.isInteger(id) || id < 0 || id > DP_METER_MAX_ID) throw new DpifError('EINVAL', `meter id ${String(id)} is not 0..${DP_METER_MAX_ID}`);
    if (config.unit !== 'kbps' && config.unit !== 'pktps') throw new DpifError('EINVAL', `meter ${id}: unit must be kbps or pktps`);
    if (!Array.isArray(config.bands) || config.bands.length === 0 || config.bands.length > DP_METER_MAX_BANDS) {
      throw new DpifError('EINVAL', `meter ${id}: 1..${DP_METER_MAX_BANDS} bands needed`);
    }
    for (const b of config.bands) {
      if (b.type !== 'drop' && b.type !== 'dscp_remark') throw new DpifError('EINVAL', `meter ${id}: band type ${String(b.type)}`);
      if (!(b.rate > 0) || !Number.isFinite(b.rate)) throw new DpifError('EINVAL', `meter ${id}: band rate ${String(b.rate)}`);
      if (!(b.burst >= 0) || !Number.isFinite(b.burst)) throw new DpifError('EINVAL', `meter ${id}: band burst ${String(b.burst)}`);
      if (b.type === 'dscp_remark' && !(Number.isInteger(b.precLevel) && b.precLevel! >= 1 && b.precLevel! <= 3)) {
        throw new DpifError('EINVAL', `meter ${id}: dscp_remark prec_level ${String(b.precLevel)} is not 1..3`);
      }
    }
    const m = new DpMeter(id, { unit: config.unit, bands: config.bands.map((b) => ({ ...b })) }, nowMs);
    this.meters.set(id, m);
    return m;
  }

  get(id: number): DpMeter | undefined {
    return this.meters.get(id);
  }

  del(id: number): boolean {
    return this.meters.delete(id);
  }

  clear(): void {
    this.meters.clear();
  }

  get size(): number {
    return this.meters.size;
  }

  values(): IterableIterator<DpMeter> {
    return this.meters.values();
  }
}
