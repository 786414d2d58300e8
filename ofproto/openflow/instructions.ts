// OpenFlow 1.3 instructions (7.2.4): GOTO_TABLE, WRITE_METADATA,
// WRITE/APPLY/CLEAR_ACTIONS, METER, and EXPERIMENTER carried opaque.
import { OFPBIC, OFPET, OFPIT } from './constants.js';
import { OfpError } from './errors.js';
import { decodeActions, encodeActions, type Action } from './actions.js';
import { WireReader, WireWriter } from './wire.js';

export interface InstructionGotoTable {
  type: typeof OFPIT.GOTO_TABLE;
  tableId: number;
}
export interface InstructionWriteMetadata {
  type: typeof OFPIT.WRITE_METADATA;
  metadata: bigint;
  metadataMask: bigint;
}
export interface InstructionActions {
  type: typeof OFPIT.WRITE_ACTIONS | typeof OFPIT.APPLY_ACTIONS | typeof OFPIT.CLEAR_ACTIONS;
  /** Always empty for CLEAR_ACTIONS. */
  actions: Action[];
}
export interface InstructionMeter {
  type: typeof OFPIT.METER;
  meterId: number;
}
export interface InstructionExperimenter {
  type: typeof OFPIT.EXPERIMENTER;
  experimenter: number;
  data: Buffer;
}
export type Instruction =
  | InstructionGotoTable
  | InstructionWriteMetadata
  | InstructionActions
  | InstructionMeter
  | InstructionExperimenter;

function instErr(code: number, message: string): OfpError {
  return new OfpError(OFPET.BAD_INSTRUCTION, code, message);
}

export function decodeInstruction(r: WireReader): Instruction {
  const start = r.pos;
  const type = r.u16('instruction type');
  const len = r.u16('instruction length');
  if (len < 8 || len % 8 !== 0) throw instErr(OFPBIC.BAD_LEN, `instruction type ${type}: length ${len} is not a multiple of 8 >= 8`);
  if (len > r.end - start) throw instErr(OFPBIC.BAD_LEN, `instruction type ${type}: length ${len} runs past the message`);
  r.pos = start;
  const s = r.sub(len, `instruction type ${type}`, OFPET.BAD_INSTRUCTION, OFPBIC.BAD_LEN);
  s.skip(4, 'instruction header');
  const fixed = (want: number): void => {
    if (len !== want) throw instErr(OFPBIC.BAD_LEN, `instruction type ${type}: length ${len}, expected ${want}`);
  };
  switch (type) {
    case OFPIT.GOTO_TABLE:
      fixed(8);
      return { type, tableId: s.u8('table_id') };
    case OFPIT.WRITE_METADATA:
      fixed(24);
      s.skip(4, 'pad');
      return { type, metadata: s.u64('metadata'), metadataMask: s.u64('metadata_mask') };
    case OFPIT.WRITE_ACTIONS:
    case OFPIT.APPLY_ACTIONS:
    case OFPIT.CLEAR_ACTIONS: {
      s.skip(4, 'pad');
      if (type === OFPIT.CLEAR_ACTIONS) fixed(8);
      return { type, actions: decodeActions(s) };
    }
    case OFPIT.METER:
      fixed(8);
      return { type, meterId: s.u32('meter_id') };
    case OFPIT.EXPERIMENTER:
      return { type, experimenter: s.u32('experimenter id'), data: Buffer.from(s.rest()) };
    default:
      throw instErr(OFPBIC.UNKNOWN_INST, `unknown instruction type ${type}`);
  }
}

export function decodeInstructions(r: WireReader): Instruction[] {
  const s = new WireReader(r.buf, r.pos, r.end, OFPET.BAD_INSTRUCTION, OFPBIC.BAD_LEN);
  const out: Instruction[] = [];
  while (s.remaining > 0) out.push(decodeInstruction(s));
  r.pos = s.pos;
  return out;
}

export function encodeInstruction(w: WireWriter, ins: Instruction): void {
  const start = w.length;
  w.u16(ins.type).u16(0);
  switch (ins.type) {
    case OFPIT.GOTO_TABLE:
      w.u8(ins.tableId).zeros(3);
      break;
    case OFPIT.WRITE_METADATA:
      w.zeros(4).u64(ins.metadata).u64(ins.metadataMask);
      break;
    case OFPIT.WRITE_ACTIONS:
    case OFPIT.APPLY_ACTIONS:
    case OFPIT.CLEAR_ACTIONS:
      w.zeros(4);
      encodeActions(w, ins.actions);
      break;
    case OFPIT.METER:
      w.u32(ins.meterId);
      break;
    case OFPIT.EXPERIMENTER:
      w.u32(ins.experimenter).bytes(ins.data);
      w.pad8(start);
      break;
  }
  const len = w.length - start;
  if (len > 0xffff) throw instErr(OFPBIC.BAD_LEN, `instruction of ${len} bytes`);
  w.setU16(start + 2, len);
}

export function encodeInstructions(w: WireWriter, list: readonly Instruction[]): void {
  for (const i of list) encodeInstruction(w, i);
}
