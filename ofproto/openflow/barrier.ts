// OFPT_BARRIER_REQUEST / OFPT_BARRIER_REPLY (7.3.8): header only.
import { OFPT } from './constants.js';
import type { MessageBase } from './header.js';

export interface BarrierMsg extends MessageBase {
  type: typeof OFPT.BARRIER_REQUEST | typeof OFPT.BARRIER_REPLY;
}

export function barrierReply(req: BarrierMsg): BarrierMsg {
  return { type: OFPT.BARRIER_REPLY, version: req.version, xid: req.xid };
}
