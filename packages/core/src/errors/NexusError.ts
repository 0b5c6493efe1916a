import { errorKindOf, type ErrorCode, type ErrorKind } from './errorCodes.js';

export type ErrorDetails = Readonly<Record<string, unknown>>;

/** The base of every error the domain raises on purpose: a stable code and a message for a person. */
export class NexusError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NexusError';
    this.code = code;
    this.details = details;
  }

  get kind(): ErrorKind {
    return errorKindOf(this.code);
  }
}

/** A lost optimistic-concurrency race: someone else appended first. Safe to retry after re-reading. */
export class ConcurrencyConflictError extends NexusError {
  constructor(
    readonly decisionId: string,
    readonly expected: { readonly generation: number; readonly length: number },
    readonly actual: { readonly generation: number; readonly length: number } | undefined,
    message?: string,
  ) {
    super(
      'CONCURRENCY_CONFLICT',
      message ??
        `decision ${decisionId} changed concurrently: expected its log at generation ${expected.generation}, ` +
          `length ${expected.length}` +
          (actual === undefined ? '' : `, but it is at generation ${actual.generation}, length ${actual.length}`),
      { decisionId, expected: { ...expected }, ...(actual === undefined ? {} : { actual: { ...actual } }) },
    );
    this.name = 'ConcurrencyConflictError';
  }
}

export function isNexusError(error: unknown): error is NexusError {
  return error instanceof NexusError;
}
