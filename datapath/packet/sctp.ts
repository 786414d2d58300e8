// SCTP common header (RFC 9260 3.1) with its CRC-32C, and the chunk list
// (RFC 9260 3.2: type, flags, length; chunks padded to 4 bytes).

import { sctpChecksum } from './checksum.js';
import { type DecodeIssue, malformed, truncated } from './decode-issue.js';
import { checkLength, checkUint } from './errors.js';

export const SCTP_HEADER_BYTES = 12;
export const SCTP_CHUNK_DATA = 0;
export const SCTP_CHUNK_INIT = 1;
export const SCTP_CHUNK_INIT_ACK = 2;
export const SCTP_CHUNK_SACK = 3;
export const SCTP_CHUNK_HEARTBEAT = 4;
export const SCTP_CHUNK_ABORT = 6;

export interface SctpHeader {
  kind: 'sctp';
  offset: number;
  srcPort: number;
  dstPort: number;
  verificationTag: number;
  /** The checksum field read big-endian (see sctpChecksum). */
  checksum: number;
}

export function decodeSctp(buf: Buffer, off: number, end: number): SctpHeader | DecodeIssue {
  if (end - off < SCTP_HEADER_BYTES) return truncated(`SCTP header needs 12 bytes, ${end - off} captured`);
  return {
    kind: 'sctp',
    offset: off,
    srcPort: buf.readUInt16BE(off),
    dstPort: buf.readUInt16BE(off + 2),
    verificationTag: buf.readUInt32BE(off + 4),
    checksum: buf.readUInt32BE(off + 8),
  };
}

export interface SctpChunk {
  type: number;
  flags: number;
  /** Length field: header plus value, without padding. */
  length: number;
  value: Buffer;
}

/** Chunks of an SCTP payload (the bytes after the common header). */
export function decodeSctpChunks(payload: Buffer): SctpChunk[] | DecodeIssue {
  const out: SctpChunk[] = [];
  let p = 0;
  while (p < payload.length) {
    if (payload.length - p < 4) return truncated(`SCTP chunk header cut at ${p}`);
    const length = payload.readUInt16BE(p + 2);
    if (length < 4) return malformed(`SCTP chunk length ${length} is below 4`);
    if (payload.length - p < length) return truncated(`SCTP chunk of ${length} bytes, ${payload.length - p} left`);
    out.push({ type: payload.readUInt8(p), flags: payload.readUInt8(p + 1), length, value: payload.subarray(p + 4, p + length) });
    p += (length + 3) & ~3;
  }
  return out;
}

export interface SctpChunkSpec {
  type: number;
  flags?: number;
  value?: Uint8Array;
}

/** Chunk bytes, each padded with zeros to 4 bytes. */
export function encodeSctpChunks(chunks: SctpChunkSpec[]): Buffer {
  const parts: Buffer[] = [];
  for (const c of chunks) {
    const value = c.value ?? new Uint8Array(0);
    const length = checkLength('sctp.chunk.length', 4 + value.length, 0xffff);
    const b = Buffer.alloc((length + 3) & ~3);
    b.writeUInt8(checkUint('sctp.chunk.type', c.type, 0xff), 0);
    b.writeUInt8(checkUint('sctp.chunk.flags', c.flags ?? 0, 0xff), 1);
    b.writeUInt16BE(length, 2);
    b.set(value, 4);
    parts.push(b);
  }
  return Buffer.concat(parts);
}

export interface SctpFields {
  srcPort: number;
  dstPort: number;
  verificationTag?: number;
  /** Default: the CRC-32C over the whole packet. */
  checksum?: number;
  /** Chunks to encode, placed before payload. */
  chunks?: SctpChunkSpec[];
  payload?: Uint8Array;
}

export function buildSctp(f: SctpFields): Buffer {
  const chunks = f.chunks ? encodeSctpChunks(f.chunks) : Buffer.alloc(0);
  const payload = f.payload ?? new Uint8Array(0);
  const out = Buffer.alloc(SCTP_HEADER_BYTES + chunks.length + payload.length);
  out.writeUInt16BE(checkUint('sctp.srcPort', f.srcPort, 0xffff), 0);
  out.writeUInt16BE(checkUint('sctp.dstPort', f.dstPort, 0xffff), 2);
  out.writeUInt32BE(checkUint('sctp.verificationTag', f.verificationTag ?? 0, 0xffffffff), 4);
  out.set(chunks, SCTP_HEADER_BYTES);
  out.set(payload, SCTP_HEADER_BYTES + chunks.length);
  out.writeUInt32BE(f.checksum === undefined ? sctpChecksum(out, 0, out.length) : checkUint('sctp.checksum', f.checksum, 0xffffffff), 8);
  return out;
}
