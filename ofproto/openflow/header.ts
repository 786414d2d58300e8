// The 8-byte OpenFlow header (7.1) and the MessageFramer that cuts a TCP byte
// stream into whole messages: bounded length, partial reads reassembled.
import { OFP_HEADER_LEN, OFP_MAX_MESSAGE_LEN } from './constants.js';
import { badLen, OfpError } from './errors.js';

export interface OfpHeader {
  version: number;
  type: number;
  /** Total message length in bytes, header included. */
  length: number;
  xid: number;
}

/** Fields every decoded message carries besides its `type`. */
export interface MessageBase {
  version: number;
  xid: number;
}

/** Reads the header at the start of `buf` (which must hold at least 8 bytes). */
export function decodeHeader(buf: Buffer): OfpHeader {
  if (buf.length < OFP_HEADER_LEN) throw badLen(`header: ${buf.length} bytes, need ${OFP_HEADER_LEN}`);
  return { version: buf[0]!, type: buf[1]!, length: buf.readUInt16BE(2), xid: buf.readUInt32BE(4) };
}

export function encodeHeader(h: OfpHeader, out: Buffer = Buffer.alloc(OFP_HEADER_LEN), offset = 0): Buffer {
  out[offset] = h.version;
  out[offset + 1] = h.type;
  out.writeUInt16BE(h.length, offset + 2);
  out.writeUInt32BE(h.xid >>> 0, offset + 4);
  return out;
}

/**
 * Splits a byte stream into OpenFlow messages. `push()` takes whatever the
 * socket delivered and returns every message now complete (views into the
 * input where a message lies inside one chunk, copies where it spans chunks).
 * A header whose length is below 8 or above `maxLengthBytes` cannot be
 * resynchronised: the messages before it are still returned, then push()
 * throws an OfpError (OFPBRC_BAD_LEN, `data` = the bad bytes) and keeps
 * throwing it (see `failure`); the owner should send the ERROR and close.
 */
export class MessageFramer {
  private pending: Buffer = Buffer.alloc(0);
  private failed: OfpError | undefined;

  constructor(readonly maxLengthBytes: number = OFP_MAX_MESSAGE_LEN) {
    if (maxLengthBytes < OFP_HEADER_LEN || maxLengthBytes > OFP_MAX_MESSAGE_LEN) {
      throw new RangeError(`maxLengthBytes must be within ${OFP_HEADER_LEN}..${OFP_MAX_MESSAGE_LEN}`);
    }
  }

  /** Bytes held back waiting for the rest of a message. */
  get bufferedBytes(): number {
    return this.pending.length;
  }

  /** The framing error, once the stream is beyond repair. */
  get failure(): OfpError | undefined {
    return this.failed;
  }

  push(chunk: Buffer): Buffer[] {
    if (this.failed) throw this.failed;
    const buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: Buffer[] = [];
    let off = 0;
    while (buf.length - off >= OFP_HEADER_LEN) {
      const len = buf.readUInt16BE(off + 2);
      if (len < OFP_HEADER_LEN || len > this.maxLengthBytes) {
        const e = badLen(`message length ${len} outside ${OFP_HEADER_LEN}..${this.maxLengthBytes}`);
        e.data = Buffer.from(buf.subarray(off, off + Math.min(64, buf.length - off)));
        this.failed = e;
        this.pending = Buffer.alloc(0);
        if (out.length > 0) return out;
        throw e;
      }
      if (buf.length - off < len) break;
      out.push(buf.subarray(off, off + len));
      off += len;
    }
    // Keep the tail as a copy so the caller's chunk can be released.
    this.pending = off === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(off));
    return out;
  }
}
