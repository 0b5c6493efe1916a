/**
 * Every stable error code the domain can raise, with the kind of failure it is.
 * The kind is what transports map (gRPC status, HTTP status, CLI exit code); the code is
 * what clients branch on. One table, so a new code cannot be added without a kind.
 */
export const errorCodes = {
  // invalid input: the request itself is wrong
  INVALID_ARGUMENT: 'invalid_argument',
  INVALID_GOAL: 'invalid_argument',
  INVALID_POLICY: 'invalid_argument',
  INVALID_MODE: 'invalid_argument',
  INVALID_TIMESTAMP: 'invalid_argument',
  INVALID_ACTOR: 'invalid_argument',
  INVALID_ID: 'invalid_argument',
  CANONICAL_JSON_INVALID: 'invalid_argument',
  BUNDLE_INVALID_SCHEMA: 'invalid_argument',
  CONFLICT_MODE_INVALID: 'invalid_argument',
  PACKAGE_INVALID_SCHEMA: 'invalid_argument',
  SIGNING_KEY_INVALID: 'invalid_argument',

  // missing things
  DECISION_NOT_FOUND: 'not_found',
  TEMPLATE_NOT_FOUND: 'not_found',
  ADAPTER_NOT_FOUND: 'not_found',

  // uniqueness
  DECISION_EXISTS: 'already_exists',
  TEMPLATE_EXISTS: 'already_exists',

  // state and policy violations
  INVALID_STATE: 'failed_precondition',
  MODE_NOT_ALLOWED: 'failed_precondition',
  ALREADY_APPROVED: 'failed_precondition',
  NO_ACTIVE_APPROVAL: 'failed_precondition',
  POLICY_VIOLATION: 'failed_precondition',
  SELF_APPROVAL_FORBIDDEN: 'failed_precondition',
  IDEMPOTENCY_KEY_REUSED: 'failed_precondition',
  INTEGRITY_MISMATCH: 'failed_precondition',
  REPLAY_INVALID: 'failed_precondition',
  NO_ROUTER_LINK: 'failed_precondition',
  ROUTER_DIGEST_MISMATCH: 'failed_precondition',
  STORE_SCHEMA_TOO_NEW: 'failed_precondition',
  STORE_CORRUPT: 'failed_precondition',

  // concurrency
  CONCURRENCY_CONFLICT: 'aborted',

  // access
  PERMISSION_DENIED: 'permission_denied',
  UNAUTHENTICATED: 'unauthenticated',

  // a limit of the service was reached; the caller may try again later
  WATCH_BUFFER_FULL: 'resource_exhausted',

  // the store or a dependency failed
  IMPORT_ATOMICITY_FAILED: 'internal',
  STORE_UNAVAILABLE: 'unavailable',
  INTERNAL: 'internal',
} as const;

export type ErrorCode = keyof typeof errorCodes;
export type ErrorKind = (typeof errorCodes)[ErrorCode];

export function errorKindOf(code: ErrorCode): ErrorKind {
  return errorCodes[code];
}
