// OFPT_METER_MOD (7.3.4.4) and meter bands (DROP, DSCP_REMARK,
// EXPERIMENTER), shared with the METER_CONFIG reply.
import { OFPET, OFPMBT, OFPMC, OFPMF, OFPMMFC, OFPT } from './constants.js';
import { OfpError } from './errors.js';
import type { MessageBase } from './header.js';
import { WireReader, WireWriter } from './wire.js';

export interface MeterBandDrop {
  type: typeof OFPMBT.DROP;
  rate: number;
  burstSize: number;
}
export interface MeterBandDscpRemark {
  type: typeof OFPMBT.DSCP_REMARK;
  rate: number;
  burstSize: number;
  precLevel: number;
}
export interface MeterBandExperimenter {
  type: typeof OFPMBT.EXPERIMENTER;
  rate: number;
  burstSize: number;
  experimenter: number;
  data: Buffer;
}
export type MeterBand = MeterBandDrop | MeterBandDscpRemark | MeterBandExperimenter;

export interface MeterModMsg extends MessageBase {
  type: typeof OFPT.METER_MOD;
  /** OFPMC_* */
  command: number;
  /** OFPMF_* */
  flags: number;
  meterId: number;
  bands: MeterBand[];
}

function bandErr(code: number, message: string): OfpError {
  return new OfpError(OFPET.METER_MOD_FAILED, code, message);
}

export function decodeBand(r: WireReader): MeterBand {
  const start = r.pos;
  const type = r.u16('band type');
  const len = r.u16('band len');
  if (len < 16 || len % 8 !== 0) throw bandErr(OFPMMFC.BAD_BAND, `meter band type ${type}: length ${len} is not a multiple of 8 >= 16`);
  r.pos = start;
  const b = r.sub(len, `meter band type ${type}`);
  b.skip(4, 'band header');
  const rate = b.u32('rate');
  const burstSize = b.u32('burst_size');
  switch (type) {
    case OFPMBT.DROP:
      if (len !== 16) throw bandErr(OFPMMFC.BAD_BAND, `drop band: length ${len}, expected 16`);
      return { type, rate, burstSize };
    case OFPMBT.DSCP_REMARK:
      if (len !== 16) throw bandErr(OFPMMFC.BAD_BAND, `dscp_remark band: length ${len}, expected 16`);
      return { type, rate, burstSize, precLevel: b.u8('prec_level') };
    case OFPMBT.EXPERIMENTER:
      return { type, rate, burstSize, experimenter: b.u32('experimenter'), data: Buffer.from(b.rest()) };
    default:
      throw bandErr(OFPMMFC.BAD_BAND, `unknown meter band type ${type}`);
  }
}

export function decodeBands(r: WireReader): MeterBand[] {
  const out: MeterBand[] = [];
  while (r.remaining > 0) out.push(decodeBand(r));
  return out;
}

export function encodeBands(w: WireWriter, bands: readonly MeterBand[]): void {
  for (const b of bands) {
    const start = w.length;
    w.u16(b.type).u16(0).u32(b.rate).u32(b.burstSize);
    if (b.type === OFPMBT.DSCP_REMARK) w.u8(b.precLevel).zeros(3);
    else if (b.type === OFPMBT.EXPERIMENTER) w.u32(b.experimenter).bytes(b.data).pad8(start);
    else w.zeros(4);
    w.setU16(start + 2, w.length - start);
  }
}

const METER_FLAGS = OFPMF.KBPS | OFPMF.PKTPS | OFPMF.BURST | OFPMF.STATS;

export function decodeMeterMod(r: WireReader, base: MessageBase): MeterModMsg {
  const command = r.u16('command');
  const flags = r.u16('flags');
  const meterId = r.u32('meter_id');
  if (command > OFPMC.DELETE) throw new OfpError(OFPET.METER_MOD_FAILED, OFPMMFC.BAD_COMMAND, `meter mod command ${command}`);
  if ((flags & ~METER_FLAGS) !== 0) throw new OfpError(OFPET.METER_MOD_FAILED, OFPMMFC.BAD_FLAGS, `meter flags 0x${flags.toString(16)}`);
  return { type: OFPT.METER_MOD, ...base, command, flags, meterId, bands: decodeBands(r) };
}

export function encodeMeterMod(w: WireWriter, m: MeterModMsg): void {
  w.u16(m.command).u16(m.flags).u32(m.meterId);
  encodeBands(w, m.bands);
}
