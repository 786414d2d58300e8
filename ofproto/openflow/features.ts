// OFPT_FEATURES_REQUEST / OFPT_FEATURES_REPLY (7.3.1).
import { OFPT } from './constants.js';
import type { MessageBase } from './header.js';
import { WireReader, WireWriter } from './wire.js';

export interface FeaturesRequestMsg extends MessageBase {
  type: typeof OFPT.FEATURES_REQUEST;
}

export interface FeaturesReplyMsg extends MessageBase {
  type: typeof OFPT.FEATURES_REPLY;
  datapathId: bigint;
  nBuffers: number;
  nTables: number;
  auxiliaryId: number;
  /** OFPC_* bits. */
  capabilities: number;
  reserved: number;
}

export function decodeFeaturesReply(r: WireReader, base: MessageBase): FeaturesReplyMsg {
  const datapathId = r.u64('datapath_id');
  const nBuffers = r.u32('n_buffers');
  const nTables = r.u8('n_tables');
  const auxiliaryId = r.u8('auxiliary_id');
  r.skip(2, 'pad');
  const capabilities = r.u32('capabilities');
  const reserved = r.u32('reserved');
  r.done('features reply');
  return { type: OFPT.FEATURES_REPLY, ...base, datapathId, nBuffers, nTables, auxiliaryId, capabilities, reserved };
}

export function encodeFeaturesReply(w: WireWriter, m: FeaturesReplyMsg): void {
  w.u64(m.datapathId).u32(m.nBuffers).u8(m.nTables).u8(m.auxiliaryId).zeros(2).u32(m.capabilities).u32(m.reserved);
}
