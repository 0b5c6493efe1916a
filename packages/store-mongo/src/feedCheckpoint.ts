import { FEED_START, invalidCheckpoint, type Checkpoint } from '@nexus-control/core';

/*
 * A MongoDB feed checkpoint is the feed position of an event (allocated from the counter
 * document inside the appending transaction), spelled with a prefix so that a token from
 * another store never parses as one of ours.
 */
const PREFIX = 'mg:';
const TOKEN = /^mg:([1-9][0-9]{0,15})$/;

export function encodeFeedCheckpoint(position: number): Checkpoint {
  return position === 0 ? FEED_START : PREFIX + String(position);
}

/** The feed position a checkpoint stands for; INVALID_ARGUMENT for anything this store did not issue. */
export function decodeFeedCheckpoint(checkpoint: Checkpoint): number {
  if (checkpoint === FEED_START) return 0;
  const match = TOKEN.exec(checkpoint);
  const position = match === null ? NaN : Number(match[1]);
  if (!Number.isSafeInteger(position)) throw invalidCheckpoint(checkpoint);
  return position;
}
