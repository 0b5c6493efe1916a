import { copyNewEvent, type NewEvent } from '@nexus-control/core';

/** The fields of an event that the writer chose, as plain data. */
export function written(event: NewEvent): NewEvent {
  return copyNewEvent(event);
}
