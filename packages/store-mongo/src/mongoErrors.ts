import {
  MongoBulkWriteError,
  MongoError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
import { NexusError } from '@nexus-control/core';

export const DUPLICATE_KEY = 11000;
export const WRITE_CONFLICT = 112;

/** Server codes that mean "no usable primary right now" (elections, shutdown, unreachable hosts). */
const UNAVAILABLE_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/** Socket errors the driver sometimes lets through unwrapped when the server goes away mid-write. */
const SOCKET_ERROR_CODES = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

export function isDuplicateKey(error: unknown): error is MongoServerError {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}

/**
 * `insertMany` wraps a failure of the whole batch (no write errors, no code from the server) in
 * a MongoBulkWriteError that keeps the original's message but not its class: recognized here by
 * that shape and a network message.
 */
function isWrappedNetworkError(error: MongoBulkWriteError): boolean {
  const { writeErrors } = error as { writeErrors?: unknown };
  const hasServerVerdict =
    (Array.isArray(writeErrors) ? writeErrors.length > 0 : writeErrors !== undefined) ||
    error.code !== undefined ||
    error.writeConcernError !== undefined;
  return !hasServerVerdict && /connection|network|socket|timed out|interrupted|closed|ECONN|EPIPE/i.test(error.message);
}

/** The server or the network is (for now) out of reach: a call should fail fast, not retry for minutes. */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof MongoBulkWriteError) return isWrappedNetworkError(error);
  if (
    error instanceof MongoNetworkError ||
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoTopologyClosedError
  ) {
    return true;
  }
  if (error instanceof MongoServerError) return typeof error.code === 'number' && UNAVAILABLE_CODES.has(error.code);
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === 'string' && SOCKET_ERROR_CODES.has(code);
}

export function unavailableError(error: unknown, location: string): NexusError {
  const reason = error instanceof Error ? error.message : String(error);
  return new NexusError('STORE_UNAVAILABLE', `MongoDB at ${location} is unavailable: ${reason}`, { location }, { cause: error });
}

/**
 * Maps what escapes a store call to the contract's errors: the domain's own errors pass
 * through, an unreachable server is STORE_UNAVAILABLE, anything else from the driver is
 * INTERNAL (with the driver error as its cause), never a raw driver error.
 */
export function toStoreError(error: unknown, location: string): Error {
  if (error instanceof NexusError) return error;
  if (isUnavailable(error)) return unavailableError(error, location);
  if (error instanceof MongoError) {
    return new NexusError(
      'INTERNAL',
      `MongoDB at ${location} failed: ${error.message}`,
      {
        location,
        ...(typeof error.code === 'number' || typeof error.code === 'string' ? { mongoCode: error.code } : {}),
      },
      { cause: error },
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}
