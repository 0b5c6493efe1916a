import { NexusError } from '../errors/NexusError.js';
import type { DecisionHeader } from './EventStore.js';
import { assertStorableText } from './assertStorableText.js';

/** Refuses a decision header any of whose strings a UTF-8 store could not hold unchanged. */
export function assertStorableHeader(header: DecisionHeader): void {
  assertStorableText(header.decisionId, 'decision id');
  assertStorableText(header.createdAt, 'createdAt');
  assertStorableText(header.goal, 'goal');
  assertStorableText(header.requestedMode, 'requestedMode');
  if (!Array.isArray(header.labels)) throw new NexusError('INVALID_ARGUMENT', 'labels must be an array', {});
  for (const label of header.labels) assertStorableText(label, 'label');
}
