// OFPT_ECHO_REQUEST / OFPT_ECHO_REPLY (7.5.2, 7.5.3): arbitrary payload.
import { OFPT } from './constants.js';
import type { MessageBase } from './header.js';
import { WireReader, WireWriter } from './wire.js';

export interface EchoMsg extends MessageBase {
  type: typeof OFPT.ECHO_REQUEST | typeof OFPT.ECHO_REPLY;
  data: Buffer;
}

export function decodeEcho(r: WireReader, base: MessageBase, type: EchoMsg['type']): EchoMsg {
  return { type, ...base, data: Buffer.from(r.rest()) };
}

export function encodeEcho(w: WireWriter, m: EchoMsg): void {
  w.bytes(m.data);
}

/** The reply to an echo request: same xid and payload. */
export function echoReply(req: EchoMsg): EchoMsg {
  return { type: OFPT.ECHO_REPLY, version: req.version, xid: req.xid, data: req.data };
}
