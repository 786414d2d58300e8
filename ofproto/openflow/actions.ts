// OpenFlow 1.3 actions (7.2.5): every standard action plus EXPERIMENTER,
// whose body (e.g. an OVS Nicira extension action) is carried opaque.
import { OFPAT, OFPBAC, OFPBMC, OFPET } from './constants.js';
import { OfpError } from './errors.js';
import { decodeOxm, encodeOxm, oxmLength, type Oxm } from './oxm.js';
import { WireReader, WireWriter } from './wire.js';

export interface ActionOutput {
  type: typeof OFPAT.OUTPUT;
  port: number;
  /** Bytes to send to the controller (OFPCML_NO_BUFFER = whole packet). */
  maxLen: number;
}
export interface ActionBare {
  type:
    | typeof OFPAT.COPY_TTL_OUT
    | typeof OFPAT.COPY_TTL_IN
    | typeof OFPAT.DEC_MPLS_TTL
    | typeof OFPAT.POP_VLAN
    | typeof OFPAT.DEC_NW_TTL
    | typeof OFPAT.POP_PBB;
}
export interface ActionTtl {
  type: typeof OFPAT.SET_MPLS_TTL | typeof OFPAT.SET_NW_TTL;
  ttl: number;
}
export interface ActionEthertype {
  type: typeof OFPAT.PUSH_VLAN | typeof OFPAT.PUSH_MPLS | typeof OFPAT.POP_MPLS | typeof OFPAT.PUSH_PBB;
  ethertype: number;
}
export interface ActionSetQueue {
  type: typeof OFPAT.SET_QUEUE;
  queueId: number;
}
export interface ActionGroup {
  type: typeof OFPAT.GROUP;
  groupId: number;
}
export interface ActionSetField {
  type: typeof OFPAT.SET_FIELD;
  field: Oxm;
}
export interface ActionExperimenter {
  type: typeof OFPAT.EXPERIMENTER;
  experimenter: number;
  /** Bytes after the 8-byte header, including any padding of the experimenter's own. */
  data: Buffer;
}
export type Action =
  | ActionOutput
  | ActionBare
  | ActionTtl
  | ActionEthertype
  | ActionSetQueue
  | ActionGroup
  | ActionSetField
  | ActionExperimenter;

const BARE = new Set<number>([OFPAT.COPY_TTL_OUT, OFPAT.COPY_TTL_IN, OFPAT.DEC_MPLS_TTL, OFPAT.POP_VLAN, OFPAT.DEC_NW_TTL, OFPAT.POP_PBB]);
const ETHERTYPE = new Set<number>([OFPAT.PUSH_VLAN, OFPAT.PUSH_MPLS, OFPAT.POP_MPLS, OFPAT.PUSH_PBB]);

function actErr(code: number, message: string): OfpError {
  return new OfpError(OFPET.BAD_ACTION, code, message);
}

/** Set-field OXM problems are reported in the action's own terms (OFPBAC_BAD_SET_*). */
function setFieldError(e: OfpError): OfpError {
  if (e.type !== OFPET.BAD_MATCH) return e;
  const code =
    e.errorCode === OFPBMC.BAD_FIELD ? OFPBAC.BAD_SET_TYPE : e.errorCode === OFPBMC.BAD_LEN ? OFPBAC.BAD_SET_LEN : OFPBAC.BAD_SET_ARGUMENT;
  return actErr(code, `set_field: ${e.message}`);
}

/** Decodes one action at the reader. */
export function decodeAction(r: WireReader): Action {
  const start = r.pos;
  const type = r.u16('action type');
  const len = r.u16('action length');
  if (len < 8 || len % 8 !== 0) throw actErr(OFPBAC.BAD_LEN, `action type ${type}: length ${len} is not a multiple of 8 >= 8`);
  if (len > r.end - start) throw actErr(OFPBAC.BAD_LEN, `action type ${type}: length ${len} runs past its list`);
  r.pos = start;
  const a = r.sub(len, `action type ${type}`, OFPET.BAD_ACTION, OFPBAC.BAD_LEN);
  a.skip(4, 'action header');
  const fixed = (want: number): void => {
    if (len !== want) throw actErr(OFPBAC.BAD_LEN, `action type ${type}: length ${len}, expected ${want}`);
  };
  if (BARE.has(type)) {
    fixed(8);
    return { type } as ActionBare;
  }
  if (ETHERTYPE.has(type)) {
    fixed(8);
    return { type, ethertype: a.u16('ethertype') } as ActionEthertype;
  }
  switch (type) {
    case OFPAT.OUTPUT:
      fixed(16);
      return { type, port: a.u32('output port'), maxLen: a.u16('output max_len') };
    case OFPAT.SET_MPLS_TTL:
    case OFPAT.SET_NW_TTL:
      fixed(8);
      return { type, ttl: a.u8('ttl') };
    case OFPAT.SET_QUEUE:
      fixed(8);
      return { type, queueId: a.u32('queue_id') };
    case OFPAT.GROUP:
      fixed(8);
      return { type, groupId: a.u32('group_id') };
    case OFPAT.SET_FIELD: {
      let field: Oxm;
      try {
        field = decodeOxm(new WireReader(a.buf, a.pos, a.end, OFPET.BAD_ACTION, OFPBAC.BAD_SET_LEN));
      } catch (e) {
        throw e instanceof OfpError ? setFieldError(e) : e;
      }
      if (field.kind === 'basic' && field.mask !== undefined) {
        throw actErr(OFPBAC.BAD_SET_ARGUMENT, 'set_field: masked set_field needs OpenFlow 1.5');
      }
      if (((4 + oxmLength(field) + 7) & ~7) !== len) {
        throw actErr(OFPBAC.BAD_SET_LEN, `set_field: length ${len} does not fit its ${oxmLength(field)}-byte OXM`);
      }
      return { type, field };
    }
    case OFPAT.EXPERIMENTER:
      return { type, experimenter: a.u32('experimenter id'), data: Buffer.from(a.rest()) };
    default:
      throw actErr(OFPBAC.BAD_TYPE, `unknown action type ${type}`);
  }
}

/** Decodes an action list filling the whole reader. */
export function decodeActions(r: WireReader): Action[] {
  const a = new WireReader(r.buf, r.pos, r.end, OFPET.BAD_ACTION, OFPBAC.BAD_LEN);
  const out: Action[] = [];
  while (a.remaining > 0) out.push(decodeAction(a));
  r.pos = a.pos;
  return out;
}

export function encodeAction(w: WireWriter, a: Action): void {
  const start = w.length;
  w.u16(a.type).u16(0);
  switch (a.type) {
    case OFPAT.OUTPUT:
      w.u32(a.port).u16(a.maxLen).zeros(6);
      break;
    case OFPAT.SET_MPLS_TTL:
    case OFPAT.SET_NW_TTL:
      w.u8(a.ttl).zeros(3);
      break;
    case OFPAT.PUSH_VLAN:
    case OFPAT.PUSH_MPLS:
    case OFPAT.POP_MPLS:
    case OFPAT.PUSH_PBB:
      w.u16(a.ethertype).zeros(2);
      break;
    case OFPAT.SET_QUEUE:
      w.u32(a.queueId);
      break;
    case OFPAT.GROUP:
      w.u32(a.groupId);
      break;
    case OFPAT.SET_FIELD:
      encodeOxm(w, a.field);
      w.pad8(start);
      break;
    case OFPAT.EXPERIMENTER:
      w.u32(a.experimenter).bytes(a.data);
      w.pad8(start);
      break;
    default:
      w.zeros(4);
  }
  const len = w.length - start;
  if (len > 0xffff) throw actErr(OFPBAC.BAD_LEN, `action of ${len} bytes`);
  w.setU16(start + 2, len);
}

export function encodeActions(w: WireWriter, actions: readonly Action[]): void {
  for (const a of actions) encodeAction(w, a);
}
