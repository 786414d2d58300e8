// OFPT_GET_CONFIG_REQUEST / _REPLY and OFPT_SET_CONFIG (7.3.2).
import { OFPT } from './constants.js';
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
  return { type, ...base, flags, missSendLen };
}

export function encodeSwitchConfig(w: WireWriter, m: SwitchConfigMsg): void {
  w.u16(m.flags).u16(m.missSendLen);
}
