import { errorCodes, errorKindOf, type ErrorCode, type ErrorKind } from './errorCodes.js';

export type ErrorDetails = Readonly<Record<string, unknown>>;

/*
 * Error identity is the brand plus the code, never the class object: a store or adapter built
 * against another copy of this module (a second install of core, a bundled plugin) throws
 * errors from its own classes, and those must still be retried and mapped like ours. The
 * brand is a registered symbol, so every copy of the module finds the same one.
 */
const BRAND = Symbol.for('nexus-control.error');

/** True for an error any copy of core raised on purpose: branded, with a code from the table. */
export function isNexusError(error: unknown): error is NexusError {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  return (error as { [BRAND]?: unknown })[BRAND] === true && typeof code === 'string' && Object.hasOwn(errorCodes, code);
}

/** True for a lost optimistic-concurrency race raised by any copy of core. */
export function isConcurrencyConflict(error: unknown): error is ConcurrencyConflictError {
  return isNexusError(error) && error.code === 'CONCURRENCY_CONFLICT';
}

/** The base of every error the domain raises on purpose: a stable code and a message for a person. */
export class NexusError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NexusError';
    this.code = code;
    this.details = details;
    Object.defineProperty(this, BRAND, { value: true });
  }

  get kind(): ErrorKind {
    return errorKindOf(this.code);
  }

  /** `instanceof` asks the brand and the code, so it holds across copies of this module. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this === NexusError) return isNexusError(value);
    if ((this as unknown) === ConcurrencyConflictError) return isConcurrencyConflict(value);
    return Function.prototype[Symbol.hasInstance].call(this, value);
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
