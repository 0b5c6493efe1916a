import type { NewEvent } from '@nexus-control/core';

/** The fields of an event that the writer chose, as plain data. */
export function written(event: NewEvent): NewEvent {
  return {
    type: event.type,
    ts: event.ts,
    actor: { type: event.actor.type, id: event.actor.id },
    payload: event.payload,
    payloadJson: event.payloadJson,
    digest: event.digest,
  };
}
