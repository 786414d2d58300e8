// OFPT_FLOW_MOD (7.3.4.1).
import { OFPET, OFPFC, OFPFF, OFPFMFC, OFPT } from './constants.js';
import { OfpError } from './errors.js';
import type { MessageBase } from './header.js';
import { decodeInstructions, encodeInstructions, type Instruction } from './instructions.js';
import { decodeMatch, encodeMatch, type Match } from './match.js';
import { WireReader, WireWriter } from './wire.js';

export interface FlowModMsg extends MessageBase {
  type: typeof OFPT.FLOW_MOD;
  cookie: bigint;
  cookieMask: bigint;
  tableId: number;
  /** OFPFC_* */
  command: number;
  idleTimeout: number;
  hardTimeout: number;
  priority: number;
  bufferId: number;
  outPort: number;
  outGroup: number;
  /** OFPFF_* */
  flags: number;
  match: Match;
  instructions: Instruction[];
}

const FLOW_MOD_FLAGS = Object.values(OFPFF).reduce((a, b) => a | b, 0);

export function decodeFlowMod(r: WireReader, base: MessageBase): FlowModMsg {
  const cookie = r.u64('cookie');
  const cookieMask = r.u64('cookie_mask');
  const tableId = r.u8('table_id');
  const command = r.u8('command');
  const idleTimeout = r.u16('idle_timeout');
  const hardTimeout = r.u16('hard_timeout');
  const priority = r.u16('priority');
  const bufferId = r.u32('buffer_id');
  const outPort = r.u32('out_port');
  const outGroup = r.u32('out_group');
  const flags = r.u16('flags');
  r.skip(2, 'pad');
  if (command > OFPFC.DELETE_STRICT) throw new OfpError(OFPET.FLOW_MOD_FAILED, OFPFMFC.BAD_COMMAND, `flow mod command ${command}`);
  if ((flags & ~FLOW_MOD_FLAGS) !== 0) {
    throw new OfpError(OFPET.FLOW_MOD_FAILED, OFPFMFC.BAD_FLAGS, `flow mod flags 0x${flags.toString(16)}`);
  }
  const match = decodeMatch(r);
  const instructions = decodeInstructions(r);
  return {
    type: OFPT.FLOW_MOD,
    ...base,
    cookie,
    cookieMask,
    tableId,
    command,
    idleTimeout,
    hardTimeout,
    priority,
    bufferId,
    outPort,
    outGroup,
    flags,
    match,
    instructions,
  };
}

export function encodeFlowMod(w: WireWriter, m: FlowModMsg): void {
  w.u64(m.cookie).u64(m.cookieMask).u8(m.tableId).u8(m.command).u16(m.idleTimeout).u16(m.hardTimeout);
  w.u16(m.priority).u32(m.bufferId).u32(m.outPort).u32(m.outGroup).u16(m.flags).zeros(2);
  encodeMatch(w, m.match);
  encodeInstructions(w, m.instructions);
}
