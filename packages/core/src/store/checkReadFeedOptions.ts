import { NexusError } from '../errors/NexusError.js';
import { DEFAULT_FEED_LIMIT, FEED_START, type Checkpoint, type ReadFeedOptions } from './EventStore.js';

/** `ReadFeedOptions` with its defaults applied. The checkpoint is still the store's to parse. */
export interface CheckedReadFeedOptions {
  readonly after: Checkpoint;
  readonly decisionId: string | undefined;
  readonly limit: number;
}

/** Longer than any token a store issues; a bound so a hostile token is rejected before parsing. */
export const MAX_CHECKPOINT_LENGTH = 256;

/**
 * The checks on a feed read that need no stored state, shared by every store. Whether the
 * checkpoint is one the store issued is for the store to decide (INVALID_ARGUMENT when not).
 */
export function checkReadFeedOptions(options: ReadFeedOptions = {}): CheckedReadFeedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new NexusError('INVALID_ARGUMENT', 'feed options must be an object');
  }
  const after = options.after ?? FEED_START;
  if (typeof after !== 'string' || after.length > MAX_CHECKPOINT_LENGTH) {
    throw new NexusError('INVALID_ARGUMENT', 'invalid feed checkpoint', { checkpoint: String(after).slice(0, 64) });
  }
  const limit = options.limit ?? DEFAULT_FEED_LIMIT;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) {
    throw new NexusError('INVALID_ARGUMENT', 'limit must be a positive integer', { limit });
  }
  const { decisionId } = options;
  if (decisionId !== undefined && typeof decisionId !== 'string') {
    throw new NexusError('INVALID_ARGUMENT', 'decisionId must be a string', {});
  }
  return { after, decisionId, limit };
}

/** The error for a checkpoint the store did not issue. */
export function invalidCheckpoint(checkpoint: string): NexusError {
  return new NexusError('INVALID_ARGUMENT', 'invalid feed checkpoint: this store did not issue it', {
    checkpoint: checkpoint.slice(0, 64),
  });
}
