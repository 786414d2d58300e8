// OFPT_ERROR (7.4.4): type, code and the offending bytes; the experimenter
// form (type 0xffff) carries exp_type and an experimenter id instead.
import { OFPET, OFPT } from './constants.js';
import { OfpError } from './errors.js';
import type { MessageBase } from './header.js';
import { WireReader, WireWriter } from './wire.js';

export interface ErrorMsg extends MessageBase {
  type: typeof OFPT.ERROR;
  /** OFPET_* */
  errType: number;
  /** Code within errType (exp_type for OFPET_EXPERIMENTER). */
  errCode: number;
  /** Only for errType OFPET_EXPERIMENTER. */
  experimenter?: number;
  /** Usually at least 64 bytes of the request that failed. */
  data: Buffer;
}

export function decodeErrorMsg(r: WireReader, base: MessageBase): ErrorMsg {
  const errType = r.u16('error type');
  const errCode = r.u16('error code');
  if (errType === OFPET.EXPERIMENTER) {
    const experimenter = r.u32('error experimenter');
    return { type: OFPT.ERROR, ...base, errType, errCode, experimenter, data: Buffer.from(r.rest()) };
  }
  return { type: OFPT.ERROR, ...base, errType, errCode, data: Buffer.from(r.rest()) };
}

export function encodeErrorMsg(w: WireWriter, m: ErrorMsg): void {
  w.u16(m.errType).u16(m.errCode);
  if (m.errType === OFPET.EXPERIMENTER) w.u32(m.experimenter ?? 0);
  w.bytes(m.data);
}

/** The ERROR message answering a failed request (`e.data`: its first bytes). */
export function errorMsgFromError(e: OfpError, version: number, xid: number): ErrorMsg {
  return { type: OFPT.ERROR, version, xid, errType: e.type, errCode: e.errorCode, data: e.data };
}
