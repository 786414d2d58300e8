// OfpError: the one error type of the OpenFlow codec. It carries the spec's
// ERROR type/code so the switch can answer with an OFPT_ERROR holding the
// offending bytes, and a stable string `code` ('OFPBMC_BAD_FIELD') for tests
// and logs, like Node's ERR_* codes.
import { ERROR_TABLES, OFPBRC, OFPET } from './constants.js';

/** Name of an error type, e.g. 'OFPET_BAD_MATCH' (or 'OFPET_<n>' if unknown). */
export function errorTypeName(type: number): string {
  if (type === OFPET.EXPERIMENTER) return 'OFPET_EXPERIMENTER';
  const t = ERROR_TABLES.find((e) => e[0] === type);
  return t ? t[1] : `OFPET_${type}`;
}

/** Name of an error code within its type, e.g. 'OFPBMC_BAD_FIELD'. */
export function errorCodeName(type: number, code: number): string {
  const t = ERROR_TABLES.find((e) => e[0] === type);
  if (!t) return `${errorTypeName(type)}_${code}`;
  for (const [name, value] of Object.entries(t[3])) if (value === code) return t[2] + name;
  return `${t[2]}${code}`;
}

export class OfpError extends Error {
  /** OFPET_* number (ofp_error_msg.type). */
  readonly type: number;
  /** Code number within the type (ofp_error_msg.code). */
  readonly errorCode: number;
  /** Stable name of type+code, e.g. 'OFPBRC_BAD_LEN'. */
  readonly code: string;
  /** Error type name, e.g. 'OFPET_BAD_REQUEST'. */
  readonly typeName: string;
  /**
   * The offending message bytes for the ERROR data field (decodeMessage
   * fills in the whole message, see ERROR_DATA_MAX_BYTES); empty if unknown.
   */
  data: Buffer;

  constructor(type: number, errorCode: number, message: string, data: Buffer = Buffer.alloc(0), cause?: unknown) {
    const code = errorCodeName(type, errorCode);
    super(`${code}: ${message}`, cause === undefined ? undefined : { cause });
    this.name = 'OfpError';
    this.type = type;
    this.errorCode = errorCode;
    this.code = code;
    this.typeName = errorTypeName(type);
    this.data = data;
  }
}

/** OFPET_BAD_REQUEST/OFPBRC_BAD_LEN, the usual answer to a malformed length. */
export function badLen(message: string): OfpError {
  return new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, message);
}

export function isOfpError(e: unknown): e is OfpError {
  return e instanceof OfpError;
}
