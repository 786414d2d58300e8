// Bounded big-endian reader and growable writer for OpenFlow wire structs.
// The reader never reads past its end: running short throws an OfpError with
// the type/code of the structure being parsed (BAD_LEN of the right family).
import { OFPBRC, OFPET } from './constants.js';
import { OfpError } from './errors.js';

export class WireReader {
  pos: number;
  readonly end: number;

  constructor(
    readonly buf: Buffer,
    start = 0,
    end = buf.length,
    /** Error type/code thrown when a read runs past `end`. */
    readonly errType: number = OFPET.BAD_REQUEST,
    readonly errCode: number = OFPBRC.BAD_LEN,
  ) {
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  fail(message: string, type = this.errType, code = this.errCode): OfpError {
    return new OfpError(type, code, message);
  }

  /** Throws unless `n` more bytes are available. */
  need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.end) {
      throw this.fail(`${what}: needs ${n} bytes at offset ${this.pos}, only ${this.end - this.pos} left`);
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  u64(what: string): bigint {
    this.need(8, what);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  /** A view (no copy) of the next `n` bytes. */
  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** Skips padding; its content is ignored (encoders write zeros). */
  skip(n: number, what: string): void {
    this.need(n, what);
    this.pos += n;
  }

  /** The rest of the reader, consumed. */
  rest(): Buffer {
    const b = this.buf.subarray(this.pos, this.end);
    this.pos = this.end;
    return b;
  }

  /** A fixed-size NUL-padded string field. */
  str(n: number, what: string): string {
    const b = this.bytes(n, what);
    const nul = b.indexOf(0);
    return b.subarray(0, nul < 0 ? n : nul).toString('latin1');
  }

  /**
   * A child reader over the next `n` bytes (consumed here), whose short reads
   * throw with the given type/code.
   */
  sub(n: number, what: string, errType = this.errType, errCode = this.errCode): WireReader {
    this.need(n, what);
    const r = new WireReader(this.buf, this.pos, this.pos + n, errType, errCode);
    this.pos += n;
    return r;
  }

  /** Throws unless the reader is fully consumed. */
  done(what: string): void {
    if (this.pos !== this.end) throw this.fail(`${what}: ${this.end - this.pos} unexpected trailing bytes`);
  }
}

export class WireWriter {
  private buf: Buffer;
  length = 0;

  // Unzeroed memory is fine: every byte up to `length` is written (padding
  // through zeros()), and only those bytes are ever handed out.
  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initialSize));
  }

  private grow(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  u8(v: number): this {
    this.grow(1);
    this.buf.writeUInt8(v, this.length);
    this.length += 1;
    return this;
  }

  u16(v: number): this {
    this.grow(2);
    this.buf.writeUInt16BE(v, this.length);
    this.length += 2;
    return this;
  }

  u32(v: number): this {
    this.grow(4);
    this.buf.writeUInt32BE(v, this.length);
    this.length += 4;
    return this;
  }

  u64(v: bigint): this {
    this.grow(8);
    this.buf.writeBigUInt64BE(v, this.length);
    this.length += 8;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.grow(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  zeros(n: number): this {
    this.grow(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
    return this;
  }

  /**
   * Fixed-size NUL-padded string field. A string of exactly n bytes is written
   * without a NUL (what a peer sent round-trips); longer ones are truncated.
   */
  str(s: string, n: number): this {
    const b = Buffer.from(s, 'latin1');
    const len = Math.min(b.length, n);
    this.bytes(b.subarray(0, len));
    return this.zeros(n - len);
  }

  /** Zero padding so that (length - start) is a multiple of 8. */
  pad8(start: number): this {
    const len = this.length - start;
    return this.zeros(((len + 7) & ~7) - len);
  }

  u8At(at: number, v: number): this {
    this.buf.writeUInt8(v, at);
    return this;
  }

  u32At(at: number, v: number): this {
    this.buf.writeUInt32BE(v, at);
    return this;
  }

  setU16(at: number, v: number): this {
    this.buf.writeUInt16BE(v, at);
    return this;
  }

  /** The written bytes (a view of the internal buffer). */
  finish(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}
