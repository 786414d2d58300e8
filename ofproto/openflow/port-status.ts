// OFPT_PORT_STATUS (7.4.3): reason and the port's description.
import { OFPT } from './constants.js';
import type { MessageBase } from './header.js';
import { decodePort, encodePort, type OfpPort } from './port.js';
import { WireReader, WireWriter } from './wire.js';

export interface PortStatusMsg extends MessageBase {
  type: typeof OFPT.PORT_STATUS;
  /** OFPPR_* */
  reason: number;
  desc: OfpPort;
}

export function decodePortStatus(r: WireReader, base: MessageBase): PortStatusMsg {
  const reason = r.u8('reason');
  r.skip(7, 'pad');
  const desc = decodePort(r);
  r.done('port status');
  return { type: OFPT.PORT_STATUS, ...base, reason, desc };
}

export function encodePortStatus(w: WireWriter, m: PortStatusMsg): void {
  w.u8(m.reason).zeros(7);
  encodePort(w, m.desc);
}
