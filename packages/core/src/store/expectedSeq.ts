import { ConcurrencyConflictError, NexusError } from '../errors/NexusError.js';
import type { AppendRequest } from './EventStore.js';

/**
 * The checks on an append that need no stored state, shared by every store so they all
 * reject the same malformed requests with the same code before touching storage.
 */
export function checkAppendRequest(request: AppendRequest): void {
  const { decisionId, expectedSeq, events, header } = request;
  if (!Number.isSafeInteger(expectedSeq) || expectedSeq < 0) {
    throw new NexusError('INVALID_ARGUMENT', 'expectedSeq must be a non-negative integer', { decisionId, expectedSeq });
  }
  if (events.length === 0) {
    throw new NexusError('INVALID_ARGUMENT', 'an append needs at least one event', { decisionId });
  }
  if (header !== undefined) {
    if (expectedSeq !== 0) {
      throw new NexusError('INVALID_ARGUMENT', 'a decision is created at seq 0: expectedSeq must be 0 with a header', {
        decisionId,
        expectedSeq,
      });
    }
    if (header.decisionId !== decisionId) {
      throw new NexusError('INVALID_ARGUMENT', 'the header belongs to another decision', { decisionId });
    }
  }
}

/** Fails the append when the log has moved on (or is not where the writer thinks it is). */
export function assertExpectedSeq(decisionId: string, expectedSeq: number, actualSeq: number): void {
  if (expectedSeq !== actualSeq) throw new ConcurrencyConflictError(decisionId, expectedSeq, actualSeq);
}
