import { ConcurrencyConflictError, NexusError } from '../errors/NexusError.js';
import { checkLeaseGrant } from './checkLease.js';
import type { AppendRequest } from './EventStore.js';

/*
 * The whole optimistic-concurrency vocabulary of the store contract.
 *
 * A decision's log is identified by its generation: 0 for the log the decision was created
 * with, and each overwrite import starts the next one (the replaced log is kept, superseded).
 * An append names the exact log it was decided on — generation and length — so a writer that
 * validated against a log that has since grown *or been replaced* loses, even when the new log
 * has the same length as the old one.
 */

/** The version of a decision's log: which log, and how many events it holds. */
export interface LogVersion {
  readonly generation: number;
  /** The number of events in that log: the seq the next event gets. */
  readonly length: number;
}

/** The version an append that creates a decision expects: no log yet. */
export const NEW_DECISION: LogVersion = Object.freeze({ generation: 0, length: 0 });

export function sameLogVersion(a: LogVersion, b: LogVersion): boolean {
  return a.generation === b.generation && a.length === b.length;
}

export function formatLogVersion(version: LogVersion): string {
  return `generation ${version.generation}, length ${version.length}`;
}

/** Fails the append when the log is not the one the writer decided on. */
export function assertExpectedVersion(decisionId: string, expected: LogVersion, actual: LogVersion): void {
  if (!sameLogVersion(expected, actual)) throw new ConcurrencyConflictError(decisionId, expected, actual);
}

function isVersionNumber(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/**
 * The checks on an append that need no stored state, shared by every store so they all
 * reject the same malformed requests with the same code before touching storage.
 */
export function checkAppendRequest(request: AppendRequest): void {
  const { decisionId, expectedVersion, events, header } = request;
  if (
    typeof expectedVersion !== 'object' ||
    expectedVersion === null ||
    !isVersionNumber(expectedVersion.generation) ||
    !isVersionNumber(expectedVersion.length)
  ) {
    throw new NexusError('INVALID_ARGUMENT', 'expectedVersion must hold a non-negative generation and length', {
      decisionId,
    });
  }
  if (events.length === 0) {
    throw new NexusError('INVALID_ARGUMENT', 'an append needs at least one event', { decisionId });
  }
  if (request.lease !== undefined) checkLeaseGrant(request.lease);
  if (header !== undefined) {
    if (!sameLogVersion(expectedVersion, NEW_DECISION)) {
      throw new NexusError(
        'INVALID_ARGUMENT',
        'a decision is created as generation 0 at seq 0: expectedVersion must be NEW_DECISION with a header',
        {
          decisionId,
        },
      );
    }
    if (header.decisionId !== decisionId) {
      throw new NexusError('INVALID_ARGUMENT', 'the header belongs to another decision', { decisionId });
    }
  }
}
