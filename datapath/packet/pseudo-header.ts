// The addresses an L4 checksum covers (RFC 9293 3.1, RFC 8200 8.1), as given
// to L4 builders: text or bytes, IPv4 or IPv6.

import { type Addr, ipBytes } from './addr.js';
import { PacketError } from './errors.js';

export interface PseudoHeader {
  src: Addr;
  dst: Addr;
}

export function pseudoBytes(p: PseudoHeader): { src: Uint8Array; dst: Uint8Array } {
  const src = ipBytes(p.src);
  const dst = ipBytes(p.dst);
  if (src.length !== dst.length) throw new PacketError('ERR_PACKET_BAD_FIELD', 'pseudo-header mixes IPv4 and IPv6 addresses', 'dst');
  return { src, dst };
}
