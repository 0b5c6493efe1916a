import type { NewEvent, StoredEvent } from '../events/DecisionEvent.js';
import { copyJson } from '../json/copyJson.js';
import type { JsonObject } from '../json/JsonValue.js';

/**
 * A stored event as plain data of its own: a store hands out copies so that no reader can
 * change what it holds, and keeps frozen copies (`freeze`) of what writers gave it.
 */
export function copyStoredEvent(event: StoredEvent, freeze = false): StoredEvent {
  const copy: StoredEvent = {
    decisionId: event.decisionId,
    seq: event.seq,
    generation: event.generation,
    checkpoint: event.checkpoint,
    ...copyNewEvent(event, freeze),
  };
  return freeze ? Object.freeze(copy) : copy;
}

/** The writer's part of an event, copied (and frozen on request). */
export function copyNewEvent(event: NewEvent, freeze = false): NewEvent {
  const actor = { type: event.actor.type, id: event.actor.id };
  const copy: NewEvent = {
    type: event.type,
    ts: event.ts,
    actor: freeze ? Object.freeze(actor) : actor,
    payload: copyJson(event.payload, freeze) as JsonObject,
    payloadJson: event.payloadJson,
    digest: event.digest,
  };
  return freeze ? Object.freeze(copy) : copy;
}
