// Classic BPF (Linux struct sock_filter, Documentation/networking/filter.rst):
// the opcodes the offload compiler emits, the two encodings it hands to the
// kernel (tc's `bytecode "N,c t f k,..."` text and SO_ATTACH_FILTER bytes) and
// a small interpreter, so tests (and the compiler's self-check) run a program
// against frames exactly as the kernel's classic interpreter would.

import { endianness } from 'node:os';

/** One instruction: opcode, jump-if-true/false offsets (forward, relative to the next insn), constant. */
export interface CbpfInsn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

// Instruction classes, sizes, modes, ALU/JMP operations, sources (linux/bpf_common.h).
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_RET = 0x06;
export const BPF_MISC = 0x07;
export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;
export const BPF_IMM = 0x00;
export const BPF_ABS = 0x20;
export const BPF_LEN = 0x80;
export const BPF_MSH = 0xa0;
export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;
export const BPF_K = 0x00;
export const BPF_X = 0x08;
export const BPF_A = 0x10;
export const BPF_TAX = 0x00;
export const BPF_TXA = 0x80;

/** Ancillary loads (linux/filter.h): `ld [SKF_AD_OFF + n]` reads skb metadata instead of packet bytes. */
export const SKF_AD_OFF = -0x1000;
export const SKF_AD_VLAN_TAG_PRESENT = 48;
/** BPF_MAXINSNS: the kernel's limit for one classic program. */
export const BPF_MAXINSNS = 4096;

/** What a frame carries besides its bytes, for the interpreter's ancillary loads. */
export interface CbpfMeta {
  /** The kernel took an 802.1Q tag off into skb metadata (hardware/veth VLAN acceleration). */
  vlanTagPresent?: boolean;
}

/** tc's text form: `N,code jt jf k,...` (iproute2 tc-bpf(8) "bytecode"). */
export function toTcBytecode(prog: readonly CbpfInsn[]): string {
  let s = String(prog.length);
  for (const i of prog) s += `,${i.code} ${i.jt} ${i.jf} ${i.k >>> 0}`;
  return s;
}

/** struct sock_filter[] in host byte order, as setsockopt(SO_ATTACH_FILTER) takes it. */
export function toSockFilterBytes(prog: readonly CbpfInsn[]): Uint8Array {
  const out = new Uint8Array(prog.length * 8);
  const dv = new DataView(out.buffer);
  const le = endianness() === 'LE';
  for (let n = 0; n < prog.length; n++) {
    const i = prog[n];
    dv.setUint16(n * 8, i.code, le);
    dv.setUint8(n * 8 + 2, i.jt);
    dv.setUint8(n * 8 + 3, i.jf);
    dv.setUint32(n * 8 + 4, i.k >>> 0, le);
  }
  return out;
}

/**
 * Run a classic program over `frame` (bytes from the Ethernet header) and return
 * its result (0 = no match / drop). Like the kernel: a load past the end, an
 * unknown opcode or falling off the end returns 0; division is not supported
 * (the compiler never emits it).
 */
export function runCbpf(prog: readonly CbpfInsn[], frame: Uint8Array, meta: CbpfMeta = {}): number {
  let a = 0;
  let x = 0;
  const len = frame.length;
  for (let pc = 0; pc < prog.length; pc++) {
    const { code, jt, jf } = prog[pc];
    const k = prog[pc].k >>> 0;
    switch (code) {
      case BPF_LD | BPF_W | BPF_ABS:
      case BPF_LD | BPF_H | BPF_ABS:
      case BPF_LD | BPF_B | BPF_ABS: {
        const off = k | 0;
        if (off < 0) {
          if (off === SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT) {
            a = meta.vlanTagPresent ? 1 : 0;
            break;
          }
          return 0;
        }
        const size = code === (BPF_LD | BPF_W | BPF_ABS) ? 4 : code === (BPF_LD | BPF_H | BPF_ABS) ? 2 : 1;
        if (off + size > len) return 0;
        a = 0;
        for (let b = 0; b < size; b++) a = ((a << 8) | frame[off + b]) >>> 0;
        break;
      }
      case BPF_LD | BPF_W | BPF_LEN:
        a = len;
        break;
      case BPF_LD | BPF_IMM:
        a = k;
        break;
      case BPF_LDX | BPF_W | BPF_IMM:
        x = k;
        break;
      case BPF_LDX | BPF_B | BPF_MSH:
        if (k >= len) return 0;
        x = (frame[k] & 0x0f) * 4;
        break;
      case BPF_ALU | BPF_ADD | BPF_K:
        a = (a + k) >>> 0;
        break;
      case BPF_ALU | BPF_ADD | BPF_X:
        a = (a + x) >>> 0;
        break;
      case BPF_ALU | BPF_SUB | BPF_K:
        a = (a - k) >>> 0;
        break;
      case BPF_ALU | BPF_SUB | BPF_X:
        a = (a - x) >>> 0;
        break;
      case BPF_ALU | BPF_AND | BPF_K:
        a = (a & k) >>> 0;
        break;
      case BPF_ALU | BPF_LSH | BPF_K:
        a = k >= 32 ? 0 : (a << k) >>> 0;
        break;
      case BPF_ALU | BPF_RSH | BPF_K:
        a = k >= 32 ? 0 : a >>> k;
        break;
      case BPF_JMP | BPF_JA:
        pc += k;
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
        pc += a === k ? jt : jf;
        break;
      case BPF_JMP | BPF_JGT | BPF_K:
        pc += a > k ? jt : jf;
        break;
      case BPF_JMP | BPF_JGE | BPF_K:
        pc += a >= k ? jt : jf;
        break;
      case BPF_JMP | BPF_JGE | BPF_X:
        pc += a >= x ? jt : jf;
        break;
      case BPF_JMP | BPF_JSET | BPF_K:
        pc += (a & k) !== 0 ? jt : jf;
        break;
      case BPF_MISC | BPF_TAX:
        x = a;
        break;
      case BPF_MISC | BPF_TXA:
        a = x;
        break;
      case BPF_RET | BPF_K:
        return k;
      case BPF_RET | BPF_A:
        return a;
      default:
        return 0;
    }
  }
  return 0;
}
