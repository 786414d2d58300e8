// OFPT_ROLE_REQUEST / OFPT_ROLE_REPLY (7.3.9).
import { OFPCR_ROLE, OFPET, OFPRRFC, OFPT } from './constants.js';
import { OfpError } from './errors.js';
import type { MessageBase } from './header.js';
import { WireReader, WireWriter } from './wire.js';

export interface RoleMsg extends MessageBase {
  type: typeof OFPT.ROLE_REQUEST | typeof OFPT.ROLE_REPLY;
  /** OFPCR_ROLE_* */
  role: number;
  generationId: bigint;
}

export function decodeRole(r: WireReader, base: MessageBase, type: RoleMsg['type']): RoleMsg {
  const role = r.u32('role');
  r.skip(4, 'pad');
  const generationId = r.u64('generation_id');
  r.done('role');
  if (type === OFPT.ROLE_REQUEST && role > OFPCR_ROLE.SLAVE) {
    throw new OfpError(OFPET.ROLE_REQUEST_FAILED, OFPRRFC.BAD_ROLE, `role ${role}`);
  }
  return { type, ...base, role, generationId };
}

export function encodeRole(w: WireWriter, m: RoleMsg): void {
  w.u32(m.role).zeros(4).u64(m.generationId);
}
