// OfctlSyntaxError: the one error of the ovs-ofctl text syntax. It names the
// token that was wrong, its 1-based column in the input, and why, with a
// stable `code` (ERR_OFCTL_SYNTAX) that callers and tests match on.

export class OfctlSyntaxError extends Error {
  readonly code = 'ERR_OFCTL_SYNTAX';
  /** 1-based column of the offending token in the parsed string (0 if unknown). */
  readonly column: number;
  /** The offending token, as written. */
  readonly token: string;

  constructor(message: string, token = '', column = 0) {
    super(column > 0 ? `column ${column}: ${message}` : message);
    this.name = 'OfctlSyntaxError';
    this.column = column;
    this.token = token;
  }
}

export function isOfctlSyntaxError(e: unknown): e is OfctlSyntaxError {
  return e instanceof OfctlSyntaxError;
}
