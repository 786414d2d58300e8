// What a layer decoder returns instead of throwing: the layer was cut short
// (truncated) or its fields contradict themselves (malformed).

export interface DecodeIssue {
  readonly kind: 'issue';
  readonly truncated: boolean;
  readonly message: string;
}

export function truncated(message: string): DecodeIssue {
  return { kind: 'issue', truncated: true, message };
}

export function malformed(message: string): DecodeIssue {
  return { kind: 'issue', truncated: false, message };
}

/** A Buffer view of any byte array, without copying. */
export function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
