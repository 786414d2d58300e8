// OFPT_PORT_MOD (7.3.4.3).
import { OFPT } from './constants.js';
import type { MessageBase } from './header.js';
import { hwAddr6 } from './port.js';
import { WireReader, WireWriter } from './wire.js';

export interface PortModMsg extends MessageBase {
  type: typeof OFPT.PORT_MOD;
  portNo: number;
  /** Must match the port's address (a sanity check by the switch). */
  hwAddr: Buffer;
  /** OFPPC_* bits to set... */
  config: number;
  /** ...of which only these are changed. */
  mask: number;
  /** OFPPF_* bits to advertise; 0 = no change. */
  advertise: number;
}

export function decodePortMod(r: WireReader, base: MessageBase): PortModMsg {
  const portNo = r.u32('port_no');
  r.skip(4, 'pad');
  const hwAddr = Buffer.from(r.bytes(6, 'hw_addr'));
  r.skip(2, 'pad');
  const config = r.u32('config');
  const mask = r.u32('mask');
  const advertise = r.u32('advertise');
  r.skip(4, 'pad');
  r.done('port mod');
  return { type: OFPT.PORT_MOD, ...base, portNo, hwAddr, config, mask, advertise };
}

export function encodePortMod(w: WireWriter, m: PortModMsg): void {
  w.u32(m.portNo).zeros(4).bytes(hwAddr6(m.hwAddr)).zeros(2).u32(m.config).u32(m.mask).u32(m.advertise).zeros(4);
}
