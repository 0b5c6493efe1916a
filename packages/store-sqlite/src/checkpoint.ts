import { FEED_START, invalidCheckpoint, type Checkpoint } from '@nexus-control/core';

/*
 * A SQLite checkpoint is the feed position (the events table's rowid) as a decimal string:
 * writers commit one at a time under the write lock, so positions grow in commit order and a
 * position is a stable place in the feed. Position 0 is before the first event and is spelled
 * FEED_START; nothing else is ever issued, so nothing else is accepted.
 */
const ISSUED = /^[1-9][0-9]{0,15}$/;

export function checkpointOf(position: number): Checkpoint {
  return position === 0 ? FEED_START : String(position);
}

/** The position a checkpoint stands for; INVALID_ARGUMENT for a token this store never issues. */
export function parseCheckpoint(checkpoint: Checkpoint): number {
  if (checkpoint === FEED_START) return 0;
  if (ISSUED.test(checkpoint)) {
    const position = Number(checkpoint);
    if (Number.isSafeInteger(position)) return position;
  }
  throw invalidCheckpoint(checkpoint);
}
