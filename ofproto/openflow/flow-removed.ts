// OFPT_FLOW_REMOVED (7.4.2).
import { OFPT } from './constants.js';
import type { MessageBase } from './header.js';
import { decodeMatch, encodeMatch, type Match } from './match.js';
import { WireReader, WireWriter } from './wire.js';

export interface FlowRemovedMsg extends MessageBase {
  type: typeof OFPT.FLOW_REMOVED;
  cookie: bigint;
  priority: number;
  /** OFPRR_* */
  reason: number;
  tableId: number;
  durationSec: number;
  durationNsec: number;
  idleTimeout: number;
  hardTimeout: number;
  packetCount: bigint;
  byteCount: bigint;
  match: Match;
}

export function decodeFlowRemoved(r: WireReader, base: MessageBase): FlowRemovedMsg {
  const cookie = r.u64('cookie');
  const priority = r.u16('priority');
  const reason = r.u8('reason');
  const tableId = r.u8('table_id');
  const durationSec = r.u32('duration_sec');
  const durationNsec = r.u32('duration_nsec');
  const idleTimeout = r.u16('idle_timeout');
  const hardTimeout = r.u16('hard_timeout');
  const packetCount = r.u64('packet_count');
  const byteCount = r.u64('byte_count');
  const match = decodeMatch(r, { check: false });
  r.done('flow removed');
  return {
    type: OFPT.FLOW_REMOVED,
    ...base,
    cookie,
    priority,
    reason,
    tableId,
    durationSec,
    durationNsec,
    idleTimeout,
    hardTimeout,
    packetCount,
    byteCount,
    match,
  };
}

export function encodeFlowRemoved(w: WireWriter, m: FlowRemovedMsg): void {
  w.u64(m.cookie).u16(m.priority).u8(m.reason).u8(m.tableId).u32(m.durationSec).u32(m.durationNsec);
  w.u16(m.idleTimeout).u16(m.hardTimeout).u64(m.packetCount).u64(m.byteCount);
  encodeMatch(w, m.match);
}
