// The CFM common header (IEEE 802.1Q-2018 21.4, ethertype 0x8902): MD level,
// version, opcode, flags, first TLV offset. PDU bodies (CCM...) are decoded by
// ofproto/cfm.

import { type DecodeIssue, truncated } from './decode-issue.js';
import { checkUint } from './errors.js';

export const CFM_HEADER_BYTES = 4;
export const CFM_OPCODE_CCM = 1;

export interface CfmHeader {
  kind: 'cfm';
  offset: number;
  mdLevel: number;
  version: number;
  opcode: number;
  flags: number;
  firstTlvOffset: number;
}

export function decodeCfm(buf: Buffer, off: number, end: number): CfmHeader | DecodeIssue {
  if (end - off < CFM_HEADER_BYTES) return truncated(`CFM header needs 4 bytes, ${end - off} captured`);
  const b0 = buf.readUInt8(off);
  return {
    kind: 'cfm',
    offset: off,
    mdLevel: b0 >> 5,
    version: b0 & 31,
    opcode: buf.readUInt8(off + 1),
    flags: buf.readUInt8(off + 2),
    firstTlvOffset: buf.readUInt8(off + 3),
  };
}

export function buildCfm(f: { mdLevel?: number; version?: number; opcode: number; flags?: number; firstTlvOffset?: number; payload?: Uint8Array }): Buffer {
  const payload = f.payload ?? new Uint8Array(0);
  const out = Buffer.alloc(CFM_HEADER_BYTES + payload.length);
  out.writeUInt8((checkUint('cfm.mdLevel', f.mdLevel ?? 0, 7) << 5) | checkUint('cfm.version', f.version ?? 0, 31), 0);
  out.writeUInt8(checkUint('cfm.opcode', f.opcode, 0xff), 1);
  out.writeUInt8(checkUint('cfm.flags', f.flags ?? 0, 0xff), 2);
  out.writeUInt8(checkUint('cfm.firstTlvOffset', f.firstTlvOffset ?? 0, 0xff), 3);
  out.set(payload, CFM_HEADER_BYTES);
  return out;
}
