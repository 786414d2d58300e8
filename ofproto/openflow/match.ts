// ofp_match (OpenFlow 1.3.5 7.2.3.1): type OFPMT_OXM, a length that excludes
// the trailing padding, the OXM TLVs, then zero padding to a multiple of 8.
import { OFPBMC, OFPET, OFPMT } from './constants.js';
import { OfpError } from './errors.js';
import { checkOxmList, decodeOxm, encodeOxm, type Oxm, type OxmBasic } from './oxm.js';
import { WireReader, WireWriter } from './wire.js';

/** A match is its OXM TLVs in wire order; an empty list matches everything. */
export type Match = Oxm[];

export interface MatchDecodeOptions {
  /** Check duplicates and prerequisites (default true). */
  check?: boolean;
}

export function decodeMatch(r: WireReader, opts: MatchDecodeOptions = {}): Match {
  const start = r.pos;
  const m = new WireReader(r.buf, r.pos, r.end, OFPET.BAD_MATCH, OFPBMC.BAD_LEN);
  const type = m.u16('match type');
  const length = m.u16('match length');
  if (type !== OFPMT.OXM) {
    throw new OfpError(OFPET.BAD_MATCH, OFPBMC.BAD_TYPE, `match type ${type}, only OFPMT_OXM (1) is supported`);
  }
  if (length < 4) throw m.fail(`match length ${length} < 4`);
  const padded = (length + 7) & ~7;
  m.need(padded - 4, 'match (with padding)');
  const body = m.sub(length - 4, 'match fields');
  const fields: Oxm[] = [];
  while (body.remaining > 0) fields.push(decodeOxm(body));
  if (opts.check !== false) checkOxmList(fields);
  r.pos = start + padded;
  return fields;
}

export function encodeMatch(w: WireWriter, match: Match): void {
  const start = w.length;
  w.u16(OFPMT.OXM).u16(0);
  for (const f of match) encodeOxm(w, f);
  w.setU16(start + 2, w.length - start);
  w.pad8(start);
}

/** The basic field `field` of a match, if present. */
export function matchField(match: Match, field: number): OxmBasic | undefined {
  for (const f of match) if (f.kind === 'basic' && f.field === field) return f;
  return undefined;
}
