// A batch of frames in one preallocated Buffer: the unit the datapath moves.
// Each slot has HEADROOM bytes before the frame so that push_vlan/push_mpls can
// grow the frame in place by moving the Ethernet addresses backwards.

export const BATCH_MAX = 32;
/** Bytes before each frame in its slot, room for pushed tags. */
export const HEADROOM = 64;
/** Largest frame a slot holds (jumbo frames are truncated to this by ports). */
export const SLOT_FRAME_MAX = 9216;
export const SLOT_BYTES = HEADROOM + SLOT_FRAME_MAX;
/** Frames up to this size are copied byte by byte (measured faster than a subarray view). */
const SMALL_COPY_MAX = 256;

export class PacketBatch {
  readonly buf: Buffer;
  /** Start of frame i within buf. */
  readonly off: Int32Array;
  /** Length of frame i in bytes. */
  readonly len: Int32Array;
  /** Number of frames in the batch. */
  count = 0;

  private readonly buf32: Int32Array;
  private srcBuffer: ArrayBufferLike | null = null;
  private src32: Int32Array = new Int32Array(0);

  constructor(readonly capacity: number = BATCH_MAX) {
    // Own ArrayBuffer (not the pool), so slots are 4-byte aligned for word copies.
    this.buf = Buffer.from(new ArrayBuffer(capacity * SLOT_BYTES));
    this.buf32 = new Int32Array(this.buf.buffer, this.buf.byteOffset, this.buf.length >> 2);
    this.off = new Int32Array(capacity);
    this.len = new Int32Array(capacity);
  }

  clear(): void {
    this.count = 0;
  }

  get full(): boolean {
    return this.count >= this.capacity;
  }

  /**
   * Copy a frame into the next slot. Returns false (and copies nothing) when
   * the batch is full; frames longer than SLOT_FRAME_MAX are truncated.
   */
  push(src: Uint8Array, srcOff = 0, srcLen = src.length - srcOff): boolean {
    const i = this.count;
    if (i >= this.capacity) return false;
    const n = srcLen > SLOT_FRAME_MAX ? SLOT_FRAME_MAX : srcLen;
    const o = i * SLOT_BYTES + HEADROOM;
    const at = src.byteOffset + srcOff;
    if (n <= SMALL_COPY_MAX && (at & 3) === 0) {
      // Small aligned frames: copy 4 bytes at a time through Int32Array views
      // (measured ~6x faster than a byte loop, ~3x faster than set(subarray()),
      // which also allocates a view per frame). The source's view is cached.
      if (src.buffer !== this.srcBuffer) {
        this.srcBuffer = src.buffer;
        this.src32 = new Int32Array(src.buffer, 0, src.buffer.byteLength >> 2);
      }
      const s32 = this.src32;
      const d32 = this.buf32;
      const words = n >> 2;
      const si = at >> 2;
      const di = (this.buf.byteOffset + o) >> 2;
      for (let k = 0; k < words; k++) d32[di + k] = s32[si + k];
      const dst = this.buf;
      for (let k = words << 2; k < n; k++) dst[o + k] = src[srcOff + k];
    } else {
      this.buf.set(src.subarray(srcOff, srcOff + n), o);
    }
    this.off[i] = o;
    this.len[i] = n;
    this.count = i + 1;
    return true;
  }

  /** Reserve the next slot for a frame of `length` bytes written by the caller; returns its offset or -1. */
  reserve(length: number): number {
    const i = this.count;
    if (i >= this.capacity || length > SLOT_FRAME_MAX) return -1;
    const o = i * SLOT_BYTES + HEADROOM;
    this.off[i] = o;
    this.len[i] = length;
    this.count = i + 1;
    return o;
  }

  /** Zero-copy view of frame i (valid until the batch is reused). */
  frame(i: number): Buffer {
    return this.buf.subarray(this.off[i], this.off[i] + this.len[i]);
  }

  /** Headroom still free in front of frame i (frame i always lives in slot i). */
  headroom(i: number): number {
    return this.off[i] - i * SLOT_BYTES;
  }
}
