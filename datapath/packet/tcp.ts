// TCP header (RFC 9293 3.1): ports, sequence numbers, data offset, the 12 flag
// bits OVS matches on (tcp_flags), window, checksum, urgent pointer, raw options.

import { IPPROTO_TCP } from '../flow/key.js';
import { l4Checksum } from './checksum.js';
import { type DecodeIssue, malformed, truncated } from './decode-issue.js';
import { checkLength, checkUint, PacketError } from './errors.js';
import { type PseudoHeader, pseudoBytes } from './pseudo-header.js';

export const TCP_MIN_HEADER_BYTES = 20;
export const TCP_FIN = 0x001;
export const TCP_SYN = 0x002;
export const TCP_RST = 0x004;
export const TCP_PSH = 0x008;
export const TCP_ACK = 0x010;
export const TCP_URG = 0x020;
export const TCP_ECE = 0x040;
export const TCP_CWR = 0x080;
/** RFC 3540 nonce sum (historic); the low bit of the old reserved field. */
export const TCP_NS = 0x100;

export interface TcpHeader {
  kind: 'tcp';
  offset: number;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** Header length in 32-bit words. */
  dataOffset: number;
  /** Low 12 bits of the offset/flags word: TCP_* bits plus the reserved bits. */
  flags: number;
  window: number;
  checksum: number;
  urgentPointer: number;
  /** Raw option bytes (dataOffset * 4 - 20). */
  options: Buffer;
}

export function decodeTcp(buf: Buffer, off: number, end: number): TcpHeader | DecodeIssue {
  if (end - off < TCP_MIN_HEADER_BYTES) return truncated(`TCP header needs 20 bytes, ${end - off} captured`);
  const of = buf.readUInt16BE(off + 12);
  const dataOffset = of >> 12;
  if (dataOffset < 5) return malformed(`TCP data offset ${dataOffset} is below 5`);
  if (end - off < dataOffset * 4) return truncated(`TCP header with options needs ${dataOffset * 4} bytes, ${end - off} captured`);
  return {
    kind: 'tcp',
    offset: off,
    srcPort: buf.readUInt16BE(off),
    dstPort: buf.readUInt16BE(off + 2),
    seq: buf.readUInt32BE(off + 4),
    ack: buf.readUInt32BE(off + 8),
    dataOffset,
    flags: of & 0xfff,
    window: buf.readUInt16BE(off + 14),
    checksum: buf.readUInt16BE(off + 16),
    urgentPointer: buf.readUInt16BE(off + 18),
    options: buf.subarray(off + TCP_MIN_HEADER_BYTES, off + dataOffset * 4),
  };
}

/** Option kinds (RFC 9293 3.2, RFC 7323, RFC 2018). */
export const TCP_OPT_EOL = 0;
export const TCP_OPT_NOP = 1;
export const TCP_OPT_MSS = 2;
export const TCP_OPT_WSCALE = 3;
export const TCP_OPT_SACK_PERMITTED = 4;
export const TCP_OPT_SACK = 5;
export const TCP_OPT_TIMESTAMPS = 8;

export interface TcpOption {
  kind: number;
  /** Bytes after kind and length; absent for EOL and NOP. */
  data?: Buffer;
}

/** List the options of a header's option bytes; stops at EOL (the rest is padding). */
export function decodeTcpOptions(bytes: Buffer): TcpOption[] | DecodeIssue {
  const out: TcpOption[] = [];
  for (let p = 0; p < bytes.length; ) {
    const kind = bytes.readUInt8(p);
    if (kind === TCP_OPT_EOL) {
      out.push({ kind });
      break;
    }
    if (kind === TCP_OPT_NOP) {
      out.push({ kind });
      p++;
      continue;
    }
    if (bytes.length - p < 2) return truncated(`TCP option ${kind} has no length byte`);
    const len = bytes.readUInt8(p + 1);
    if (len < 2) return malformed(`TCP option ${kind} length ${len} is below 2`);
    if (bytes.length - p < len) return truncated(`TCP option ${kind} of ${len} bytes runs past the header`);
    out.push({ kind, data: bytes.subarray(p + 2, p + len) });
    p += len;
  }
  return out;
}

/** Option bytes for a list, padded with EOL (zeros) to a multiple of 4. */
export function encodeTcpOptions(options: TcpOption[]): Buffer {
  let n = 0;
  for (const o of options) n += o.kind <= TCP_OPT_NOP ? 1 : 2 + (o.data?.length ?? 0);
  const out = Buffer.alloc((n + 3) & ~3);
  let p = 0;
  for (const o of options) {
    out.writeUInt8(checkUint('tcp.option.kind', o.kind, 0xff), p++);
    if (o.kind <= TCP_OPT_NOP) continue;
    const data = o.data ?? new Uint8Array(0);
    out.writeUInt8(checkLength('tcp.option.length', 2 + data.length, 0xff), p++);
    out.set(data, p);
    p += data.length;
  }
  checkLength('tcp.options', out.length, 40);
  return out;
}

const FLAG_NAMES: [number, string][] = [
  [TCP_FIN, 'FIN'],
  [TCP_SYN, 'SYN'],
  [TCP_RST, 'RST'],
  [TCP_PSH, 'PSH'],
  [TCP_ACK, 'ACK'],
  [TCP_URG, 'URG'],
  [TCP_ECE, 'ECE'],
  [TCP_CWR, 'CWR'],
  [TCP_NS, 'NS'],
];

/** "SYN|ACK"; unnamed reserved bits as hex; "" for none. */
export function formatTcpFlags(flags: number): string {
  const names: string[] = [];
  let rest = flags & 0xfff;
  for (const [bit, name] of FLAG_NAMES) {
    if (rest & bit) {
      names.push(name);
      rest &= ~bit;
    }
  }
  if (rest) names.push(`0x${rest.toString(16)}`);
  return names.join('|');
}

export interface TcpFields {
  srcPort: number;
  dstPort: number;
  seq?: number;
  ack?: number;
  flags?: number;
  /** Default 65535. */
  window?: number;
  urgentPointer?: number;
  /** Raw option bytes (a multiple of 4) or a list to encode. */
  options?: Uint8Array | TcpOption[];
  /** Default: from the options length. */
  dataOffset?: number;
  /** Default: computed when a pseudo-header is given, else 0. */
  checksum?: number;
  payload?: Uint8Array;
}

export function buildTcp(f: TcpFields, pseudo?: PseudoHeader): Buffer {
  const payload = f.payload ?? new Uint8Array(0);
  const options = f.options === undefined ? new Uint8Array(0) : Array.isArray(f.options) ? encodeTcpOptions(f.options) : (f.options as Uint8Array);
  if (options.length % 4 !== 0) throw new PacketError('ERR_PACKET_BAD_FIELD', `TCP options of ${options.length} bytes are not a multiple of 4`, 'options');
  checkLength('tcp.options', options.length, 40);
  const hl = TCP_MIN_HEADER_BYTES + options.length;
  const out = Buffer.alloc(hl + payload.length);
  out.writeUInt16BE(checkUint('tcp.srcPort', f.srcPort, 0xffff), 0);
  out.writeUInt16BE(checkUint('tcp.dstPort', f.dstPort, 0xffff), 2);
  out.writeUInt32BE(checkUint('tcp.seq', f.seq ?? 0, 0xffffffff), 4);
  out.writeUInt32BE(checkUint('tcp.ack', f.ack ?? 0, 0xffffffff), 8);
  out.writeUInt16BE((checkUint('tcp.dataOffset', f.dataOffset ?? hl / 4, 15) << 12) | checkUint('tcp.flags', f.flags ?? 0, 0xfff), 12);
  out.writeUInt16BE(checkUint('tcp.window', f.window ?? 0xffff, 0xffff), 14);
  out.writeUInt16BE(checkUint('tcp.urgentPointer', f.urgentPointer ?? 0, 0xffff), 18);
  out.set(options, TCP_MIN_HEADER_BYTES);
  out.set(payload, hl);
  let csum = f.checksum;
  if (csum === undefined && pseudo) {
    const { src, dst } = pseudoBytes(pseudo);
    csum = l4Checksum(out, 0, out.length, IPPROTO_TCP, src, dst);
  }
  out.writeUInt16BE(checkUint('tcp.checksum', csum ?? 0, 0xffff), 16);
  return out;
}
