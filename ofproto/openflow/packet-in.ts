// OFPT_PACKET_IN (7.4.1): buffer id, reason, table, cookie, the pipeline
// fields as a match, two pad bytes, then the frame.
import { OFPT } from './constants.js';
import type { MessageBase } from './header.js';
import { decodeMatch, encodeMatch, type Match } from './match.js';
import { WireReader, WireWriter } from './wire.js';

export interface PacketInMsg extends MessageBase {
  type: typeof OFPT.PACKET_IN;
  bufferId: number;
  /** Length of the full frame (data may be truncated to miss_send_len/max_len). */
  totalLen: number;
  /** OFPR_* */
  reason: number;
  tableId: number;
  cookie: bigint;
  match: Match;
  data: Buffer;
}

export function decodePacketIn(r: WireReader, base: MessageBase): PacketInMsg {
  const bufferId = r.u32('buffer_id');
  const totalLen = r.u16('total_len');
  const reason = r.u8('reason');
  const tableId = r.u8('table_id');
  const cookie = r.u64('cookie');
  // A report from the switch: decode, do not police prerequisites.
  const match = decodeMatch(r, { check: false });
  r.skip(2, 'pad');
  const data = Buffer.from(r.rest());
  return { type: OFPT.PACKET_IN, ...base, bufferId, totalLen, reason, tableId, cookie, match, data };
}

export function encodePacketIn(w: WireWriter, m: PacketInMsg): void {
  w.u32(m.bufferId).u16(m.totalLen).u8(m.reason).u8(m.tableId).u64(m.cookie);
  encodeMatch(w, m.match);
  w.zeros(2).bytes(m.data);
}
