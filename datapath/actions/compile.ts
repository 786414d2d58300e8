// Compiles a DpAction list into the flat numeric program the executor runs:
// one Uint32Array of opcodes and arguments, nested lists (sample, clone,
// dec_ttl) inlined behind their length in words, userspace cookies in a side
// table. Everything is validated here, once, at install time, so the per-packet
// executor neither allocates nor checks arguments.

import {
  ETH_TYPE_MPLS,
  ETH_TYPE_MPLS_MCAST,
  ETH_TYPE_QINQ,
  ETH_TYPE_VLAN,
  KEY_WORDS,
  MASK_NW_PROTO,
  MASK_NW_TOS,
  MASK_NW_TTL,
  VLAN_CFI,
  W_ARP_SHA_HI,
  W_ARP_SHA_LO,
  W_ARP_THA_HI,
  W_ARP_THA_LO,
  W_ETH_DST_HI,
  W_ETH_DST_LO,
  W_ETH_SRC_HI,
  W_ETH_SRC_LO,
  W_IPV6_LABEL,
  W_MPLS0,
  W_ND_TARGET,
  W_NW_DST,
  W_NW_PROTO_TOS_TTL_FRAG,
  W_NW_SRC,
  W_TP_PORTS,
} from '../flow/key.js';
import { ActionError } from './action-error.js';
import type { DpAction, SetAttr } from './types.js';

// --- opcodes -----------------------------------------------------------------
/** [op, port] */
export const OP_OUTPUT = 1;
/** [op, pid, cookieIndex | NO_COOKIE] */
export const OP_USERSPACE = 2;
/** [op, tpid, tci] */
export const OP_PUSH_VLAN = 3;
/** [op] */
export const OP_POP_VLAN = 4;
/** [op, lse, ethertype] */
export const OP_PUSH_MPLS = 5;
/** [op, ethertype] */
export const OP_POP_MPLS = 6;
/** [op, lengthWords, ...expiry actions] */
export const OP_DEC_TTL = 7;
/** [op, probability, lengthWords, ...actions] */
export const OP_SAMPLE = 8;
/** [op, lengthWords, ...actions] */
export const OP_CLONE = 9;
/** [op, maxLen] */
export const OP_TRUNC = 10;
/** [op, meterId] */
export const OP_METER = 11;
/** [op, itag] */
export const OP_PUSH_PBB = 12;
/** [op] */
export const OP_POP_PBB = 13;
/** [op, ethertype] */
export const OP_SET_ETH_TYPE = 14;
/** [op] */
export const OP_COPY_TTL_IN = 15;
// Set ops carry (value, mask) pairs per field, in the order listed.
/** [op, dstHi,m, dstLo,m, srcHi,m, srcLo,m] */
export const OP_SET_ETH = 16;
/** [op, src,m, dst,m, tos,m, ttl,m, proto,m] */
export const OP_SET_IPV4 = 17;
/** [op, src0..3,m0..3 (interleaved), dst0..3,m (interleaved), label,m, tclass,m, hlimit,m, next header,m] */
export const OP_SET_IPV6 = 18;
/** [op, ports (src<<16|dst), m] */
export const OP_SET_TCP = 19;
export const OP_SET_UDP = 20;
export const OP_SET_SCTP = 21;
/** [op, type<<8|code, m] */
export const OP_SET_ICMP = 22;
export const OP_SET_ICMPV6 = 23;
/** [op, sip,m, tip,m, op,m, shaHi,m, shaLo,m, thaHi,m, thaLo,m] */
export const OP_SET_ARP = 24;
/** [op, target0..3,m (interleaved), sllHi,m, sllLo,m, tllHi,m, tllLo,m] */
export const OP_SET_ND = 25;
/** [op, lse, m] */
export const OP_SET_MPLS = 26;

export const NO_COOKIE = 0xffffffff;
/** Deepest nesting of sample/clone/dec_ttl lists accepted (OVS's kernel datapath allows 3 for sample; clone is deeper). */
export const MAX_NESTING = 8;

export interface ActionProgram {
  readonly code: Uint32Array;
  readonly cookies: readonly (Uint8Array | null)[];
  /** Deepest nesting of sample/clone/dec_ttl lists (0 = flat). */
  readonly depth: number;
  /** The list this program was compiled from (for dump-flows and trace). */
  readonly source: readonly DpAction[];
}

export interface CompileOptions {
  /** Is `port` an existing datapath port? Default: any u32 except 0xffffffff (ODPP_NONE). */
  isValidPort?(port: number): boolean;
}

/**
 * Writable bits per set attribute, as [key word, mask] pairs (the key layout of
 * datapath/flow/key.ts). Non-writable fields (ipv4/ipv6 proto and frag) are
 * absent, as OVS's kernel datapath rejects masks on them.
 */
/**
 * Bits only set_masked may write, beyond what OVS's datapath writes: the IP
 * protocol / IPv6 next header, for OpenFlow 1.3's set_field ip_proto (OVS
 * rejects that action). An exact set() leaves them alone, as OVS does.
 */
export const MASKED_ONLY_WRITABLE: Readonly<Partial<Record<SetAttr, readonly (readonly [number, number])[]>>> = {
  ipv4: [[W_NW_PROTO_TOS_TTL_FRAG, MASK_NW_PROTO]],
  ipv6: [[W_NW_PROTO_TOS_TTL_FRAG, MASK_NW_PROTO]],
};

export const SET_WRITABLE: Readonly<Record<SetAttr, readonly (readonly [number, number])[]>> = {
  eth: [
    [W_ETH_DST_HI, 0xffff],
    [W_ETH_DST_LO, 0xffffffff],
    [W_ETH_SRC_HI, 0xffff],
    [W_ETH_SRC_LO, 0xffffffff],
  ],
  ipv4: [
    [W_NW_SRC, 0xffffffff],
    [W_NW_DST, 0xffffffff],
    [W_NW_PROTO_TOS_TTL_FRAG, MASK_NW_TOS | MASK_NW_TTL],
  ],
  ipv6: [
    [W_NW_SRC, 0xffffffff],
    [W_NW_SRC + 1, 0xffffffff],
    [W_NW_SRC + 2, 0xffffffff],
    [W_NW_SRC + 3, 0xffffffff],
    [W_NW_DST, 0xffffffff],
    [W_NW_DST + 1, 0xffffffff],
    [W_NW_DST + 2, 0xffffffff],
    [W_NW_DST + 3, 0xffffffff],
    [W_IPV6_LABEL, 0xfffff],
    [W_NW_PROTO_TOS_TTL_FRAG, MASK_NW_TOS | MASK_NW_TTL],
  ],
  tcp: [[W_TP_PORTS, 0xffffffff]],
  udp: [[W_TP_PORTS, 0xffffffff]],
  sctp: [[W_TP_PORTS, 0xffffffff]],
  icmp: [[W_TP_PORTS, 0x00ff00ff]],
  icmpv6: [[W_TP_PORTS, 0x00ff00ff]],
  arp: [
    [W_NW_SRC, 0xffffffff],
    [W_NW_DST, 0xffffffff],
    [W_NW_PROTO_TOS_TTL_FRAG, MASK_NW_PROTO],
    [W_ARP_SHA_HI, 0xffff],
    [W_ARP_SHA_LO, 0xffffffff],
    [W_ARP_THA_HI, 0xffff],
    [W_ARP_THA_LO, 0xffffffff],
  ],
  nd: [
    [W_ND_TARGET, 0xffffffff],
    [W_ND_TARGET + 1, 0xffffffff],
    [W_ND_TARGET + 2, 0xffffffff],
    [W_ND_TARGET + 3, 0xffffffff],
    [W_ARP_SHA_HI, 0xffff],
    [W_ARP_SHA_LO, 0xffffffff],
    [W_ARP_THA_HI, 0xffff],
    [W_ARP_THA_LO, 0xffffffff],
  ],
  mpls: [[W_MPLS0, 0xffffffff]],
};

const SET_OPCODE: Readonly<Record<SetAttr, number>> = {
  eth: OP_SET_ETH,
  ipv4: OP_SET_IPV4,
  ipv6: OP_SET_IPV6,
  tcp: OP_SET_TCP,
  udp: OP_SET_UDP,
  sctp: OP_SET_SCTP,
  icmp: OP_SET_ICMP,
  icmpv6: OP_SET_ICMPV6,
  arp: OP_SET_ARP,
  nd: OP_SET_ND,
  mpls: OP_SET_MPLS,
};

const isU32 = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff;

/** Compile and validate `actions`; throws ActionError (with a stable code) on the first bad action. */
export function compileActions(actions: readonly DpAction[], options: CompileOptions = {}): ActionProgram {
  const out: number[] = [];
  const cookies: (Uint8Array | null)[] = [];
  const portOk = options.isValidPort ?? ((p: number) => p !== 0xffffffff);
  const depth = emitList(actions, '', 0, out, cookies, portOk);
  return { code: Uint32Array.from(out), cookies, depth, source: actions };
}

function emitList(
  actions: readonly DpAction[],
  prefix: string,
  depth: number,
  out: number[],
  cookies: (Uint8Array | null)[],
  portOk: (p: number) => boolean,
): number {
  if (!Array.isArray(actions)) throw new ActionError('DP_ACTION_BAD_ARGUMENT', 'action list is not an array', prefix || '.');
  let deepest = depth;
  for (let i = 0; i < actions.length; i++) {
    const a = actions[i];
    const path = prefix + i;
    switch (a?.type) {
      case 'output':
        if (!isU32(a.port) || !portOk(a.port)) throw new ActionError('DP_ACTION_BAD_PORT', `output: ${String(a.port)}: no such datapath port`, path);
        out.push(OP_OUTPUT, a.port);
        break;
      case 'userspace': {
        if (!isU32(a.pid)) throw new ActionError('DP_ACTION_BAD_ARGUMENT', `userspace: pid ${String(a.pid)} is not a u32`, path);
        let idx = NO_COOKIE;
        if (a.cookie !== undefined) {
          if (!(a.cookie instanceof Uint8Array)) throw new ActionError('DP_ACTION_BAD_ARGUMENT', 'userspace: cookie must be bytes', path);
          idx = cookies.length;
          cookies.push(Uint8Array.from(a.cookie));
        }
        out.push(OP_USERSPACE, a.pid, idx);
        break;
      }
      case 'set':
      case 'set_masked':
        emitSet(a.attr, a.key, a.type === 'set_masked' ? a.mask : null, path, out);
        break;
      case 'push_vlan':
        if (a.tpid !== ETH_TYPE_VLAN && a.tpid !== ETH_TYPE_QINQ)
          throw new ActionError('DP_ACTION_BAD_VLAN', `push_vlan: tpid ${String(a.tpid)} is not 0x8100 or 0x88a8`, path);
        if (!isU32(a.tci) || a.tci > 0xffff || !(a.tci & VLAN_CFI))
          throw new ActionError('DP_ACTION_BAD_VLAN', `push_vlan: tci ${String(a.tci)} must be 16 bits with the CFI (tag present) bit set`, path);
        out.push(OP_PUSH_VLAN, a.tpid, a.tci);
        break;
      case 'pop_vlan':
        out.push(OP_POP_VLAN);
        break;
      case 'push_mpls':
        if (a.ethertype !== ETH_TYPE_MPLS && a.ethertype !== ETH_TYPE_MPLS_MCAST)
          throw new ActionError('DP_ACTION_BAD_ETHERTYPE', `push_mpls: ethertype ${String(a.ethertype)} is not an MPLS type`, path);
        if (!isU32(a.lse)) throw new ActionError('DP_ACTION_BAD_ARGUMENT', `push_mpls: lse ${String(a.lse)} is not a u32`, path);
        out.push(OP_PUSH_MPLS, a.lse, a.ethertype);
        break;
      case 'pop_mpls':
        if (!isU32(a.ethertype) || a.ethertype > 0xffff || a.ethertype < 0x600)
          throw new ActionError('DP_ACTION_BAD_ETHERTYPE', `pop_mpls: ethertype ${String(a.ethertype)} is not an ethertype`, path);
        out.push(OP_POP_MPLS, a.ethertype);
        break;
      case 'push_pbb':
        if (!isU32(a.itag)) throw new ActionError('DP_ACTION_BAD_ARGUMENT', `push_pbb: itag ${String(a.itag)} is not a u32`, path);
        out.push(OP_PUSH_PBB, a.itag);
        break;
      case 'pop_pbb':
        out.push(OP_POP_PBB);
        break;
      case 'copy_ttl_in':
        out.push(OP_COPY_TTL_IN);
        break;
      case 'set_eth_type':
        if (!isU32(a.ethertype) || a.ethertype > 0xffff || a.ethertype < 0x600)
          throw new ActionError('DP_ACTION_BAD_ETHERTYPE', `set_eth_type: ${String(a.ethertype)} is not an ethertype`, path);
        out.push(OP_SET_ETH_TYPE, a.ethertype);
        break;
      case 'truncate':
        // Same lower bound as the Linux datapath: at least an Ethernet header.
        if (!isU32(a.maxLen) || a.maxLen < 14)
          throw new ActionError('DP_ACTION_BAD_ARGUMENT', `truncate: max_len ${String(a.maxLen)} is below 14 bytes`, path);
        out.push(OP_TRUNC, a.maxLen);
        break;
      case 'meter':
        if (!isU32(a.id)) throw new ActionError('DP_ACTION_BAD_ARGUMENT', `meter: id ${String(a.id)} is not a u32`, path);
        out.push(OP_METER, a.id);
        break;
      case 'sample':
      case 'clone':
      case 'dec_ttl': {
        if (depth + 1 > MAX_NESTING)
          throw new ActionError('DP_ACTION_TOO_DEEP', `${a.type}: nested more than ${MAX_NESTING} levels`, path);
        if (a.type === 'sample') {
          if (!isU32(a.probability)) throw new ActionError('DP_ACTION_BAD_ARGUMENT', `sample: probability ${String(a.probability)} is not a u32 fraction`, path);
          out.push(OP_SAMPLE, a.probability, 0);
        } else {
          out.push(a.type === 'clone' ? OP_CLONE : OP_DEC_TTL, 0);
        }
        const lenAt = out.length - 1;
        const d = emitList(a.actions, path + '.actions.', depth + 1, out, cookies, portOk);
        out[lenAt] = out.length - lenAt - 1;
        if (d > deepest) deepest = d;
        break;
      }
      default:
        throw new ActionError('DP_ACTION_BAD_TYPE', `unknown action type ${JSON.stringify((a as { type?: unknown })?.type)}`, path);
    }
  }
  return deepest;
}

function emitSet(attr: SetAttr, key: Uint32Array, mask: Uint32Array | null, path: string, out: number[]): void {
  const writable = SET_WRITABLE[attr];
  if (writable === undefined || !Object.prototype.hasOwnProperty.call(SET_WRITABLE, attr))
    throw new ActionError('DP_ACTION_BAD_FIELD', `set: ${String(attr)} is not a settable key attribute`, path);
  if (!(key instanceof Uint32Array) || key.length !== KEY_WORDS)
    throw new ActionError('DP_ACTION_BAD_KEY', `set(${attr}): value must be a Uint32Array of ${KEY_WORDS} words`, path);
  if (mask !== null) {
    if (!(mask instanceof Uint32Array) || mask.length !== KEY_WORDS)
      throw new ActionError('DP_ACTION_BAD_KEY', `set(${attr}): mask must be a Uint32Array of ${KEY_WORDS} words`, path);
    for (let w = 0; w < KEY_WORDS; w++) {
      if (mask[w] === 0) continue;
      let allowed = 0;
      for (const [word, m] of writable) if (word === w) allowed |= m;
      for (const [word, m] of MASKED_ONLY_WRITABLE[attr] ?? []) if (word === w) allowed |= m;
      if ((mask[w] & ~allowed) !== 0)
        throw new ActionError('DP_ACTION_BAD_MASK', `set(${attr}): mask word ${w} (0x${mask[w].toString(16)}) covers bits that ${attr} cannot write`, path);
    }
  }
  const m = (word: number, bits: number): number => (mask === null ? bits : mask[word] & bits) >>> 0;
  const v = (word: number, bits: number): number => (key[word] & m(word, bits)) >>> 0;
  const pair = (word: number, bits: number, shift = 0, width = 32): void => {
    const fm = width === 32 ? 0xffffffff : (1 << width) - 1;
    out.push((v(word, bits) >>> shift) & fm, (m(word, bits) >>> shift) & fm);
  };
  out.push(SET_OPCODE[attr]);
  switch (attr) {
    case 'eth':
      pair(W_ETH_DST_HI, 0xffff);
      pair(W_ETH_DST_LO, 0xffffffff);
      pair(W_ETH_SRC_HI, 0xffff);
      pair(W_ETH_SRC_LO, 0xffffffff);
      break;
    case 'ipv4':
      pair(W_NW_SRC, 0xffffffff);
      pair(W_NW_DST, 0xffffffff);
      pair(W_NW_PROTO_TOS_TTL_FRAG, MASK_NW_TOS, 16, 8);
      pair(W_NW_PROTO_TOS_TTL_FRAG, MASK_NW_TTL, 8, 8);
      if (mask === null) out.push(0, 0);
      else pair(W_NW_PROTO_TOS_TTL_FRAG, MASK_NW_PROTO, 24, 8);
      break;
    case 'ipv6':
      for (let k = 0; k < 4; k++) pair(W_NW_SRC + k, 0xffffffff);
      for (let k = 0; k < 4; k++) pair(W_NW_DST + k, 0xffffffff);
      pair(W_IPV6_LABEL, 0xfffff);
      pair(W_NW_PROTO_TOS_TTL_FRAG, MASK_NW_TOS, 16, 8);
      pair(W_NW_PROTO_TOS_TTL_FRAG, MASK_NW_TTL, 8, 8);
      if (mask === null) out.push(0, 0);
      else pair(W_NW_PROTO_TOS_TTL_FRAG, MASK_NW_PROTO, 24, 8);
      break;
    case 'tcp':
    case 'udp':
    case 'sctp':
      pair(W_TP_PORTS, 0xffffffff);
      break;
    case 'icmp':
    case 'icmpv6': {
      // Key: type<<16|code; program: the wire's 16-bit type<<8|code word.
      const tv = v(W_TP_PORTS, 0x00ff00ff);
      const tm = m(W_TP_PORTS, 0x00ff00ff);
      out.push(((tv >>> 8) & 0xff00) | (tv & 0xff), ((tm >>> 8) & 0xff00) | (tm & 0xff));
      break;
    }
    case 'arp':
      pair(W_NW_SRC, 0xffffffff);
      pair(W_NW_DST, 0xffffffff);
      pair(W_NW_PROTO_TOS_TTL_FRAG, MASK_NW_PROTO, 24, 8);
      pair(W_ARP_SHA_HI, 0xffff);
      pair(W_ARP_SHA_LO, 0xffffffff);
      pair(W_ARP_THA_HI, 0xffff);
      pair(W_ARP_THA_LO, 0xffffffff);
      break;
    case 'nd':
      for (let k = 0; k < 4; k++) pair(W_ND_TARGET + k, 0xffffffff);
      pair(W_ARP_SHA_HI, 0xffff);
      pair(W_ARP_SHA_LO, 0xffffffff);
      pair(W_ARP_THA_HI, 0xffff);
      pair(W_ARP_THA_LO, 0xffffffff);
      break;
    case 'mpls':
      pair(W_MPLS0, 0xffffffff);
      break;
  }
}
