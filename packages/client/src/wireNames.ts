/** Names on the wire that clients and the server must agree on. */

/** Trailer with the stable domain error code, for clients without rich-status support. */
export const ERROR_CODE_TRAILER = 'nexus-error-code';
/** Trailer with a serialized google.rpc.Status carrying a google.rpc.ErrorInfo. */
export const STATUS_DETAILS_TRAILER = 'grpc-status-details-bin';
/** google.rpc.ErrorInfo.domain of every Nexus Control error. */
export const ERROR_DOMAIN = 'nexus-control';
/** Request header with the bearer token: `authorization: Bearer <token>`. */
export const AUTHORIZATION_HEADER = 'authorization';

/** 64 MiB: bundles and audit packages of long-lived decisions are large. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
