import type { NewEvent } from '../events/DecisionEvent.js';
import { assertStorableText } from './assertStorableText.js';

/** Refuses an event any of whose strings a UTF-8 store could not hold unchanged. */
export function assertStorableEvent(event: NewEvent): void {
  assertStorableText(event.type, 'event type');
  assertStorableText(event.ts, 'event ts');
  assertStorableText(event.actor.type, 'actor type');
  assertStorableText(event.actor.id, 'actor id');
  assertStorableText(event.payloadJson, 'event payload');
  assertStorableText(event.digest, 'event digest');
}
