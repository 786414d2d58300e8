// Meters in ovs-ofctl syntax ("meter=1,kbps,burst,band=type=drop,rate=1000,
// burst_size=100") parsed into the METER_MOD `ovs-ofctl -O OpenFlow13` sends,
// and printed like dump-meters, meter-stats and ofp-print (OVS lib/ofp-meter.c).
import { OFP13_VERSION, OFPM, OFPMBT, OFPMC, OFPMF, OFPT } from '../constants.js';
import type { MeterBand, MeterModMsg } from '../meter-mod.js';
import type { MeterConfig, MeterFeaturesBody, MeterStats } from '../multipart.js';
import { formatDuration, parseUint } from './field-values.js';
import { OfctlSyntaxError } from './syntax-error.js';

export type MeterCommand = 'add' | 'modify' | 'delete';

export interface ParseMeterOptions {
  command?: MeterCommand;
  xid?: number;
}

interface Token {
  text: string;
  at: number;
}

/** strtok_r() over `s` from `pos` with `delims`, keeping offsets. */
class Tokens {
  pos = 0;
  constructor(
    readonly s: string,
    readonly base: number,
  ) {}
  next(delims: string): Token | undefined {
    while (this.pos < this.s.length && delims.includes(this.s[this.pos]!)) this.pos++;
    if (this.pos >= this.s.length) return undefined;
    const at = this.pos;
    while (this.pos < this.s.length && !delims.includes(this.s[this.pos]!)) this.pos++;
    const text = this.s.slice(at, this.pos);
    if (this.pos < this.s.length) this.pos++;
    return { text, at: this.base + at };
  }
}

const NAME = '=, \t\r\n';
const VALUE = ', \t\r\n';

function tokErr(t: Token, message: string): OfctlSyntaxError {
  return new OfctlSyntaxError(message, t.text, t.at + 1);
}

function u32(t: Token): number {
  try {
    return parseUint(t.text, 32, 'value');
  } catch {
    throw tokErr(t, `invalid numeric format ${t.text}`);
  }
}

/** Parses a meter as add-meter / mod-meter / del-meters take it, into OVS's OpenFlow 1.3 METER_MOD. */
export function parseMeterMod(text: string, opts: ParseMeterOptions = {}): MeterModMsg {
  const cmd = opts.command ?? 'add';
  const withBands = cmd !== 'delete';
  let head = text;
  let bandText = '';
  let bandAt = 0;
  if (withBands) {
    const i = text.indexOf('band');
    const eq = i < 0 ? -1 : text.indexOf('=', i + 1);
    if (eq < 0) throw new OfctlSyntaxError('must specify bands', text, 1);
    head = text.slice(0, i);
    bandText = text.slice(eq + 1);
    bandAt = eq + 1;
  }
  let meterId = 0;
  let flags = 0;
  const words: Record<string, number> = { kbps: OFPMF.KBPS, pktps: OFPMF.PKTPS, burst: OFPMF.BURST, stats: OFPMF.STATS };
  const t = new Tokens(head, 0);
  for (let name = t.next(NAME); name; name = t.next(NAME)) {
    if (withBands && words[name.text] !== undefined) {
      flags |= words[name.text]!;
      continue;
    }
    const value = t.next(VALUE);
    if (!value) throw tokErr(name, `field ${name.text} missing value`);
    if (name.text !== 'meter') throw tokErr(name, `unknown keyword ${name.text}`);
    if (value.text === 'all') meterId = OFPM.ALL;
    else if (value.text === 'controller') meterId = OFPM.CONTROLLER;
    else if (value.text === 'slowpath') meterId = OFPM.SLOWPATH;
    else {
      meterId = u32(value);
      if (meterId > OFPM.MAX) throw tokErr(value, `invalid value for meter`);
    }
  }
  if (meterId === 0) throw new OfctlSyntaxError("must specify 'meter'", text, 1);
  if (withBands && (flags & (OFPMF.KBPS | OFPMF.PKTPS)) === 0) throw new OfctlSyntaxError("meter must specify either 'kbps' or 'pktps'", text, 1);
  const bands: Array<{ type: number; rate: number; burstSize: number; precLevel: number; at: Token }> = [];
  if (withBands) {
    const bt = new Tokens(bandText, bandAt);
    for (let name = bt.next(NAME); name; name = bt.next(NAME)) {
      const value = bt.next(VALUE);
      if (!value) throw tokErr(name, `field ${name.text} missing value`);
      const band = bands[bands.length - 1];
      if (name.text === 'type') {
        const type = value.text === 'drop' ? OFPMBT.DROP : value.text === 'dscp_remark' ? OFPMBT.DSCP_REMARK : 0;
        if (!type) throw tokErr(value, `field type unknown value ${value.text}`);
        bands.push({ type, rate: 0, burstSize: 0, precLevel: 0, at: name });
      } else if (!band) {
        throw tokErr(name, "band must start with the 'type' keyword");
      } else if (name.text === 'rate') band.rate = u32(value);
      else if (name.text === 'burst_size') band.burstSize = u32(value);
      else if (name.text === 'prec_level') {
        try {
          band.precLevel = parseUint(value.text, 8, 'prec_level');
        } catch {
          throw tokErr(value, `invalid prec_level "${value.text}"`);
        }
      } else throw tokErr(name, `unknown keyword ${name.text}`);
    }
    if (bands.length === 0) throw new OfctlSyntaxError('meter must have bands', bandText, bandAt + 1);
    for (const b of bands) {
      if (b.type === OFPMBT.DROP && b.precLevel) throw tokErr(b.at, "'prec_level' used with 'drop' band");
      if (b.type === OFPMBT.DSCP_REMARK && !b.precLevel) throw tokErr(b.at, "'dscp_remark' band missing 'prec_level'");
      if (!(flags & OFPMF.BURST) && b.burstSize) throw tokErr(b.at, "band may have 'burst_size' only when 'burst' flag is set");
    }
  }
  const command = cmd === 'add' ? OFPMC.ADD : cmd === 'modify' ? OFPMC.MODIFY : OFPMC.DELETE;
  return {
    type: OFPT.METER_MOD,
    version: OFP13_VERSION,
    xid: opts.xid ?? 0,
    command,
    flags,
    meterId,
    bands: bands.map((b): MeterBand =>
      b.type === OFPMBT.DSCP_REMARK
        ? { type: OFPMBT.DSCP_REMARK, rate: b.rate, burstSize: b.burstSize, precLevel: b.precLevel }
        : { type: OFPMBT.DROP, rate: b.rate, burstSize: b.burstSize },
    ),
  };
}

// --- printing -------------------------------------------------------------------------

function meterId(id: number, sep: string): string {
  if (id <= OFPM.MAX) return `meter${sep}${id}`;
  const name = id === OFPM.SLOWPATH ? 'slowpath' : id === OFPM.CONTROLLER ? 'controller' : id === OFPM.ALL ? 'all' : 'unknown';
  return `meter${sep}${name}`;
}

function meterFlags(flags: number): string {
  let s = '';
  if (flags & OFPMF.KBPS) s += 'kbps ';
  if (flags & OFPMF.PKTPS) s += 'pktps ';
  if (flags & OFPMF.BURST) s += 'burst ';
  if (flags & OFPMF.STATS) s += 'stats ';
  const rest = flags & ~(OFPMF.KBPS | OFPMF.PKTPS | OFPMF.BURST | OFPMF.STATS);
  if (rest) s += `flags:0x${rest.toString(16)} `;
  return s;
}

function formatBand(flags: number, b: MeterBand): string {
  let s = `\ntype=${b.type === OFPMBT.DROP ? 'drop' : b.type === OFPMBT.DSCP_REMARK ? 'dscp_remark' : String(b.type)} rate=${b.rate}`;
  if (flags & OFPMF.BURST) s += ` burst_size=${b.burstSize}`;
  if (b.type === OFPMBT.DSCP_REMARK) s += ` prec_level=${b.precLevel}`;
  return s;
}

/** A meter as dump-meters prints it (two or more lines, no trailing newline): "meter=1 kbps burst bands=\ntype=drop rate=1000 burst_size=100". */
export function formatMeterConfig(c: MeterConfig): string {
  return `${meterId(c.meterId, '=')} ${meterFlags(c.flags)}bands=${c.bands.map((b) => formatBand(c.flags, b)).join('')}`;
}

/** A METER_MOD as ofp-print shows it: "ADD meter=1 kbps bands=\ntype=drop rate=1000". */
export function formatMeterMod(m: MeterModMsg): string {
  const cmd = ['ADD', 'MOD', 'DEL'][m.command] ?? `cmd:${m.command}`;
  return `${cmd} ${formatMeterConfig({ flags: m.flags, meterId: m.meterId, bands: m.bands })}`;
}

/** One meter-stats entry: "meter:1 flow_count:1 packet_in_count:3 byte_in_count:468 duration:3.734s bands:\n0: packet_count:0 byte_count:0". */
export function formatMeterStats(s: MeterStats): string {
  let out = `${meterId(s.meterId, ':')} flow_count:${s.flowCount} packet_in_count:${s.packetInCount} byte_in_count:${s.byteInCount} `;
  out += `duration:${formatDuration(s.durationSec, s.durationNsec)} bands:`;
  s.bandStats.forEach((b, i) => {
    out += `\n${i}: packet_count:${b.packetBandCount} byte_count:${b.byteBandCount}`;
  });
  return out;
}

/** meter-features: "max_meter:262144 max_bands:8 max_color:0\nband_types: drop\ncapabilities: kbps pktps burst stats". */
export function formatMeterFeatures(f: MeterFeaturesBody): string {
  const types: string[] = [];
  if (f.bandTypes & (1 << OFPMBT.DROP)) types.push('drop');
  if (f.bandTypes & (1 << OFPMBT.DSCP_REMARK)) types.push('dscp_remark');
  return `max_meter:${f.maxMeter} max_bands:${f.maxBands} max_color:${f.maxColor}\nband_types: ${types.join(' ')}\ncapabilities: ${meterFlags(f.capabilities).trim()}`;
}
