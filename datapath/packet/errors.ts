// Errors thrown by datapath/packet builders and address parsers. Decoders never
// throw: they report a truncated or malformed layer in the decoded frame instead.

export type PacketErrorCode =
  | 'ERR_PACKET_BAD_MAC'
  | 'ERR_PACKET_BAD_IPV4'
  | 'ERR_PACKET_BAD_IPV6'
  | 'ERR_PACKET_BAD_FIELD'
  | 'ERR_PACKET_TOO_LONG';

export class PacketError extends Error {
  constructor(
    readonly code: PacketErrorCode,
    message: string,
    /** The offending field, for logs and tests. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'PacketError';
  }
}

/** Throws ERR_PACKET_BAD_FIELD unless value is an integer in [0, max]. Returns value. */
export function checkUint(field: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new PacketError('ERR_PACKET_BAD_FIELD', `${field}: ${value} is not an integer in 0..${max}`, field);
  }
  return value;
}

/** Throws ERR_PACKET_TOO_LONG when a length does not fit its wire field. */
export function checkLength(field: string, length: number, max: number): number {
  if (length > max) {
    throw new PacketError('ERR_PACKET_TOO_LONG', `${field}: ${length} bytes exceeds the field's maximum ${max}`, field);
  }
  return length;
}

/**
 * A RangeError with Node's own code for reads outside a buffer (what
 * Buffer.readUInt16BE throws): a caller passed a range it did not bound.
 */
export function outOfRange(message: string): RangeError & { code: 'ERR_OUT_OF_RANGE' } {
  return Object.assign(new RangeError(message), { code: 'ERR_OUT_OF_RANGE' as const });
}
