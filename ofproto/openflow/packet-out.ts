// OFPT_PACKET_OUT (7.3.7): buffer id, in_port, an action list of
// actions_len bytes, then the frame (when buffer_id is OFP_NO_BUFFER).
import { OFPT } from './constants.js';
import type { MessageBase } from './header.js';
import { decodeActions, encodeActions, type Action } from './actions.js';
import { WireReader, WireWriter } from './wire.js';

export interface PacketOutMsg extends MessageBase {
  type: typeof OFPT.PACKET_OUT;
  bufferId: number;
  inPort: number;
  actions: Action[];
  data: Buffer;
}

export function decodePacketOut(r: WireReader, base: MessageBase): PacketOutMsg {
  const bufferId = r.u32('buffer_id');
  const inPort = r.u32('in_port');
  const actionsLen = r.u16('actions_len');
  r.skip(6, 'pad');
  const actions = decodeActions(r.sub(actionsLen, 'packet-out actions'));
  const data = Buffer.from(r.rest());
  return { type: OFPT.PACKET_OUT, ...base, bufferId, inPort, actions, data };
}

export function encodePacketOut(w: WireWriter, m: PacketOutMsg): void {
  w.u32(m.bufferId).u32(m.inPort);
  const lenAt = w.length;
  w.u16(0).zeros(6);
  const start = w.length;
  encodeActions(w, m.actions);
  w.setU16(lenAt, w.length - start);
  w.bytes(m.data);
}
