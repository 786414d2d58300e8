// Errors raised when an action list is validated at install time (never per
// packet). Each carries a stable `code` callers and tests match on, and the
// index path of the offending action ("2.actions.0").

export type ActionErrorCode =
  | 'DP_ACTION_BAD_TYPE'
  | 'DP_ACTION_BAD_PORT'
  | 'DP_ACTION_BAD_FIELD'
  | 'DP_ACTION_BAD_MASK'
  | 'DP_ACTION_BAD_KEY'
  | 'DP_ACTION_BAD_VLAN'
  | 'DP_ACTION_BAD_ETHERTYPE'
  | 'DP_ACTION_BAD_ARGUMENT'
  | 'DP_ACTION_TOO_DEEP';

export class ActionError extends Error {
  override readonly name = 'ActionError';
  constructor(
    readonly code: ActionErrorCode,
    message: string,
    /** Index path of the action within the (nested) list, e.g. "1.actions.0". */
    readonly path: string,
  ) {
    super(`action ${path}: ${message}`);
  }
}
