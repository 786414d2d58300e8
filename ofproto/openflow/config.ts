// OFPT_GET_CONFIG_REQUEST / _REPLY and OFPT_SET_CONFIG (7.3.2).
import { OFPC_FRAG, OFPET, OFPSCFC, OFPT } from './constants.js';
import { OfpError } from './errors.js';
import type { MessageBase } from './header.js';
import { WireReader, WireWriter } from './wire.js';

export interface GetConfigRequestMsg extends MessageBase {
  type: typeof OFPT.GET_CONFIG_REQUEST;
}

export interface SwitchConfigMsg extends MessageBase {
  type: typeof OFPT.GET_CONFIG_REPLY | typeof OFPT.SET_CONFIG;
  /** OFPC_FRAG_* */
  flags: number;
  missSendLen: number;
}

export function decodeSwitchConfig(r: WireReader, base: MessageBase, type: SwitchConfigMsg['type']): SwitchConfigMsg {
  const flags = r.u16('flags');
  const missSendLen = r.u16('miss_send_len');
  r.done('switch config');
  if (type === OFPT.SET_CONFIG && (flags & ~OFPC_FRAG.MASK) !== 0) {
    throw new OfpError(OFPET.SWITCH_CONFIG_FAILED, OFPSCFC.BAD_FLAGS, `switch config flags 0x${flags.toString(16)}`);
  }
  return { type, ...base, flags, missSendLen };
}

export function encodeSwitchConfig(w: WireWriter, m: SwitchConfigMsg): void {
  w.u16(m.flags).u16(m.missSendLen);
}
