// The datapath action executor (hot path): runs a compiled ActionProgram on one
// frame of a batch, rewriting headers in place through the layout offsets that
// extraction recorded, keeping checksums (RFC 1624 incremental; CRC32c for
// SCTP), the flow key and the layout in step with every rewrite. Follows OVS's
// odp-execute.c / packets.c semantics. No allocation, no closures, no try.
//
// Copies for clone/sample live in a preallocated scratch area; frame state
// (offset, length, pending truncation, slot bounds) lives in a small stack of
// Int32 words, so a ctx callback that re-enters the executor (a patch port
// delivering synchronously) gets its own slots. ctx callbacks must not throw.

import { extractFlow } from '../flow/extract.js';
import {
  ETH_TYPE_PBB,
  ETH_TYPE_ARP,
  ETH_TYPE_IPV4,
  ETH_TYPE_IPV6,
  ETH_TYPE_QINQ,
  ETH_TYPE_VLAN,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  KEY_WORDS,
  LAYOUT_SLOTS,
  L_ETH_TYPE,
  L_L2_5,
  L_L3,
  L_L4,
  L_L7,
  L_LEN,
  L_VLANS,
  MASK_NW_PROTO,
  MASK_NW_TOS,
  MASK_NW_TTL,
  VLAN_CFI,
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
  W_TP_PORTS,
  W_VLAN0,
  W_VLAN1,
} from '../flow/key.js';
import { HEADROOM, SLOT_FRAME_MAX, type PacketBatch } from '../packet-batch.js';
import { fixCsum16, fixCsum32, fixUdpCsum16, fixUdpCsum32, readSctpCrc, sctpCrc, writeSctpCrc } from './checksum-fix.js';
import {
  MAX_NESTING,
  NO_COOKIE,
  OP_CLONE,
  OP_DEC_TTL,
  OP_OUTPUT,
  OP_POP_MPLS,
  OP_PUSH_PBB,
  OP_POP_PBB,
  OP_SET_ETH_TYPE,
  OP_COPY_TTL_IN,
  OP_POP_VLAN,
  OP_PUSH_MPLS,
  OP_PUSH_VLAN,
  OP_SAMPLE,
  OP_SET_ARP,
  OP_SET_ETH,
  OP_SET_ICMP,
  OP_SET_ICMPV6,
  OP_SET_IPV4,
  OP_SET_IPV6,
  OP_SET_MPLS,
  OP_SET_ND,
  OP_SET_SCTP,
  OP_SET_TCP,
  OP_SET_UDP,
  OP_TRUNC,
  OP_METER,
  OP_USERSPACE,
  type ActionProgram,
} from './compile.js';

/** Counters of what the executor could not do as asked (plain numbers, read by metrics/coverage). */
export class ActionStats {
  /** Set actions skipped: the frame lacks the header or is too short for it. */
  setSkipped = 0;
  /** push_vlan/push_mpls with no room left in the frame's slot. */
  pushFailed = 0;
  /** pop_vlan/pop_mpls on a frame without a tag/label. */
  popSkipped = 0;
  /** clone/sample branches dropped because the scratch area was exhausted. */
  copyDropped = 0;
  /** dec_ttl that found TTL/hop limit <= 1. */
  ttlExpired = 0;
  /** sample branches taken. */
  sampled = 0;
  /** Packets dropped by a meter's drop band. */
  meterDropped = 0;
  /** Packets whose DSCP a meter's dscp_remark band rewrote. */
  meterRemarked = 0;
}

export interface ActionContext {
  /** Transmit buf[off, off+len) on datapath port portNo (the port copies). */
  output(portNo: number, buf: Uint8Array, off: number, len: number): void;
  /** Hand the frame to userspace (upcall); cookie is null when the action has none. */
  userspace(inPort: number, buf: Uint8Array, off: number, len: number, cookie: Uint8Array | null, key: Uint32Array, pid: number): void;
  /**
   * 32 uniformly distributed random bits (injectable for tests); read as u32.
   * Returning them as a signed int32 (e.g. from Math.imul) keeps V8 from boxing.
   */
  random(): number;
  /**
   * meter(id) action: meter one packet of `bytes`; returns 0 (pass), -1 (drop)
   * or 1..3 (raise the DSCP drop precedence by that much). Absent: every packet passes.
   */
  meter?(id: number, bytes: number): number;
  readonly stats: ActionStats;
}

// --- per-frame state stack --------------------------------------------------
const F_OFF = 0;
const F_LEN = 1;
/** Pending truncation for the next output (0 = none). */
const F_TRUNC = 2;
/** Lowest offset the frame may grow down to (its slot start). */
const F_FLOOR = 3;
/** Offset just past the frame's slot. */
const F_CEIL = 4;
const F_STRIDE = 5;
const FS_SLOTS = 4 * (MAX_NESTING + 4);
const fs = new Int32Array(FS_SLOTS * F_STRIDE);
let fsTop = 0;

const SCRATCH_SLOTS = MAX_NESTING + 4;
/** A scratch slot leaves headroom on both sides so a copy can grow either way. */
const SCRATCH_SLOT_BYTES = HEADROOM + SLOT_FRAME_MAX + 2 * HEADROOM;
const scratchArrayBuffer = new ArrayBuffer(SCRATCH_SLOTS * SCRATCH_SLOT_BYTES);
const scratchBuf = Buffer.from(scratchArrayBuffer);
const scratch32 = new Int32Array(scratchArrayBuffer);
// Buffer.copy() of a sub-range allocates a view per call; frames are copied
// into scratch four bytes at a time through Int32Array views instead, with the
// view of the last source ArrayBuffer cached (a new source buffer allocates once).
let srcArrayBuffer: ArrayBufferLike | null = null;
let src32: Int32Array<ArrayBufferLike> = new Int32Array(0);
const scratchKeys: Uint32Array[] = [];
const scratchLayouts: Int32Array[] = [];
for (let s = 0; s < SCRATCH_SLOTS; s++) {
  scratchKeys.push(new Uint32Array(KEY_WORDS));
  scratchLayouts.push(new Int32Array(LAYOUT_SLOTS));
}
let scratchTop = 0;

/**
 * Run `program` on frame i of `batch` whose flow key and layout are `key` and
 * `layout`. The frame is rewritten in place (batch.off[i]/len[i] updated after
 * pushes/pops), key and layout follow every rewrite, so a caller that needs the
 * frame's original key (EMC insert, megaflow stats) must use it first or keep a
 * copy. Returns false when the packet was stopped (dec_ttl expiry) or could not
 * be processed.
 */
export function executeActions(
  batch: PacketBatch,
  i: number,
  key: Uint32Array,
  layout: Int32Array,
  program: ActionProgram,
  ctx: ActionContext,
): boolean {
  const f = fsTop;
  if (f >= FS_SLOTS) {
    ctx.stats.copyDropped++;
    return false;
  }
  fsTop = f + 1;
  const o = f * F_STRIDE;
  const off = batch.off[i];
  const floor = off - batch.headroom(i);
  fs[o + F_OFF] = off;
  fs[o + F_LEN] = batch.len[i];
  fs[o + F_TRUNC] = 0;
  fs[o + F_FLOOR] = floor;
  const ceil = floor + batch.slotBytes;
  fs[o + F_CEIL] = ceil > batch.buf.length ? batch.buf.length : ceil;
  const code = program.code;
  const ok = run(program, code, 0, code.length, batch.buf, o, key, layout, ctx);
  batch.off[i] = fs[o + F_OFF];
  batch.len[i] = fs[o + F_LEN];
  fsTop = f;
  return ok;
}

function run(
  prog: ActionProgram,
  code: Uint32Array,
  pc: number,
  end: number,
  buf: Buffer,
  o: number,
  key: Uint32Array,
  layout: Int32Array,
  ctx: ActionContext,
): boolean {
  while (pc < end) {
    switch (code[pc]) {
      case OP_OUTPUT: {
        let n = fs[o + F_LEN];
        const t = fs[o + F_TRUNC];
        if (t !== 0 && t < n) n = t;
        fs[o + F_TRUNC] = 0;
        ctx.output(code[pc + 1], buf, fs[o + F_OFF], n);
        pc += 2;
        break;
      }
      case OP_USERSPACE: {
        let n = fs[o + F_LEN];
        const t = fs[o + F_TRUNC];
        if (t !== 0 && t < n) n = t;
        fs[o + F_TRUNC] = 0;
        const idx = code[pc + 2];
        ctx.userspace(key[W_IN_PORT], buf, fs[o + F_OFF], n, idx === NO_COOKIE ? null : prog.cookies[idx], key, code[pc + 1]);
        pc += 3;
        break;
      }
      case OP_TRUNC: {
        const m = code[pc + 1];
        fs[o + F_TRUNC] = m > 0x7fffffff ? 0x7fffffff : m;
        pc += 2;
        break;
      }
      case OP_METER: {
        const v = ctx.meter === undefined ? 0 : ctx.meter(code[pc + 1], fs[o + F_LEN]);
        if (v < 0) {
          ctx.stats.meterDropped++;
          return false;
        }
        if (v > 0) remarkDscp(buf, o, key, layout, v, ctx.stats);
        pc += 2;
        break;
      }
      case OP_PUSH_VLAN:
        pushVlan(buf, o, key, layout, code[pc + 1], code[pc + 2], ctx.stats);
        pc += 3;
        break;
      case OP_POP_VLAN:
        popVlan(buf, o, key, layout, ctx.stats);
        pc += 1;
        break;
      case OP_PUSH_MPLS:
        pushMpls(buf, o, key, layout, code[pc + 1] | 0, code[pc + 2], ctx.stats);
        pc += 3;
        break;
      case OP_POP_MPLS:
        popMpls(buf, o, key, layout, code[pc + 1], ctx.stats);
        pc += 2;
        break;
      case OP_PUSH_PBB:
        pushPbb(buf, o, key, layout, code[pc + 1], ctx.stats);
        pc += 2;
        break;
      case OP_POP_PBB:
        popPbb(buf, o, key, layout, ctx.stats);
        pc += 1;
        break;
      case OP_COPY_TTL_IN:
        copyTtlIn(buf, o, layout, ctx.stats);
        pc += 1;
        break;
      case OP_SET_ETH_TYPE:
        setEthType(buf, o, key, layout, code[pc + 1], ctx.stats);
        pc += 2;
        break;
      case OP_DEC_TTL: {
        const body = pc + 2;
        const next = body + code[pc + 1];
        if (!decTtl(buf, o, key, layout)) {
          ctx.stats.ttlExpired++;
          run(prog, code, body, next, buf, o, key, layout, ctx);
          return false;
        }
        pc = next;
        break;
      }
      case OP_SAMPLE: {
        const prob = code[pc + 1];
        const body = pc + 3;
        const next = body + code[pc + 2];
        pc = next;
        if (prob !== 0xffffffff && ctx.random() >>> 0 >= prob) break;
        ctx.stats.sampled++;
        // As the last action the branch may consume the packet itself.
        if (next === end) return run(prog, code, body, next, buf, o, key, layout, ctx);
        runOnCopy(prog, code, body, next, buf, o, key, layout, ctx);
        break;
      }
      case OP_CLONE: {
        const body = pc + 2;
        const next = body + code[pc + 1];
        pc = next;
        if (next === end) return run(prog, code, body, next, buf, o, key, layout, ctx);
        runOnCopy(prog, code, body, next, buf, o, key, layout, ctx);
        break;
      }
      case OP_SET_ETH:
        setEth(code, pc, buf, o, key, ctx.stats);
        pc += 9;
        break;
      case OP_SET_IPV4:
        setIpv4(code, pc, buf, o, key, layout, ctx.stats);
        pc += 11;
        break;
      case OP_SET_IPV6:
        setIpv6(code, pc, buf, o, key, layout, ctx.stats);
        pc += 25;
        break;
      case OP_SET_TCP:
        setPorts(code, pc, buf, o, key, layout, IPPROTO_TCP, ctx.stats);
        pc += 3;
        break;
      case OP_SET_UDP:
        setPorts(code, pc, buf, o, key, layout, IPPROTO_UDP, ctx.stats);
        pc += 3;
        break;
      case OP_SET_SCTP:
        setPorts(code, pc, buf, o, key, layout, IPPROTO_SCTP, ctx.stats);
        pc += 3;
        break;
      case OP_SET_ICMP:
        setIcmp(code, pc, buf, o, key, layout, false, ctx.stats);
        pc += 3;
        break;
      case OP_SET_ICMPV6:
        setIcmp(code, pc, buf, o, key, layout, true, ctx.stats);
        pc += 3;
        break;
      case OP_SET_ARP:
        setArp(code, pc, buf, o, key, layout, ctx.stats);
        pc += 15;
        break;
      case OP_SET_ND:
        setNd(code, pc, buf, o, key, layout, ctx.stats);
        pc += 17;
        break;
      case OP_SET_MPLS:
        setMpls(code, pc, buf, o, key, layout, ctx.stats);
        pc += 3;
        break;
      default:
        // compile() emits nothing else; stop rather than misread arguments.
        return false;
    }
  }
  return true;
}

/** Run code[body, next) on a scratch copy of the frame, key and layout. */
function runOnCopy(
  prog: ActionProgram,
  code: Uint32Array,
  body: number,
  next: number,
  buf: Buffer,
  o: number,
  key: Uint32Array,
  layout: Int32Array,
  ctx: ActionContext,
): void {
  const s = scratchTop;
  const f = fsTop;
  if (s >= SCRATCH_SLOTS || f >= FS_SLOTS) {
    ctx.stats.copyDropped++;
    return;
  }
  scratchTop = s + 1;
  fsTop = f + 1;
  const floor = s * SCRATCH_SLOT_BYTES;
  const len = fs[o + F_LEN];
  const srcOff = fs[o + F_OFF];
  // Same alignment modulo 4 as the source, so the word copy lines up.
  const off = floor + HEADROOM + ((buf.byteOffset + srcOff) & 3);
  copyToScratch(buf, srcOff, len, off);
  const o2 = f * F_STRIDE;
  fs[o2 + F_OFF] = off;
  fs[o2 + F_LEN] = len;
  fs[o2 + F_TRUNC] = fs[o + F_TRUNC];
  fs[o2 + F_FLOOR] = floor;
  fs[o2 + F_CEIL] = floor + SCRATCH_SLOT_BYTES;
  const k2 = scratchKeys[s];
  const l2 = scratchLayouts[s];
  k2.set(key);
  l2.set(layout);
  run(prog, code, body, next, scratchBuf, o2, k2, l2, ctx);
  scratchTop = s;
  fsTop = f;
}

/** Copy buf[srcOff, srcOff+len) to scratchBuf[dstOff...]; dstOff must equal the source's absolute offset modulo 4. */
function copyToScratch(buf: Buffer, srcOff: number, len: number, dstOff: number): void {
  if (buf.buffer !== srcArrayBuffer) {
    srcArrayBuffer = buf.buffer;
    src32 = new Int32Array(buf.buffer, 0, buf.buffer.byteLength >> 2);
  }
  let s = srcOff;
  let d = dstOff;
  let n = len;
  while (n > 0 && ((buf.byteOffset + s) & 3) !== 0) {
    scratchBuf[d++] = buf[s++];
    n--;
  }
  const si = (buf.byteOffset + s) >> 2;
  const di = d >> 2;
  const words = n >> 2;
  for (let k = 0; k < words; k++) scratch32[di + k] = src32[si + k];
  s += words << 2;
  d += words << 2;
  n -= words << 2;
  while (n-- > 0) scratchBuf[d++] = buf[s++];
}

// --- byte helpers ------------------------------------------------------------

function rd32(b: Uint8Array, p: number): number {
  return (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
}

function wr32(b: Uint8Array, p: number, v: number): void {
  b[p] = v >>> 24;
  b[p + 1] = (v >>> 16) & 0xff;
  b[p + 2] = (v >>> 8) & 0xff;
  b[p + 3] = v & 0xff;
}

function masked(old: number, value: number, mask: number): number {
  return (old & ~mask) | (value & mask);
}

/** Add d to every present header offset after the MAC addresses. */
function shiftLayout(layout: Int32Array, d: number): void {
  if (layout[L_L2_5] >= 0) layout[L_L2_5] += d;
  if (layout[L_L3] >= 0) layout[L_L3] += d;
  if (layout[L_L4] >= 0) layout[L_L4] += d;
  if (layout[L_L7] >= 0) layout[L_L7] += d;
  if (layout[L_ETH_TYPE] >= 0) layout[L_ETH_TYPE] += d;
  layout[L_LEN] += d;
}

/**
 * Re-extract key and layout after a structural change whose effect on the key
 * is not a simple shift (MPLS push/pop, a third VLAN tag), keeping the
 * metadata words extraction does not own.
 */
function reextract(buf: Buffer, o: number, key: Uint32Array, layout: Int32Array): void {
  const recirc = key[W_RECIRC_ID];
  const mark = key[W_SKB_MARK];
  const hash = key[W_DP_HASH];
  const r0 = key[W_RESERVED0];
  const r1 = key[W_RESERVED1];
  extractFlow(buf, fs[o + F_OFF], fs[o + F_LEN], key[W_IN_PORT], key, layout);
  key[W_RECIRC_ID] = recirc;
  key[W_SKB_MARK] = mark;
  key[W_DP_HASH] = hash;
  key[W_RESERVED0] = r0;
  key[W_RESERVED1] = r1;
}

/**
 * Open 4 bytes at frame offset `at` by moving buf[off, off+at) down by 4 (or,
 * without headroom, the rest of the frame up). Returns false when the slot is full.
 */
function grow4(buf: Buffer, o: number, at: number): boolean {
  const off = fs[o + F_OFF];
  const len = fs[o + F_LEN];
  if (off - 4 >= fs[o + F_FLOOR]) {
    buf.copyWithin(off - 4, off, off + at);
    fs[o + F_OFF] = off - 4;
  } else if (off + len + 4 <= fs[o + F_CEIL]) {
    buf.copyWithin(off + at + 4, off + at, off + len);
  } else {
    return false;
  }
  fs[o + F_LEN] = len + 4;
  return true;
}

/** Remove 4 bytes at frame offset `at` by moving buf[off, off+at) up by 4. */
function shrink4(buf: Buffer, o: number, at: number): void {
  const off = fs[o + F_OFF];
  buf.copyWithin(off + 4, off, off + at);
  fs[o + F_OFF] = off + 4;
  fs[o + F_LEN] -= 4;
}

// --- push / pop ---------------------------------------------------------------

function pushVlan(buf: Buffer, o: number, key: Uint32Array, layout: Int32Array, tpid: number, tci: number, stats: ActionStats): void {
  if (fs[o + F_LEN] < 14) {
    stats.pushFailed++;
    return;
  }
  if (!grow4(buf, o, 12)) {
    stats.pushFailed++;
    return;
  }
  const p = fs[o + F_OFF] + 12;
  // OVS's eth_push_vlan(): the CFI bit means "present" in the key, 0 on the wire.
  const wireTci = tci & ~VLAN_CFI;
  buf[p] = tpid >>> 8;
  buf[p + 1] = tpid & 0xff;
  buf[p + 2] = wireTci >>> 8;
  buf[p + 3] = wireTci & 0xff;
  const vlans = layout[L_VLANS];
  const et = key[W_ETH_TYPE];
  if (vlans >= 2 || et === ETH_TYPE_VLAN || et === ETH_TYPE_QINQ || layout[L_ETH_TYPE] < 0) {
    reextract(buf, o, key, layout);
    return;
  }
  shiftLayout(layout, 4);
  layout[L_VLANS] = vlans + 1;
  key[W_VLAN1] = vlans === 1 ? key[W_VLAN0] : 0;
  key[W_VLAN0] = (tpid << 16) | tci | VLAN_CFI;
}

function popVlan(buf: Buffer, o: number, key: Uint32Array, layout: Int32Array, stats: ActionStats): void {
  const off = fs[o + F_OFF];
  const t = (buf[off + 12] << 8) | buf[off + 13];
  if (fs[o + F_LEN] < 18 || (t !== ETH_TYPE_VLAN && t !== ETH_TYPE_QINQ)) {
    stats.popSkipped++;
    return;
  }
  shrink4(buf, o, 12);
  const vlans = layout[L_VLANS];
  const et = key[W_ETH_TYPE];
  if (vlans === 0 || et === ETH_TYPE_VLAN || et === ETH_TYPE_QINQ) {
    reextract(buf, o, key, layout);
    return;
  }
  shiftLayout(layout, -4);
  layout[L_VLANS] = vlans - 1;
  key[W_VLAN0] = key[W_VLAN1];
  key[W_VLAN1] = 0;
}

function pushMpls(buf: Buffer, o: number, key: Uint32Array, layout: Int32Array, lse: number, ethertype: number, stats: ActionStats): void {
  const typeAt = layout[L_ETH_TYPE];
  if (typeAt < 0 || typeAt + 2 > fs[o + F_LEN]) {
    stats.pushFailed++;
    return;
  }
  // Like OVS's push_mpls(): the new entry goes on top of an existing stack,
  // else right after the (innermost) ethertype.
  const at = layout[L_L2_5] >= 0 ? layout[L_L2_5] : typeAt + 2;
  if (!grow4(buf, o, at)) {
    stats.pushFailed++;
    return;
  }
  const off = fs[o + F_OFF];
  buf[off + typeAt] = ethertype >>> 8;
  buf[off + typeAt + 1] = ethertype & 0xff;
  wr32(buf, off + at, lse);
  reextract(buf, o, key, layout);
}

function popMpls(buf: Buffer, o: number, key: Uint32Array, layout: Int32Array, ethertype: number, stats: ActionStats): void {
  const at = layout[L_L2_5];
  if (at < 2 || at + 4 > fs[o + F_LEN]) {
    stats.popSkipped++;
    return;
  }
  const off = fs[o + F_OFF];
  const lenBefore = fs[o + F_LEN];
  buf[off + at - 2] = ethertype >>> 8;
  buf[off + at - 1] = ethertype & 0xff;
  shrink4(buf, o, at);
  reextract(buf, o, key, layout);
  keepMinFrame(buf, o, key, layout, lenBefore);
}

/** Ethernet's minimum frame, without the FCS (802.3 clause 4.4.2). */
const ETH_MIN_FRAME_BYTES = 60;

/**
 * A pop that takes a padded minimum-size frame below 60 bytes (its IP packet
 * ends before the frame does): restore the minimum with zero padding, as the
 * NIC would on a real wire (veths do not pad).
 */
function keepMinFrame(buf: Buffer, o: number, key: Uint32Array, layout: Int32Array, lenBefore: number): void {
  const len = fs[o + F_LEN];
  const l3 = layout[L_L3];
  const et = key[W_ETH_TYPE];
  if (len >= ETH_MIN_FRAME_BYTES || lenBefore < ETH_MIN_FRAME_BYTES || l3 < 0 || (et !== ETH_TYPE_IPV4 && et !== ETH_TYPE_IPV6)) return;
  const off = fs[o + F_OFF];
  if (l3End(buf, off, len, l3, et === ETH_TYPE_IPV6) >= len || off + ETH_MIN_FRAME_BYTES > fs[o + F_CEIL]) return;
  buf.fill(0, off + len, off + ETH_MIN_FRAME_BYTES);
  fs[o + F_LEN] = ETH_MIN_FRAME_BYTES;
  layout[L_LEN] = ETH_MIN_FRAME_BYTES;
}

function copyTtlIn(buf: Buffer, o: number, layout: Int32Array, stats: ActionStats): void {
  const at = layout[L_L2_5];
  const len = fs[o + F_LEN];
  const off = fs[o + F_OFF];
  const p = off + at + 4;
  if (at < 0 || at + 4 + 20 > len || (buf[p - 2] & 1) === 0) {
    stats.setSkipped++;
    return;
  }
  const ttl = buf[p - 1];
  const version = buf[p] >>> 4;
  if (version === 4 && at + 4 + 20 <= len) {
    const old = buf[p + 8];
    buf[p + 8] = ttl;
    fixCsum16(buf, p + 10, (old << 8) | buf[p + 9], (ttl << 8) | buf[p + 9]);
  } else if (version === 6 && at + 4 + 40 <= len) {
    buf[p + 7] = ttl;
  } else {
    stats.setSkipped++;
  }
}

function setEthType(buf: Buffer, o: number, key: Uint32Array, layout: Int32Array, ethertype: number, stats: ActionStats): void {
  const at = layout[L_ETH_TYPE];
  if (at < 0 || at + 2 > fs[o + F_LEN]) {
    stats.setSkipped++;
    return;
  }
  const off = fs[o + F_OFF];
  buf[off + at] = ethertype >>> 8;
  buf[off + at + 1] = ethertype & 0xff;
  reextract(buf, o, key, layout);
}

/** Outer Ethernet addresses + ethertype + I-TAG. */
const PBB_HEADER_BYTES = 18;

/** 802.1ah: outer B-DA/B-SA (copies of the frame's addresses), ethertype 0x88e7, the I-TAG, then the whole frame. */
function pushPbb(buf: Buffer, o: number, key: Uint32Array, layout: Int32Array, itag: number, stats: ActionStats): void {
  const len = fs[o + F_LEN];
  if (len < 14) {
    stats.pushFailed++;
    return;
  }
  const off = fs[o + F_OFF];
  let p: number;
  if (off - PBB_HEADER_BYTES >= fs[o + F_FLOOR]) {
    p = off - PBB_HEADER_BYTES;
  } else if (off + len + PBB_HEADER_BYTES <= fs[o + F_CEIL]) {
    buf.copyWithin(off + PBB_HEADER_BYTES, off, off + len);
    p = off;
  } else {
    stats.pushFailed++;
    return;
  }
  buf.copyWithin(p, p + PBB_HEADER_BYTES, p + PBB_HEADER_BYTES + 12);
  buf[p + 12] = ETH_TYPE_PBB >>> 8;
  buf[p + 13] = ETH_TYPE_PBB & 0xff;
  wr32(buf, p + 14, itag);
  fs[o + F_OFF] = p;
  fs[o + F_LEN] = len + PBB_HEADER_BYTES;
  reextract(buf, o, key, layout);
}

/** Drop everything up to and including the I-TAG: the customer frame (C-DA first) remains. */
function popPbb(buf: Buffer, o: number, key: Uint32Array, layout: Int32Array, stats: ActionStats): void {
  const typeAt = layout[L_ETH_TYPE];
  const len = fs[o + F_LEN];
  const off = fs[o + F_OFF];
  if (typeAt < 0 || key[W_ETH_TYPE] !== ETH_TYPE_PBB || typeAt + 6 + 14 > len) {
    stats.popSkipped++;
    return;
  }
  fs[o + F_OFF] = off + typeAt + 6;
  fs[o + F_LEN] = len - typeAt - 6;
  reextract(buf, o, key, layout);
  keepMinFrame(buf, o, key, layout, len);
}

/** Returns false when the TTL/hop limit is already <= 1 (nothing is changed then). */
function decTtl(buf: Buffer, o: number, key: Uint32Array, layout: Int32Array): boolean {
  const l3 = layout[L_L3];
  if (l3 < 0) return true;
  const p = fs[o + F_OFF] + l3;
  const et = key[W_ETH_TYPE];
  if (et === ETH_TYPE_IPV4 && l3 + 20 <= fs[o + F_LEN]) {
    const ttl = buf[p + 8];
    if (ttl <= 1) return false;
    const proto = buf[p + 9];
    buf[p + 8] = ttl - 1;
    fixCsum16(buf, p + 10, (ttl << 8) | proto, ((ttl - 1) << 8) | proto);
    key[W_NW_PROTO_TOS_TTL_FRAG] = (key[W_NW_PROTO_TOS_TTL_FRAG] & ~MASK_NW_TTL) | ((ttl - 1) << 8);
  } else if (et === ETH_TYPE_IPV6 && l3 + 40 <= fs[o + F_LEN]) {
    const hl = buf[p + 7];
    if (hl <= 1) return false;
    buf[p + 7] = hl - 1;
    key[W_NW_PROTO_TOS_TTL_FRAG] = (key[W_NW_PROTO_TOS_TTL_FRAG] & ~MASK_NW_TTL) | ((hl - 1) << 8);
  }
  return true;
}

// --- set ------------------------------------------------------------------------
// Program words are read as `| 0` (int32): a u32 above 2^31 handed to a helper
// that V8 does not inline would otherwise be boxed, i.e. allocated, per packet.

/** Masked write of a MAC (hi 16 / lo 32 bits) at buf[p]. */
function setMac(buf: Buffer, p: number, vHi: number, mHi: number, vLo: number, mLo: number): void {
  const hi = masked((buf[p] << 8) | buf[p + 1], vHi, mHi);
  buf[p] = (hi >>> 8) & 0xff;
  buf[p + 1] = hi & 0xff;
  wr32(buf, p + 2, masked(rd32(buf, p + 2), vLo, mLo));
}

function setEth(code: Uint32Array, pc: number, buf: Buffer, o: number, key: Uint32Array, stats: ActionStats): void {
  if (fs[o + F_LEN] < 12) {
    stats.setSkipped++;
    return;
  }
  const off = fs[o + F_OFF];
  setMac(buf, off, (code[pc + 1] | 0), (code[pc + 2] | 0), (code[pc + 3] | 0), (code[pc + 4] | 0));
  setMac(buf, off + 6, (code[pc + 5] | 0), (code[pc + 6] | 0), (code[pc + 7] | 0), (code[pc + 8] | 0));
  key[W_ETH_DST_HI] = (buf[off] << 8) | buf[off + 1];
  key[W_ETH_DST_LO] = rd32(buf, off + 2);
  key[W_ETH_SRC_HI] = (buf[off + 6] << 8) | buf[off + 7];
  key[W_ETH_SRC_LO] = rd32(buf, off + 8);
}

/**
 * Offset of the L4 checksum covering the IP pseudo-header, or -1; the UDP
 * case is returned as a negative -2 - offset so the caller can keep "0 = none".
 */
function l4CsumAt(off: number, len: number, key: Uint32Array, layout: Int32Array, v6: boolean): number {
  const l4 = layout[L_L4];
  if (l4 < 0) return -1;
  const proto = key[W_NW_PROTO_TOS_TTL_FRAG] >>> 24;
  if (proto === IPPROTO_TCP) return l4 + 18 <= len ? off + l4 + 16 : -1;
  if (proto === IPPROTO_UDP) return l4 + 8 <= len ? -2 - (off + l4 + 6) : -1;
  if (v6 && proto === IPPROTO_ICMPV6) return l4 + 4 <= len ? off + l4 + 2 : -1;
  return -1;
}

function fixL4Csum32(buf: Buffer, ck: number, oldValue: number, newValue: number): void {
  if (ck >= 0) fixCsum32(buf, ck, oldValue, newValue);
  else if (ck < -1) fixUdpCsum32(buf, -2 - ck, oldValue, newValue);
}

function setIpv4(code: Uint32Array, pc: number, buf: Buffer, o: number, key: Uint32Array, layout: Int32Array, stats: ActionStats): void {
  const l3 = layout[L_L3];
  const len = fs[o + F_LEN];
  if (key[W_ETH_TYPE] !== ETH_TYPE_IPV4 || l3 < 0 || l3 + 20 > len) {
    stats.setSkipped++;
    return;
  }
  const off = fs[o + F_OFF];
  const p = off + l3;
  const ck = l4CsumAt(off, len, key, layout, false);
  const oldSrc = rd32(buf, p + 12);
  const newSrc = masked(oldSrc, (code[pc + 1] | 0), (code[pc + 2] | 0));
  if (newSrc !== oldSrc) {
    wr32(buf, p + 12, newSrc);
    fixCsum32(buf, p + 10, oldSrc, newSrc);
    fixL4Csum32(buf, ck, oldSrc, newSrc);
    key[W_NW_SRC] = newSrc;
  }
  const oldDst = rd32(buf, p + 16);
  const newDst = masked(oldDst, (code[pc + 3] | 0), (code[pc + 4] | 0));
  if (newDst !== oldDst) {
    wr32(buf, p + 16, newDst);
    fixCsum32(buf, p + 10, oldDst, newDst);
    fixL4Csum32(buf, ck, oldDst, newDst);
    key[W_NW_DST] = newDst;
  }
  const oldTos = buf[p + 1];
  const newTos = masked(oldTos, (code[pc + 5] | 0), (code[pc + 6] | 0)) & 0xff;
  if (newTos !== oldTos) {
    buf[p + 1] = newTos;
    fixCsum16(buf, p + 10, (buf[p] << 8) | oldTos, (buf[p] << 8) | newTos);
    key[W_NW_PROTO_TOS_TTL_FRAG] = (key[W_NW_PROTO_TOS_TTL_FRAG] & ~MASK_NW_TOS) | (newTos << 16);
  }
  const oldTtl = buf[p + 8];
  const newTtl = masked(oldTtl, (code[pc + 7] | 0), (code[pc + 8] | 0)) & 0xff;
  if (newTtl !== oldTtl) {
    buf[p + 8] = newTtl;
    fixCsum16(buf, p + 10, (oldTtl << 8) | buf[p + 9], (newTtl << 8) | buf[p + 9]);
    key[W_NW_PROTO_TOS_TTL_FRAG] = (key[W_NW_PROTO_TOS_TTL_FRAG] & ~MASK_NW_TTL) | (newTtl << 8);
  }
  const oldProto = buf[p + 9];
  const newProto = masked(oldProto, (code[pc + 9] | 0), (code[pc + 10] | 0)) & 0xff;
  if (newProto !== oldProto) {
    buf[p + 9] = newProto;
    fixCsum16(buf, p + 10, (buf[p + 8] << 8) | oldProto, (buf[p + 8] << 8) | newProto);
    setL4Proto(buf, o, key, layout, ck, oldProto, newProto);
  }
}

/**
 * The IP protocol changed (set_field ip_proto): the L4 checksum's pseudo
 * header carries it (RFC 793 3.1, RFC 8200 8.1), and the key's L4 fields
 * now mean something else, so extract again.
 */
function setL4Proto(buf: Buffer, o: number, key: Uint32Array, layout: Int32Array, ck: number, oldProto: number, newProto: number): void {
  if (ck >= 0) fixCsum16(buf, ck, oldProto, newProto);
  else if (ck <= -2) fixUdpCsum16(buf, -2 - ck, oldProto, newProto);
  reextract(buf, o, key, layout);
}

/**
 * A dscp_remark meter band: raise the drop precedence of an AF-style DSCP
 * (its bits 1-2) by `prec` levels, saturating at 3 (RFC 2597; AF21 → AF22 for
 * prec 1), as OpenFlow 1.3.5 7.3.4.5 describes. IPv4 (header checksum fixed)
 * and IPv6 traffic class; other frames are left alone. The ECN bits stay.
 */
function remarkDscp(buf: Buffer, o: number, key: Uint32Array, layout: Int32Array, prec: number, stats: ActionStats): void {
  const l3 = layout[L_L3];
  const len = fs[o + F_LEN];
  const et = key[W_ETH_TYPE];
  if (l3 < 0) return;
  const p = fs[o + F_OFF] + l3;
  let tos: number;
  if (et === ETH_TYPE_IPV4 && l3 + 20 <= len) tos = buf[p + 1];
  else if (et === ETH_TYPE_IPV6 && l3 + 40 <= len) tos = ((buf[p] & 0x0f) << 4) | (buf[p + 1] >>> 4);
  else return;
  const dscp = tos >>> 2;
  let dp = ((dscp >>> 1) & 3) + prec;
  if (dp > 3) dp = 3;
  const newTos = (((dscp & ~6) | (dp << 1)) << 2) | (tos & 3);
  if (newTos === tos) return;
  stats.meterRemarked++;
  if (et === ETH_TYPE_IPV4) {
    buf[p + 1] = newTos;
    fixCsum16(buf, p + 10, (buf[p] << 8) | tos, (buf[p] << 8) | newTos);
  } else {
    buf[p] = (buf[p] & 0xf0) | (newTos >>> 4);
    buf[p + 1] = (buf[p + 1] & 0x0f) | ((newTos & 0x0f) << 4);
  }
  key[W_NW_PROTO_TOS_TTL_FRAG] = (key[W_NW_PROTO_TOS_TTL_FRAG] & ~MASK_NW_TOS) | (newTos << 16);
}

/**
 * True when an IPv6 routing header with segments left follows the fixed
 * header: the pseudo-header then uses the final destination, so a rewrite of
 * the destination field must not touch the L4 checksum (OVS packet_rh_present).
 */
function routingPending(buf: Buffer, p: number, end: number): boolean {
  let next = buf[p + 6];
  let q = p + 40;
  for (;;) {
    if (next === 43) return q + 4 <= end && buf[q + 3] !== 0;
    if (next !== 0 && next !== 60 && next !== 51 && next !== 44) return false;
    if (q + 8 > end) return false;
    const hlen = next === 51 ? (buf[q + 1] + 2) * 4 : next === 44 ? 8 : (buf[q + 1] + 1) * 8;
    next = buf[q];
    q += hlen;
  }
}

function setIpv6(code: Uint32Array, pc: number, buf: Buffer, o: number, key: Uint32Array, layout: Int32Array, stats: ActionStats): void {
  const l3 = layout[L_L3];
  const len = fs[o + F_LEN];
  if (key[W_ETH_TYPE] !== ETH_TYPE_IPV6 || l3 < 0 || l3 + 40 > len) {
    stats.setSkipped++;
    return;
  }
  const off = fs[o + F_OFF];
  const p = off + l3;
  const ck = l4CsumAt(off, len, key, layout, true);
  for (let k = 0; k < 4; k++) {
    const at = p + 8 + 4 * k;
    const old = rd32(buf, at);
    const nv = masked(old, ((code[pc + 1 + 2 * k] | 0) | 0), ((code[pc + 2 + 2 * k] | 0) | 0));
    if (nv !== old) {
      wr32(buf, at, nv);
      fixL4Csum32(buf, ck, old, nv);
      key[W_NW_SRC + k] = nv;
    }
  }
  let dstCk = ck;
  if (ck !== -1 && buf[p + 6] !== key[W_NW_PROTO_TOS_TTL_FRAG] >>> 24 && routingPending(buf, p, off + len)) dstCk = -1;
  for (let k = 0; k < 4; k++) {
    const at = p + 24 + 4 * k;
    const old = rd32(buf, at);
    const nv = masked(old, ((code[pc + 9 + 2 * k] | 0) | 0), ((code[pc + 10 + 2 * k] | 0) | 0));
    if (nv !== old) {
      wr32(buf, at, nv);
      fixL4Csum32(buf, dstCk, old, nv);
      key[W_NW_DST + k] = nv;
    }
  }
  // Version, traffic class and flow label share the first word; none is in a checksum.
  const w0 = rd32(buf, p);
  const label = masked(w0 & 0xfffff, (code[pc + 17] | 0), (code[pc + 18] | 0)) & 0xfffff;
  const tclass = masked((w0 >>> 20) & 0xff, (code[pc + 19] | 0), (code[pc + 20] | 0)) & 0xff;
  wr32(buf, p, (w0 & 0xf0000000) | (tclass << 20) | label);
  const hl = masked(buf[p + 7], (code[pc + 21] | 0), (code[pc + 22] | 0)) & 0xff;
  buf[p + 7] = hl;
  key[W_IPV6_LABEL] = (key[W_IPV6_LABEL] & ~0xfffff) | label;
  key[W_NW_PROTO_TOS_TTL_FRAG] = (key[W_NW_PROTO_TOS_TTL_FRAG] & (MASK_NW_PROTO | 0xff)) | (tclass << 16) | (hl << 8);
  // The next header: only when the upper layer follows the fixed header (no extension headers to rewrite).
  const oldProto = key[W_NW_PROTO_TOS_TTL_FRAG] >>> 24;
  const newProto = masked(oldProto, (code[pc + 23] | 0), (code[pc + 24] | 0)) & 0xff;
  if (newProto !== oldProto) {
    if (buf[p + 6] !== oldProto || (layout[L_L4] >= 0 && layout[L_L4] !== l3 + 40)) {
      stats.setSkipped++;
      return;
    }
    buf[p + 6] = newProto;
    setL4Proto(buf, o, key, layout, ck, oldProto, newProto);
  }
}

/** End of the IP payload (frame offset), from the IP header's own length field. */
function l3End(buf: Buffer, off: number, len: number, l3: number, v6: boolean): number {
  const p = off + l3;
  const e = v6 ? l3 + 40 + ((buf[p + 4] << 8) | buf[p + 5]) : l3 + ((buf[p + 2] << 8) | buf[p + 3]);
  return e > len ? len : e;
}

function setPorts(code: Uint32Array, pc: number, buf: Buffer, o: number, key: Uint32Array, layout: Int32Array, proto: number, stats: ActionStats): void {
  const et = key[W_ETH_TYPE];
  const l4 = layout[L_L4];
  const len = fs[o + F_LEN];
  const need = proto === IPPROTO_TCP ? 20 : proto === IPPROTO_UDP ? 8 : 12;
  if ((et !== ETH_TYPE_IPV4 && et !== ETH_TYPE_IPV6) || key[W_NW_PROTO_TOS_TTL_FRAG] >>> 24 !== proto || l4 < 0 || l4 + need > len) {
    stats.setSkipped++;
    return;
  }
  const off = fs[o + F_OFF];
  const p = off + l4;
  const old = rd32(buf, p);
  const nv = masked(old, (code[pc + 1] | 0), (code[pc + 2] | 0));
  if (nv === old) return;
  if (proto === IPPROTO_SCTP) {
    // Recompute CRC32c, preserving whatever error the old checksum had (OVS packet_set_sctp_port).
    const end = off + l3End(buf, off, len, layout[L_L3], et === ETH_TYPE_IPV6);
    const stored = readSctpCrc(buf, p + 8);
    const oldCorrect = sctpCrc(buf, p, end);
    wr32(buf, p, nv);
    writeSctpCrc(buf, p + 8, (stored ^ oldCorrect ^ sctpCrc(buf, p, end)) >>> 0);
  } else {
    wr32(buf, p, nv);
    if (proto === IPPROTO_TCP) fixCsum32(buf, p + 16, old, nv);
    else fixUdpCsum32(buf, p + 6, old, nv);
  }
  key[W_TP_PORTS] = nv;
}

function setIcmp(code: Uint32Array, pc: number, buf: Buffer, o: number, key: Uint32Array, layout: Int32Array, v6: boolean, stats: ActionStats): void {
  const l4 = layout[L_L4];
  const len = fs[o + F_LEN];
  if (
    key[W_ETH_TYPE] !== (v6 ? ETH_TYPE_IPV6 : ETH_TYPE_IPV4) ||
    key[W_NW_PROTO_TOS_TTL_FRAG] >>> 24 !== (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP) ||
    l4 < 0 ||
    l4 + (v6 ? 4 : 8) > len
  ) {
    stats.setSkipped++;
    return;
  }
  const p = fs[o + F_OFF] + l4;
  const old = (buf[p] << 8) | buf[p + 1];
  const nv = masked(old, (code[pc + 1] | 0), (code[pc + 2] | 0)) & 0xffff;
  if (nv === old) return;
  buf[p] = nv >>> 8;
  buf[p + 1] = nv & 0xff;
  fixCsum16(buf, p + 2, old, nv);
  key[W_TP_PORTS] = ((nv >>> 8) << 16) | (nv & 0xff);
  // Into or out of a neighbour solicitation/advertisement (code 0): what
  // extraction reads as ND fields changes with it.
  if (v6 && (isNdTypeCode(old) || isNdTypeCode(nv))) reextract(buf, o, key, layout);
}

function isNdTypeCode(typeCode: number): boolean {
  return typeCode === 135 << 8 || typeCode === 136 << 8;
}

function setArp(code: Uint32Array, pc: number, buf: Buffer, o: number, key: Uint32Array, layout: Int32Array, stats: ActionStats): void {
  const l3 = layout[L_L3];
  if (key[W_ETH_TYPE] !== ETH_TYPE_ARP || l3 < 0 || l3 + 28 > fs[o + F_LEN]) {
    stats.setSkipped++;
    return;
  }
  const p = fs[o + F_OFF] + l3;
  const spa = masked(rd32(buf, p + 14), (code[pc + 1] | 0), (code[pc + 2] | 0));
  const tpa = masked(rd32(buf, p + 24), (code[pc + 3] | 0), (code[pc + 4] | 0));
  wr32(buf, p + 14, spa);
  wr32(buf, p + 24, tpa);
  const opMask = (code[pc + 6] | 0);
  if (opMask !== 0) {
    // The key holds an 8-bit opcode; a full mask writes the whole 16-bit field.
    const oldOp = (buf[p + 6] << 8) | buf[p + 7];
    const op = opMask === 0xff ? (code[pc + 5] | 0) : masked(oldOp, (code[pc + 5] | 0), opMask) & 0xffff;
    buf[p + 6] = op >>> 8;
    buf[p + 7] = op & 0xff;
    key[W_NW_PROTO_TOS_TTL_FRAG] = (key[W_NW_PROTO_TOS_TTL_FRAG] & ~MASK_NW_PROTO) | ((op <= 0xff ? op : 0) << 24);
  }
  setMac(buf, p + 8, (code[pc + 7] | 0), (code[pc + 8] | 0), (code[pc + 9] | 0), (code[pc + 10] | 0));
  setMac(buf, p + 18, (code[pc + 11] | 0), (code[pc + 12] | 0), (code[pc + 13] | 0), (code[pc + 14] | 0));
  key[W_NW_SRC] = spa;
  key[W_NW_DST] = tpa;
  key[W_ARP_SHA_HI] = (buf[p + 8] << 8) | buf[p + 9];
  key[W_ARP_SHA_LO] = rd32(buf, p + 10);
  key[W_ARP_THA_HI] = (buf[p + 18] << 8) | buf[p + 19];
  key[W_ARP_THA_LO] = rd32(buf, p + 20);
}

/** Masked MAC rewrite inside an ICMPv6 message, with checksum update. */
function setNdMac(buf: Buffer, at: number, ck: number, vHi: number, mHi: number, vLo: number, mLo: number): void {
  const oldHi = (buf[at] << 8) | buf[at + 1];
  const oldLo = rd32(buf, at + 2);
  const hi = masked(oldHi, vHi, mHi) & 0xffff;
  const lo = masked(oldLo, vLo, mLo);
  buf[at] = hi >>> 8;
  buf[at + 1] = hi & 0xff;
  wr32(buf, at + 2, lo);
  fixCsum16(buf, ck, oldHi, hi);
  fixCsum32(buf, ck, oldLo, lo);
}

function setNd(code: Uint32Array, pc: number, buf: Buffer, o: number, key: Uint32Array, layout: Int32Array, stats: ActionStats): void {
  const l4 = layout[L_L4];
  const len = fs[o + F_LEN];
  const tp = key[W_TP_PORTS];
  if (
    key[W_ETH_TYPE] !== ETH_TYPE_IPV6 ||
    key[W_NW_PROTO_TOS_TTL_FRAG] >>> 24 !== IPPROTO_ICMPV6 ||
    (tp !== 135 << 16 && tp !== 136 << 16) ||
    l4 < 0 ||
    l4 + 24 > len
  ) {
    stats.setSkipped++;
    return;
  }
  const off = fs[o + F_OFF];
  const p = off + l4;
  const ck = p + 2;
  for (let k = 0; k < 4; k++) {
    const at = p + 8 + 4 * k;
    const old = rd32(buf, at);
    const nv = masked(old, ((code[pc + 1 + 2 * k] | 0) | 0), ((code[pc + 2 + 2 * k] | 0) | 0));
    if (nv !== old) {
      wr32(buf, at, nv);
      fixCsum32(buf, ck, old, nv);
      key[W_ND_TARGET + k] = nv;
    }
  }
  // Like OVS's packet_set_nd(): rewrite the first link-layer address option.
  // The key records SLL only for solicitations and TLL only for advertisements.
  const solicit = tp === 135 << 16;
  const end = off + l3End(buf, off, len, layout[L_L3], true);
  let q = p + 24;
  while (q + 8 <= end) {
    const optLen = buf[q + 1] * 8;
    if (optLen === 0 || q + optLen > end) break;
    const t = buf[q];
    if (t === 1 && optLen === 8) {
      setNdMac(buf, q + 2, ck, (code[pc + 9] | 0), (code[pc + 10] | 0), (code[pc + 11] | 0), (code[pc + 12] | 0));
      if (solicit) {
        key[W_ARP_SHA_HI] = (buf[q + 2] << 8) | buf[q + 3];
        key[W_ARP_SHA_LO] = rd32(buf, q + 4);
      }
      break;
    }
    if (t === 2 && optLen === 8) {
      setNdMac(buf, q + 2, ck, (code[pc + 13] | 0), (code[pc + 14] | 0), (code[pc + 15] | 0), (code[pc + 16] | 0));
      if (!solicit) {
        key[W_ARP_THA_HI] = (buf[q + 2] << 8) | buf[q + 3];
        key[W_ARP_THA_LO] = rd32(buf, q + 4);
      }
      break;
    }
    q += optLen;
  }
}

function setMpls(code: Uint32Array, pc: number, buf: Buffer, o: number, key: Uint32Array, layout: Int32Array, stats: ActionStats): void {
  const at = layout[L_L2_5];
  if (at < 0 || at + 4 > fs[o + F_LEN]) {
    stats.setSkipped++;
    return;
  }
  const p = fs[o + F_OFF] + at;
  const old = rd32(buf, p);
  const lse = masked(old, (code[pc + 1] | 0), (code[pc + 2] | 0));
  wr32(buf, p, lse);
  key[W_MPLS0] = lse;
  // A flipped bottom-of-stack bit changes how many entries extraction reads.
  if ((old ^ lse) & 0x100) reextract(buf, o, key, layout);
}
