/**
 * An error raised on the connection's side of the store. That side runs in a worker thread
 * and loads nothing of the domain, so it speaks in plain codes (the codes of the error
 * table); the store turns a fault into the domain's typed error on the caller's side.
 */
export class StoreFault extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreFault';
  }
}

/** What crosses the thread boundary for a failed request. */
export interface FaultData {
  readonly code: string;
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
}

/** Any error as fault data: a fault as it is, anything else as INTERNAL with its message. */
export function faultDataOf(error: unknown): FaultData {
  if (error instanceof StoreFault) return { code: error.code, message: error.message, details: error.details };
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL', message, details: {} };
}
