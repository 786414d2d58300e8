// Errors of the flow caches, each with a stable `code` callers and tests match on.

export type FlowCacheErrorCode =
  /** The classifier holds flow-limit flows; nothing more is installed. */
  | 'ERR_FLOW_LIMIT'
  /** A key or mask is not a KEY_WORDS-word Uint32Array. */
  | 'ERR_FLOW_KEY_LENGTH';

export class FlowCacheError extends Error {
  constructor(
    readonly code: FlowCacheErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'FlowCacheError';
  }
}
