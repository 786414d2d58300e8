// Compiles a megaflow's masked key into a classic BPF match: a fragment that
// falls through when a frame (bytes from its Ethernet header) matches and
// jumps to FAIL otherwise, or the reason it cannot. The one rule: the
// fragment may match FEWER frames than the megaflow, never more. A frame it
// rejects simply stays in user space and hits the megaflow there; a frame it
// accepted wrongly would be forwarded by the kernel with the wrong actions.
// So every header the key looks at gets the same sanity checks extract.ts
// applies (a frame failing them has zeros there in user space), frames must
// be untagged (no tag in the bytes nor in skb metadata), IPv4 must have IHL 5,
// IPv6 no extension headers, and a masked field the compiler cannot read
// refuses the whole flow.

import {
  ETH_TYPE_ARP,
  ETH_TYPE_IPV4,
  ETH_TYPE_IPV6,
  ETH_TYPE_MPLS,
  ETH_TYPE_MPLS_MCAST,
  ETH_TYPE_PBB,
  ETH_TYPE_QINQ,
  ETH_TYPE_VLAN,
  FRAG_ANY,
  FRAG_LATER,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  KEY_WORDS,
  MASK_IPV6_EXTHDR,
  W_ARP_SHA_HI,
  W_ARP_SHA_LO,
  W_ARP_THA_HI,
  W_ARP_THA_LO,
  W_DP_HASH,
  W_ETH_DST_HI,
  W_ETH_DST_LO,
  W_ETH_SRC_HI,
  W_ETH_SRC_LO,
  W_ETH_TYPE,
  W_IN_PORT,
  W_IPV6_LABEL,
  W_MPLS0,
  W_ND_TARGET,
  W_NW_DST,
  W_NW_PROTO_TOS_TTL_FRAG,
  W_NW_SRC,
  W_RECIRC_ID,
  W_RESERVED0,
  W_RESERVED1,
  W_SKB_MARK,
  W_TCP_FLAGS,
  W_TP_PORTS,
  W_VLAN0,
  SHIFT_IPV6_EXTHDR,
} from '../flow/key.js';
import {
  BPF_ABS,
  BPF_ALU,
  BPF_AND,
  BPF_B,
  BPF_H,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JMP,
  BPF_JSET,
  BPF_K,
  BPF_LD,
  BPF_LEN,
  BPF_LSH,
  BPF_MISC,
  BPF_ADD,
  BPF_RET,
  BPF_RSH,
  BPF_SUB,
  BPF_TAX,
  BPF_W,
  BPF_X,
  SKF_AD_OFF,
  SKF_AD_VLAN_TAG_PRESENT,
  type CbpfInsn,
} from './cbpf.js';

/** Jump target placeholder in a fragment: "the frame does not match". */
export const FAIL = 0x100;
/** Longest fragment: every jump to its end must fit in 8 bits. */
export const MAX_FRAGMENT = 250;

export type MatchResult = { ok: true; insns: CbpfInsn[] } | { ok: false; reason: string };

const MAX_L2_PADDING = 255;
const IPV6_EXT_HEADERS = new Set([0, 43, 44, 51, 60]);
// OFPIEH_* flags extract.ts sets for a packet without extension headers whose next header is ESP / No Next Header.
const EXTHDR_NOEXT = 1 << 0;
const EXTHDR_ESP = 1 << 1;

class Emitter {
  readonly insns: CbpfInsn[] = [];
  emit(code: number, jt: number, jf: number, k: number): void {
    this.insns.push({ code, jt, jf, k: k >>> 0 });
  }
  /** A = frame[off .. off+size) (network order). */
  ld(size: 1 | 2 | 4, off: number): void {
    this.emit(BPF_LD | (size === 4 ? BPF_W : size === 2 ? BPF_H : BPF_B) | BPF_ABS, 0, 0, off);
  }
  /** Fail unless (A & mask) == value; `width` is the loaded field's all-ones mask. */
  expect(mask: number, value: number, width: number): void {
    if ((mask & width) >>> 0 !== width >>> 0) this.emit(BPF_ALU | BPF_AND | BPF_K, 0, 0, mask);
    this.emit(BPF_JMP | BPF_JEQ | BPF_K, 0, FAIL, value);
  }
  /** Load a field and compare it under its mask (nothing emitted for a zero mask). */
  field(size: 1 | 2 | 4, off: number, mask: number, value: number): void {
    const width = size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
    mask = (mask & width) >>> 0;
    if (mask === 0) return;
    this.ld(size, off);
    this.expect(mask, (value & mask) >>> 0, width);
  }
  failIfGe(k: number): void {
    this.emit(BPF_JMP | BPF_JGE | BPF_K, FAIL, 0, k);
  }
  failUnlessGe(k: number): void {
    this.emit(BPF_JMP | BPF_JGE | BPF_K, 0, FAIL, k);
  }
  failIfGt(k: number): void {
    this.emit(BPF_JMP | BPF_JGT | BPF_K, FAIL, 0, k);
  }
  failIfSet(bits: number): void {
    this.emit(BPF_JMP | BPF_JSET | BPF_K, FAIL, 0, bits);
  }
  alu(op: number, k: number): void {
    this.emit(BPF_ALU | op | BPF_K, 0, 0, k);
  }
  tax(): void {
    this.emit(BPF_MISC | BPF_TAX, 0, 0, 0);
  }
  ldLen(): void {
    this.emit(BPF_LD | BPF_W | BPF_LEN, 0, 0, 0);
  }
  /** Fail unless A >= X. */
  failUnlessGeX(): void {
    this.emit(BPF_JMP | BPF_JGE | BPF_X, 0, FAIL, 0);
  }
  /**
   * The L3 length sanity of extract.ts: l3Off + l3Len <= frame length and at
   * most MAX_L2_PADDING bytes after it. Expects A = l3Len.
   */
  l3Length(l3Off: number): void {
    this.alu(BPF_ADD, l3Off);
    this.tax();
    this.ldLen();
    this.failUnlessGeX();
    this.emit(BPF_ALU | BPF_SUB | BPF_X, 0, 0, 0);
    this.failIfGt(MAX_L2_PADDING);
  }
}

/**
 * Compile key/mask (a megaflow's masked key, datapath/flow/key.ts layout) into
 * a match fragment. The in_port is matched by where the fragment is attached,
 * so it must be exact in the mask.
 */
export function compileMatch(key: Uint32Array, mask: Uint32Array): MatchResult {
  if (key.length !== KEY_WORDS || mask.length !== KEY_WORDS) return { ok: false, reason: 'bad key length' };
  const k = (w: number) => (key[w] & mask[w]) >>> 0;
  const m = (w: number) => mask[w] >>> 0;
  const done = new Uint8Array(KEY_WORDS);
  /** A word user space leaves zero for every frame this fragment accepts: only key 0 can match it. */
  const zero = (w: number, what: string): string | null => {
    done[w] = 1;
    return k(w) === 0 ? null : `${what} can never match an offloaded frame`;
  };
  const refuse = (reason: string): MatchResult => ({ ok: false, reason });

  if (m(W_IN_PORT) !== 0xffffffff) return refuse('in_port is not exact');
  done[W_IN_PORT] = 1;
  for (const [w, name] of [
    [W_RECIRC_ID, 'recirc_id'],
    [W_SKB_MARK, 'skb_mark'],
    [W_DP_HASH, 'dp_hash'],
    [W_RESERVED0, 'ct/tunnel metadata'],
    [W_RESERVED1, 'ct/tunnel metadata'],
  ] as const) {
    const r = zero(w, name);
    if (r) return refuse(r);
  }

  const e = new Emitter();
  // Untagged frames only: no tag left in skb metadata by VLAN acceleration, no 802.1Q/802.1ad TPID at 12.
  e.emit(BPF_LD | BPF_W | BPF_ABS, 0, 0, SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT);
  e.emit(BPF_JMP | BPF_JEQ | BPF_K, 0, FAIL, 0);
  e.ld(2, 12);
  e.emit(BPF_JMP | BPF_JEQ | BPF_K, FAIL, 0, ETH_TYPE_VLAN);
  e.emit(BPF_JMP | BPF_JEQ | BPF_K, FAIL, 0, ETH_TYPE_QINQ);
  for (const w of [W_VLAN0, W_VLAN0 + 1]) {
    const r = zero(w, 'a VLAN tag');
    if (r) return refuse(r);
  }

  e.field(2, 0, m(W_ETH_DST_HI), k(W_ETH_DST_HI));
  e.field(4, 2, m(W_ETH_DST_LO), k(W_ETH_DST_LO));
  e.field(2, 6, m(W_ETH_SRC_HI), k(W_ETH_SRC_HI));
  e.field(4, 8, m(W_ETH_SRC_LO), k(W_ETH_SRC_LO));
  done[W_ETH_DST_HI] = done[W_ETH_DST_LO] = done[W_ETH_SRC_HI] = done[W_ETH_SRC_LO] = 1;

  // Everything past L2 needs a known ethertype.
  let beyondL2 = false;
  for (let w = W_MPLS0; w < KEY_WORDS; w++) if (w !== W_RESERVED0 && w !== W_RESERVED1 && m(w) !== 0) beyondL2 = true;
  const typeMask = m(W_ETH_TYPE) & 0xffff;
  const type = k(W_ETH_TYPE) & 0xffff;
  done[W_ETH_TYPE] = 1;
  if (typeMask !== 0) {
    if (typeMask !== 0xffff) return refuse('eth_type is partially masked');
    if (type < 0x600) return refuse('802.3 frames (eth_type without a type field)');
    if (type === ETH_TYPE_VLAN || type === ETH_TYPE_QINQ) return refuse('a VLAN tag');
    e.field(2, 12, 0xffff, type);
  } else if (beyondL2) {
    return refuse('L3 fields without an exact eth_type');
  }
  if (!beyondL2) return finish(e, done, mask);

  if (type === ETH_TYPE_MPLS || type === ETH_TYPE_MPLS_MCAST || type === ETH_TYPE_PBB) return refuse('MPLS/PBB');
  for (const w of [W_MPLS0, W_MPLS0 + 1, W_MPLS0 + 2]) {
    const r = zero(w, 'an MPLS label');
    if (r) return refuse(r);
  }
  let r: string | null;
  if (type === ETH_TYPE_IPV4) r = ipv4(e, k, m, done, zero);
  else if (type === ETH_TYPE_IPV6) r = ipv6(e, k, m, done, zero);
  else if (type === ETH_TYPE_ARP) r = arp(e, k, m, done, zero);
  else {
    r = null;
    for (let w = W_NW_SRC; w < KEY_WORDS && r === null; w++) if (!done[w]) r = zero(w, 'an L3 field of this eth_type');
  }
  if (r !== null) return refuse(r);
  return finish(e, done, mask);
}

type Get = (w: number) => number;
type Zero = (w: number, what: string) => string | null;

function finish(e: Emitter, done: Uint8Array, mask: Uint32Array): MatchResult {
  for (let w = 0; w < KEY_WORDS; w++) if (!done[w] && mask[w] !== 0) return { ok: false, reason: `key word ${w} cannot be offloaded` };
  if (e.insns.length > MAX_FRAGMENT) return { ok: false, reason: 'match too long' };
  return { ok: true, insns: e.insns };
}

function zeroAll(ws: number[], what: string, zero: Zero): string | null {
  for (const w of ws) {
    const r = zero(w, what);
    if (r) return r;
  }
  return null;
}

/** IPv4 (IHL 5 only; ipv4_sanity_check's length rules), then its L4 header at 34. */
function ipv4(e: Emitter, k: Get, m: Get, done: Uint8Array, zero: Zero): string | null {
  const r = zeroAll(
    [W_NW_SRC + 1, W_NW_SRC + 2, W_NW_SRC + 3, W_NW_DST + 1, W_NW_DST + 2, W_NW_DST + 3, W_IPV6_LABEL, W_ARP_SHA_HI, W_ARP_SHA_LO, W_ARP_THA_HI, W_ARP_THA_LO, W_ND_TARGET, W_ND_TARGET + 1, W_ND_TARGET + 2, W_ND_TARGET + 3],
    'a field IPv4 does not have',
    zero,
  );
  if (r) return r;
  const pm = m(W_NW_PROTO_TOS_TTL_FRAG);
  const pk = k(W_NW_PROTO_TOS_TTL_FRAG);
  const l4 = m(W_TP_PORTS) !== 0 || m(W_TCP_FLAGS) !== 0;
  done[W_NW_SRC] = done[W_NW_DST] = done[W_NW_PROTO_TOS_TTL_FRAG] = 1;
  if (m(W_NW_SRC) === 0 && m(W_NW_DST) === 0 && pm === 0 && !l4) return null;
  // Sanity: IHL 5, 20 <= tot_len, 14 + tot_len <= frame length <= 14 + tot_len + 255.
  e.ld(1, 14);
  e.expect(0x0f, 5, 0xff);
  e.ld(2, 16);
  e.failUnlessGe(20);
  e.l3Length(14);
  e.field(4, 26, m(W_NW_SRC), k(W_NW_SRC));
  e.field(4, 30, m(W_NW_DST), k(W_NW_DST));
  e.field(1, 23, pm >>> 24, pk >>> 24);
  e.field(1, 15, (pm >>> 16) & 0xff, (pk >>> 16) & 0xff);
  e.field(1, 22, (pm >>> 8) & 0xff, (pk >>> 8) & 0xff);
  // Bits of nw_frag beyond ANY/LATER are always 0 in user space.
  const fragMask = pm & (FRAG_ANY | FRAG_LATER);
  const frag = pk & 0xff;
  if (frag !== 0) return 'fragments';
  if (fragMask !== 0) {
    e.ld(2, 20);
    e.failIfSet(fragMask & FRAG_ANY ? 0x3fff : 0x1fff);
  }
  if (!l4) {
    done[W_TP_PORTS] = done[W_TCP_FLAGS] = 1;
    return null;
  }
  if (pm >>> 24 !== 0xff) return 'L4 fields without an exact nw_proto';
  // A later fragment has no L4 header (user space: zeros).
  e.ld(2, 20);
  e.failIfSet(0x1fff);
  return l4Fields(e, k, m, done, zero, pk >>> 24, 34, 16, 20, IPPROTO_ICMP);
}

/**
 * The L4 header at `l4Off` of a packet whose L3 length field (16 bits at
 * `lenOff`, minus `lenBias` bytes of L3 header) bounds the L4 bytes, as extractL4 checks.
 */
function l4Fields(
  e: Emitter,
  k: Get,
  m: Get,
  done: Uint8Array,
  zero: Zero,
  proto: number,
  l4Off: number,
  lenOff: number,
  lenBias: number,
  icmp: number,
): string | null {
  done[W_TP_PORTS] = done[W_TCP_FLAGS] = 1;
  const pm = m(W_TP_PORTS);
  const pk = k(W_TP_PORTS);
  if (proto === IPPROTO_TCP) {
    e.ld(2, lenOff);
    e.failUnlessGe(lenBias + 20);
    e.ld(1, l4Off + 12);
    e.alu(BPF_RSH, 4);
    e.failUnlessGe(5);
    e.alu(BPF_LSH, 2);
    e.alu(BPF_ADD, lenBias);
    e.tax();
    e.ld(2, lenOff);
    e.failUnlessGeX();
    e.field(4, l4Off, pm, pk);
    e.field(2, l4Off + 12, m(W_TCP_FLAGS) & 0x0fff, k(W_TCP_FLAGS));
    if ((k(W_TCP_FLAGS) & ~0x0fff) !== 0) return 'tcp_flags beyond 12 bits';
    return null;
  }
  const r = zero(W_TCP_FLAGS, 'tcp_flags of a non-TCP packet');
  if (r) return r;
  if (proto === IPPROTO_UDP || proto === IPPROTO_SCTP) {
    e.ld(2, lenOff);
    e.failUnlessGe(lenBias + (proto === IPPROTO_UDP ? 8 : 12));
    e.field(4, l4Off, pm, pk);
    return null;
  }
  if (proto === icmp) {
    // tp_src = type, tp_dst = code (16-bit halves of the word, one byte each on the wire).
    if (pk >>> 16 > 0xff || (pk & 0xffff) > 0xff) return 'ICMP type/code beyond 8 bits';
    e.ld(2, lenOff);
    e.failUnlessGe(lenBias + (icmp === IPPROTO_ICMP ? 8 : 4));
    e.field(1, l4Off, (pm >>> 16) & 0xff, pk >>> 16);
    e.field(1, l4Off + 1, pm & 0xff, pk & 0xff);
    return null;
  }
  return zero(W_TP_PORTS, 'L4 ports of this nw_proto');
}

/** IPv6 without extension headers (nw_proto must be exact when anything past the addresses and label is matched). */
function ipv6(e: Emitter, k: Get, m: Get, done: Uint8Array, zero: Zero): string | null {
  done[W_IPV6_LABEL] = done[W_NW_PROTO_TOS_TTL_FRAG] = 1;
  for (let i = 0; i < 4; i++) done[W_NW_SRC + i] = done[W_NW_DST + i] = 1;
  const pm = m(W_NW_PROTO_TOS_TTL_FRAG);
  const pk = k(W_NW_PROTO_TOS_TTL_FRAG);
  const lm = m(W_IPV6_LABEL);
  const lk = k(W_IPV6_LABEL);
  const l4 = m(W_TP_PORTS) !== 0 || m(W_TCP_FLAGS) !== 0;
  const proto = pk >>> 24;
  const needProto = pm !== 0 || (lm & MASK_IPV6_EXTHDR) !== 0 || l4;
  if (needProto) {
    if (pm >>> 24 !== 0xff) return 'IPv6 tos/ttl/frag/exthdr/L4 fields without an exact nw_proto';
    if (IPV6_EXT_HEADERS.has(proto)) return 'IPv6 extension headers';
    if ((pk & 0xff) !== 0) return 'fragments';
    const ext = proto === 50 ? EXTHDR_ESP : proto === 59 ? EXTHDR_NOEXT : 0;
    if ((((ext << SHIFT_IPV6_EXTHDR) & lm) >>> 0) !== ((lk & MASK_IPV6_EXTHDR) >>> 0)) return 'ipv6 exthdr flags that cannot match';
  }
  const nd = [W_ARP_SHA_HI, W_ARP_SHA_LO, W_ARP_THA_HI, W_ARP_THA_LO, W_ND_TARGET, W_ND_TARGET + 1, W_ND_TARGET + 2, W_ND_TARGET + 3];
  if (nd.some((w) => m(w) !== 0)) {
    if (!needProto || proto === IPPROTO_ICMPV6) return 'neighbour discovery fields';
    const r = zeroAll(nd, 'ND fields of a non-ICMPv6 packet', zero);
    if (r) return r;
  }
  for (const w of nd) done[w] = 1;
  let any = needProto || (lm & 0xfffff) !== 0;
  for (let i = 0; i < 4; i++) if (m(W_NW_SRC + i) !== 0 || m(W_NW_DST + i) !== 0) any = true;
  if (!any) {
    done[W_TP_PORTS] = done[W_TCP_FLAGS] = 1;
    return null;
  }
  // Sanity: 54 + payload_len <= frame length <= 54 + payload_len + 255.
  e.ld(2, 18);
  e.l3Length(54);
  for (let i = 0; i < 4; i++) {
    e.field(4, 22 + 4 * i, m(W_NW_SRC + i), k(W_NW_SRC + i));
    e.field(4, 38 + 4 * i, m(W_NW_DST + i), k(W_NW_DST + i));
  }
  if ((lm & 0xfffff) !== 0) e.field(4, 14, lm & 0xfffff, lk & 0xfffff);
  if (!needProto) {
    done[W_TP_PORTS] = done[W_TCP_FLAGS] = 1;
    return null;
  }
  e.field(1, 20, 0xff, proto);
  const tm = (pm >>> 16) & 0xff;
  if (tm !== 0) {
    e.ld(4, 14);
    e.alu(BPF_RSH, 20);
    e.expect(tm, (pk >>> 16) & tm, 0xfff);
  }
  e.field(1, 21, (pm >>> 8) & 0xff, (pk >>> 8) & 0xff);
  if (!l4) {
    done[W_TP_PORTS] = done[W_TCP_FLAGS] = 1;
    return null;
  }
  return l4Fields(e, k, m, done, zero, proto, 54, 18, 0, IPPROTO_ICMPV6);
}

/** Ethernet/IPv4 ARP (RFC 826) as extractArp reads it. */
function arp(e: Emitter, k: Get, m: Get, done: Uint8Array, zero: Zero): string | null {
  const r = zeroAll(
    [W_NW_SRC + 1, W_NW_SRC + 2, W_NW_SRC + 3, W_NW_DST + 1, W_NW_DST + 2, W_NW_DST + 3, W_IPV6_LABEL, W_TP_PORTS, W_TCP_FLAGS, W_ND_TARGET, W_ND_TARGET + 1, W_ND_TARGET + 2, W_ND_TARGET + 3],
    'a field ARP does not have',
    zero,
  );
  if (r) return r;
  const pm = m(W_NW_PROTO_TOS_TTL_FRAG);
  const pk = k(W_NW_PROTO_TOS_TTL_FRAG);
  if ((pk & 0x00ffffff) !== 0) return 'ARP tos/ttl/frag can never match';
  const words = [W_NW_SRC, W_NW_DST, W_ARP_SHA_HI, W_ARP_SHA_LO, W_ARP_THA_HI, W_ARP_THA_LO];
  for (const w of words) done[w] = 1;
  done[W_NW_PROTO_TOS_TTL_FRAG] = 1;
  if (!words.some((w) => m(w) !== 0) && pm >>> 24 === 0) return null;
  // htype 1, ptype 0x0800, hlen 6, plen 4, and the 28 bytes present.
  e.ldLen();
  e.failUnlessGe(14 + 28);
  e.field(4, 14, 0xffffffff, 0x00010800);
  e.field(2, 18, 0xffff, 0x0604);
  if (pm >>> 24 !== 0) {
    // nw_proto holds the opcode only when it fits in 8 bits (else 0).
    // An opcode over 255 reads as 0 in user space: leave such frames there.
    e.ld(2, 20);
    e.failIfGt(0xff);
    e.expect(pm >>> 24, pk >>> 24, 0xffff);
  }
  e.field(2, 22, m(W_ARP_SHA_HI), k(W_ARP_SHA_HI));
  e.field(4, 24, m(W_ARP_SHA_LO), k(W_ARP_SHA_LO));
  e.field(4, 28, m(W_NW_SRC), k(W_NW_SRC));
  e.field(2, 32, m(W_ARP_THA_HI), k(W_ARP_THA_HI));
  e.field(4, 34, m(W_ARP_THA_LO), k(W_ARP_THA_LO));
  e.field(4, 38, m(W_NW_DST), k(W_NW_DST));
  return null;
}

/**
 * Resolve FAIL jumps in `frag` to the instruction after it plus `failSkip`
 * (the fragment is placed so that its fall-through is the match path).
 */
export function placeFragment(frag: readonly CbpfInsn[], out: CbpfInsn[], failSkip: number): void {
  const n = frag.length;
  for (let i = 0; i < n; i++) {
    const f = frag[i];
    const toEnd = n - (i + 1) + failSkip;
    out.push({ code: f.code, jt: f.jt === FAIL ? toEnd : f.jt, jf: f.jf === FAIL ? toEnd : f.jf, k: f.k });
  }
}

/** A whole program for a tc cls_bpf filter: non-zero iff the frame matches. */
export function matchProgram(frag: readonly CbpfInsn[]): CbpfInsn[] {
  const out: CbpfInsn[] = [];
  placeFragment(frag, out, 1); // FAIL skips the "match" return
  out.push({ code: BPF_RET | BPF_K, jt: 0, jf: 0, k: 0xffffffff });
  out.push({ code: BPF_RET | BPF_K, jt: 0, jf: 0, k: 0 });
  return out;
}

/**
 * A socket filter that drops (returns 0) every frame one of `frags` matches
 * and passes the rest whole: the offloaded flows of one input port.
 */
export function dropProgram(frags: readonly (readonly CbpfInsn[])[]): CbpfInsn[] {
  const out: CbpfInsn[] = [];
  for (const f of frags) {
    placeFragment(f, out, 1); // FAIL skips this fragment's "drop" and tries the next
    out.push({ code: BPF_RET | BPF_K, jt: 0, jf: 0, k: 0 });
  }
  out.push({ code: BPF_RET | BPF_K, jt: 0, jf: 0, k: 0xffffffff });
  return out;
}
