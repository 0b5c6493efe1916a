import { Metadata, status, type ServerErrorResponse } from '@grpc/grpc-js';
import { ERROR_CODE_TRAILER, STATUS_DETAILS_TRAILER, encodeErrorStatus } from '@nexus-control/client';
import { errorKindOf, isNexusError, truncateText, type ErrorCode, type ErrorKind } from '@nexus-control/core';

/**
 * THE mapping from domain error kinds to gRPC status codes (also documented in
 * proto/nexus/control/v1/decisions.proto and proto/README.md):
 *
 * | kind                | gRPC status         | domain codes (errorCodes.ts)                               |
 * |---------------------|---------------------|------------------------------------------------------------|
 * | invalid_argument    | INVALID_ARGUMENT    | INVALID_*, CANONICAL_JSON_INVALID, *_INVALID_SCHEMA, …     |
 * | not_found           | NOT_FOUND           | DECISION_NOT_FOUND, TEMPLATE_NOT_FOUND (ADAPTER_NOT_FOUND reserved) |
 * | already_exists      | ALREADY_EXISTS      | DECISION_EXISTS, TEMPLATE_EXISTS                           |
 * | failed_precondition | FAILED_PRECONDITION | policy and state violations (INVALID_STATE, POLICY_VIOLATION, …) |
 * | aborted             | ABORTED             | CONCURRENCY_CONFLICT                                       |
 * | permission_denied   | PERMISSION_DENIED   | PERMISSION_DENIED                                          |
 * | unauthenticated     | UNAUTHENTICATED     | UNAUTHENTICATED                                            |
 * | resource_exhausted  | RESOURCE_EXHAUSTED  | WATCH_BUFFER_FULL                                          |
 * | unavailable         | UNAVAILABLE         | STORE_UNAVAILABLE                                          |
 * | internal            | INTERNAL            | IMPORT_ATOMICITY_FAILED, INTERNAL                          |
 *
 * Typed as a complete record, so a new kind cannot be added without a status.
 */
export const GRPC_STATUS_BY_KIND: Readonly<Record<ErrorKind, status>> = Object.freeze({
  invalid_argument: status.INVALID_ARGUMENT,
  not_found: status.NOT_FOUND,
  already_exists: status.ALREADY_EXISTS,
  failed_precondition: status.FAILED_PRECONDITION,
  aborted: status.ABORTED,
  permission_denied: status.PERMISSION_DENIED,
  unauthenticated: status.UNAUTHENTICATED,
  resource_exhausted: status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
  internal: status.INTERNAL,
});

/** A failed call as the wire sees it, plus what the log line needs. */
export interface MappedError {
  readonly response: ServerErrorResponse;
  readonly code: ErrorCode;
  readonly grpcCode: status;
  /** Set for failures that are not deliberate domain errors: worth logging in full. */
  readonly unexpected?: unknown;
}

/*
 * An error travels in the status message, the details trailer and the code trailer: together
 * they must stay well under a client's metadata limit whatever the input was, or the client
 * sees RESOURCE_EXHAUSTED instead of the error. Domain errors quote short prefixes of input
 * already; these bounds hold for any error.
 */
const MAX_MESSAGE_CHARS = 1024;
/** A string detail is cut to this; a structured one (JSON) is sent whole up to the next, or left out. */
const MAX_DETAIL_CHARS = 256;
const MAX_STRUCTURED_DETAIL_CHARS = 1024;
const MAX_DETAILS_TOTAL_CHARS = 2048;

/** ErrorInfo metadata is string → string: strings as they are, anything else as JSON, all bounded. */
function stringMetadata(details: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  let total = 0;
  for (const [key, value] of Object.entries(details)) {
    if (value === undefined) continue;
    const name = truncateText(key, 64);
    let text: string;
    if (typeof value === 'string') text = truncateText(value, MAX_DETAIL_CHARS);
    else {
      const json = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(value);
      // Cutting JSON would break it for the client: a structured detail is whole or absent.
      text = json.length <= MAX_STRUCTURED_DETAIL_CHARS ? json : `(left out: ${json.length} characters)`;
    }
    if (total + name.length + text.length > MAX_DETAILS_TOTAL_CHARS) break;
    total += name.length + text.length;
    out[name] = text;
  }
  return out;
}

function mapped(
  code: ErrorCode,
  grpcCode: status,
  fullMessage: string,
  details: Readonly<Record<string, unknown>>,
  unexpected?: unknown,
): MappedError {
  const message = truncateText(fullMessage, MAX_MESSAGE_CHARS);
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_TRAILER, code);
  metadata.set(STATUS_DETAILS_TRAILER, encodeErrorStatus({ code: grpcCode, message, reason: code, metadata: stringMetadata(details) }));
  const response = Object.assign(new Error(message), { code: grpcCode, details: message, metadata }) as ServerErrorResponse;
  return { response, code, grpcCode, ...(unexpected === undefined ? {} : { unexpected }) };
}

/** Maps any thrown value: NexusError by its kind; everything else to INTERNAL without leaking its message. */
export function toServiceError(error: unknown): MappedError {
  // By code, not by the error's own methods: it may come from another copy of core.
  if (isNexusError(error)) return mapped(error.code, GRPC_STATUS_BY_KIND[errorKindOf(error.code)], error.message, error.details);
  return mapped('INTERNAL', status.INTERNAL, 'internal error', {}, error);
}
