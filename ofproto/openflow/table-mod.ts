// OFPT_TABLE_MOD (7.3.3).
import { OFPT } from './constants.js';
import type { MessageBase } from './header.js';
import { WireReader, WireWriter } from './wire.js';

export interface TableModMsg extends MessageBase {
  type: typeof OFPT.TABLE_MOD;
  /** OFPTT_ALL for every table. */
  tableId: number;
  config: number;
}

export function decodeTableMod(r: WireReader, base: MessageBase): TableModMsg {
  const tableId = r.u8('table_id');
  r.skip(3, 'pad');
  const config = r.u32('config');
  r.done('table mod');
  return { type: OFPT.TABLE_MOD, ...base, tableId, config };
}

export function encodeTableMod(w: WireWriter, m: TableModMsg): void {
  w.u8(m.tableId).zeros(3).u32(m.config);
}
