import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { decodeErrorStatus } from './errorStatus.js';
import { ERROR_CODE_TRAILER, STATUS_DETAILS_TRAILER } from './wireNames.js';

/**
 * A failed call. `code` is the stable domain code (e.g. `DECISION_NOT_FOUND`) when the
 * server sent one, else the gRPC status name (`DEADLINE_EXCEEDED`, `CANCELLED`,
 * `UNAVAILABLE`, …), so callers branch on one field either way.
 */
export class NexusClientError extends Error {
  /** Domain code, or the gRPC status name when the failure came from the transport. */
  readonly code: string;
  /** The numeric gRPC status code. */
  readonly grpcCode: GrpcStatus;
  /** The domain's structured details (google.rpc.ErrorInfo metadata); `{}` when none. */
  readonly details: Readonly<Record<string, string>>;
  /** True when `code` is a domain code sent by the server. */
  readonly fromServer: boolean;
  readonly metadata: Metadata;

  constructor(
    code: string,
    grpcCode: GrpcStatus,
    message: string,
    options: { details?: Readonly<Record<string, string>>; fromServer?: boolean; metadata?: Metadata; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NexusClientError';
    this.code = code;
    this.grpcCode = grpcCode;
    this.details = options.details ?? {};
    this.fromServer = options.fromServer ?? false;
    this.metadata = options.metadata ?? new Metadata();
  }

  /** The gRPC status name, e.g. `FAILED_PRECONDITION`. */
  get grpcStatusName(): string {
    return GrpcStatus[this.grpcCode] ?? String(this.grpcCode);
  }

  /** Decodes the domain code from a failed call's trailers (rich status first, then the plain trailer). */
  static fromServiceError(error: ServiceError): NexusClientError {
    const metadata = error.metadata ?? new Metadata();
    const grpcCode = typeof error.code === 'number' ? error.code : GrpcStatus.UNKNOWN;
    const message = error.details || error.message;
    for (const value of metadata.get(STATUS_DETAILS_TRAILER)) {
      const decoded = decodeErrorStatus(typeof value === 'string' ? Buffer.from(value, 'base64') : value);
      if (decoded) {
        return new NexusClientError(decoded.reason, grpcCode, decoded.message || message, {
          details: decoded.metadata,
          fromServer: true,
          metadata,
          cause: error,
        });
      }
    }
    const plain = metadata.get(ERROR_CODE_TRAILER)[0];
    if (typeof plain === 'string' && plain !== '') {
      return new NexusClientError(plain, grpcCode, message, { fromServer: true, metadata, cause: error });
    }
    return new NexusClientError(GrpcStatus[grpcCode] ?? 'UNKNOWN', grpcCode, message, { metadata, cause: error });
  }
}

export function isNexusClientError(error: unknown): error is NexusClientError {
  return error instanceof NexusClientError;
}
