// Errors of the connection manager, with stable codes like Node's ERR_*.
// Protocol errors towards a peer are OfpError ERROR replies, never these.

export type ConnMgrErrorCode =
  | 'ERR_CONNMGR_BAD_TARGET'
  | 'ERR_CONNMGR_NO_SSL_CONFIG'
  | 'ERR_CONNMGR_SOCKET_PATH'
  | 'ERR_CONNMGR_STOPPED';

export class ConnMgrError extends Error {
  constructor(
    readonly code: ConnMgrErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConnMgrError';
  }
}
