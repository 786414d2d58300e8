// A batch of frames in one preallocated Buffer: the unit the datapath moves.
// Each slot has HEADROOM bytes before the frame so that push_vlan/push_mpls can
// grow the frame in place by moving the Ethernet addresses backwards.
// A batch's slots are sized for its largest frame (frameMax): ports whose MTU
// is 1500 use 1,600-byte slots, jumbo ports and in-process batches the 9,280
// bytes of SLOT_BYTES.

export const BATCH_MAX = 32;
/** Bytes before each frame in its slot, room for pushed tags. */
export const HEADROOM = 64;
/** Largest frame any slot holds (jumbo frames are truncated or dropped at this size by ports). */
export const SLOT_FRAME_MAX = 9216;
/** Slots are a multiple of this many bytes (a cache line; keeps every slot 4-byte aligned for word copies). */
export const SLOT_ALIGN_BYTES = 64;
/** Bytes of one slot for frames up to SLOT_FRAME_MAX (the default). */
export const SLOT_BYTES = HEADROOM + SLOT_FRAME_MAX;

/** Bytes of one slot holding frames up to frameMax bytes: HEADROOM plus frameMax, rounded up to SLOT_ALIGN_BYTES. */
export function slotBytesFor(frameMax: number): number {
  return Math.ceil((HEADROOM + frameMax) / SLOT_ALIGN_BYTES) * SLOT_ALIGN_BYTES;
}
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

  /** Bytes of one slot (HEADROOM + frameMax, rounded up to SLOT_ALIGN_BYTES); slot i starts at i * slotBytes. */
  readonly slotBytes: number;

  private readonly buf32: Int32Array;
  private srcBuffer: ArrayBufferLike | null = null;
  private src32: Int32Array = new Int32Array(0);

  /**
   * @param capacity frames (slots)
   * @param frameMax largest frame a slot holds, 1..SLOT_FRAME_MAX (default SLOT_FRAME_MAX)
   */
  constructor(
    readonly capacity: number = BATCH_MAX,
    readonly frameMax: number = SLOT_FRAME_MAX,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`PacketBatch: capacity ${capacity} is not a positive integer`);
    if (!Number.isInteger(frameMax) || frameMax < 1 || frameMax > SLOT_FRAME_MAX)
      throw new RangeError(`PacketBatch: frameMax ${frameMax} is not an integer 1..${SLOT_FRAME_MAX}`);
    this.slotBytes = slotBytesFor(frameMax);
    // Own ArrayBuffer (not the pool), so slots are 4-byte aligned for word copies.
    this.buf = Buffer.from(new ArrayBuffer(capacity * this.slotBytes));
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
   * the batch is full; frames longer than frameMax are truncated (callers that
   * must not truncate check frameMax first, as the fd-backed ports do).
   */
  push(src: Uint8Array, srcOff = 0, srcLen = src.length - srcOff): boolean {
    const i = this.count;
    if (i >= this.capacity) return false;
    const max = this.frameMax;
    const n = srcLen > max ? max : srcLen;
    const o = i * this.slotBytes + HEADROOM;
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
    if (i >= this.capacity || length > this.frameMax) return -1;
    const o = i * this.slotBytes + HEADROOM;
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
    return this.off[i] - i * this.slotBytes;
  }
}
