import { ErrorInfo } from './gen/google/rpc/error_details.js';
import { Status } from './gen/google/rpc/status.js';
import { ERROR_DOMAIN } from './wireNames.js';

const ERROR_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.ErrorInfo';

export interface ErrorStatus {
  /** gRPC status code. */
  readonly code: number;
  readonly message: string;
  /** The stable domain error code (ErrorInfo.reason). */
  readonly reason: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** The bytes of the `grpc-status-details-bin` trailer: google.rpc.Status with one ErrorInfo. */
export function encodeErrorStatus(status: ErrorStatus): Buffer {
  const info = ErrorInfo.encode({ reason: status.reason, domain: ERROR_DOMAIN, metadata: { ...status.metadata } }).finish();
  const encoded = Status.encode({
    code: status.code,
    message: status.message,
    details: [{ typeUrl: ERROR_INFO_TYPE_URL, value: Buffer.from(info) }],
  }).finish();
  return Buffer.from(encoded);
}

/** Reads a `grpc-status-details-bin` trailer; undefined when it holds no Nexus ErrorInfo. */
export function decodeErrorStatus(bytes: Uint8Array): ErrorStatus | undefined {
  let status: Status;
  try {
    status = Status.decode(bytes);
  } catch {
    return undefined;
  }
  for (const detail of status.details) {
    if (detail.typeUrl !== ERROR_INFO_TYPE_URL) continue;
    let info: ErrorInfo;
    try {
      info = ErrorInfo.decode(detail.value);
    } catch {
      continue;
    }
    if (info.domain !== ERROR_DOMAIN) continue;
    return { code: status.code, message: status.message, reason: info.reason, metadata: info.metadata };
  }
  return undefined;
}
