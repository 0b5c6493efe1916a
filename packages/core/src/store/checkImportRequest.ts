import { NexusError } from '../errors/NexusError.js';
import type { ImportRequest } from './EventStore.js';

/**
 * The checks on an import that need no stored state, shared by every store so they all reject
 * the same malformed requests with the same code before touching storage.
 */
export function checkImportRequest(request: ImportRequest): void {
  const { conflictMode, events, header, expectedVersion } = request;
  const decisionId = header?.decisionId;
  if (typeof decisionId !== 'string') {
    throw new NexusError('INVALID_ARGUMENT', 'an import needs a header with a decision id');
  }
  if (conflictMode !== 'reject' && conflictMode !== 'overwrite') {
    throw new NexusError('INVALID_ARGUMENT', 'conflictMode must be reject or overwrite', { decisionId, conflictMode });
  }
  if (!Array.isArray(events) || events.length === 0) {
    throw new NexusError('INVALID_ARGUMENT', 'an imported decision needs at least one event', { decisionId });
  }
  if (expectedVersion !== undefined) {
    if (conflictMode !== 'overwrite') {
      throw new NexusError('INVALID_ARGUMENT', 'only an overwrite import names the log it replaces', { decisionId });
    }
    if (
      typeof expectedVersion !== 'object' ||
      expectedVersion === null ||
      !isVersionNumber(expectedVersion.generation) ||
      !isVersionNumber(expectedVersion.length)
    ) {
      throw new NexusError('INVALID_ARGUMENT', 'expectedVersion must hold a non-negative generation and length', { decisionId });
    }
  }
  if (request.verify !== undefined && typeof request.verify !== 'function') {
    throw new NexusError('INVALID_ARGUMENT', 'verify must be a function', { decisionId });
  }
}

function isVersionNumber(n: unknown): boolean {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}
