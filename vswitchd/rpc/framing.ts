// Length-prefixed frames on a byte stream: [u32 BE payload length][payload].
// The decoder accepts arbitrary chunking (a frame split over many reads, many
// frames in one read) and refuses a length beyond its bound before buffering
// anything of it, so a peer cannot make us allocate more than maxFrameBytes.

export const FRAME_HEADER_BYTES = 4;
/** Default bound on one payload: generous for a full DB dump, small enough to refuse garbage. */
export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024;

export class FramingError extends Error {
  readonly code = 'ERR_RPC_FRAME_TOO_LARGE';
  constructor(
    message: string,
    readonly lengthBytes: number,
  ) {
    super(message);
    this.name = 'FramingError';
  }
}

/** One frame holding `payload`. Throws if the payload exceeds maxFrameBytes. */
export function encodeFrame(payload: Uint8Array, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Buffer {
  if (payload.length > maxFrameBytes) {
    throw new FramingError(`RPC frame of ${payload.length} bytes exceeds the ${maxFrameBytes}-byte limit`, payload.length);
  }
  const b = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  b.writeUInt32BE(payload.length, 0);
  b.set(payload, FRAME_HEADER_BYTES);
  return b;
}

export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private failed = false;

  constructor(readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {}

  /** Bytes held waiting for the rest of a frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /**
   * Feeds bytes; returns the payloads completed by them, in order. Throws
   * FramingError on an oversize length; the decoder is then unusable (the
   * stream has lost sync, so the connection must be closed).
   */
  push(chunk: Uint8Array): Buffer[] {
    if (this.failed) throw new FramingError('RPC stream already failed', 0);
    if (chunk.length > 0) {
      this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      this.buffered += chunk.length;
    }
    const out: Buffer[] = [];
    for (;;) {
      if (this.buffered < FRAME_HEADER_BYTES) break;
      const head = this.peek(FRAME_HEADER_BYTES);
      const len = head.readUInt32BE(0);
      if (len > this.maxFrameBytes) {
        this.failed = true;
        this.chunks = [];
        this.buffered = 0;
        throw new FramingError(`RPC frame length ${len} exceeds the ${this.maxFrameBytes}-byte limit`, len);
      }
      if (this.buffered < FRAME_HEADER_BYTES + len) break;
      const all = this.take(FRAME_HEADER_BYTES + len);
      out.push(all.subarray(FRAME_HEADER_BYTES));
    }
    return out;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0];
    return Buffer.concat(this.chunks, Math.min(this.buffered, Math.max(n, 0)));
  }

  private take(n: number): Buffer {
    let out: Buffer;
    const first = this.chunks[0];
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.chunks, this.buffered);
      out = all.subarray(0, n);
      this.chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.buffered -= n;
    return out;
  }
}
