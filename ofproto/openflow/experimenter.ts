// OFPT_EXPERIMENTER (7.5.4): experimenter id, exp_type and an opaque body.
import { OFPT } from './constants.js';
import type { MessageBase } from './header.js';
import { WireReader, WireWriter } from './wire.js';

export interface ExperimenterMsg extends MessageBase {
  type: typeof OFPT.EXPERIMENTER;
  experimenter: number;
  expType: number;
  data: Buffer;
}

export function decodeExperimenter(r: WireReader, base: MessageBase): ExperimenterMsg {
  const experimenter = r.u32('experimenter');
  const expType = r.u32('exp_type');
  return { type: OFPT.EXPERIMENTER, ...base, experimenter, expType, data: Buffer.from(r.rest()) };
}

export function encodeExperimenter(w: WireWriter, m: ExperimenterMsg): void {
  w.u32(m.experimenter).u32(m.expType).bytes(m.data);
}
