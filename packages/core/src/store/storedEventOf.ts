import type { NewEvent, StoredEvent } from '../events/DecisionEvent.js';

/**
 * The stored form of an event a store has just written at the given position. The payload is
 * the writer's own (already checked and serialized), so it is shared rather than copied again.
 */
export function storedEventOf(event: NewEvent, decisionId: string, seq: number, generation: number, checkpoint: string): StoredEvent {
  return {
    decisionId,
    seq,
    generation,
    checkpoint,
    type: event.type,
    ts: event.ts,
    actor: { type: event.actor.type, id: event.actor.id },
    payload: event.payload,
    payloadJson: event.payloadJson,
    digest: event.digest,
  };
}
