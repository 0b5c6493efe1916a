import { FEED_START, type Checkpoint, type EventStore, type ReadFeedOptions, type StoredEvent } from '@nexus-control/core';
import { expect } from 'vitest';

/**
 * Reads the feed page by page as a resuming reader does (always after the last page's
 * checkpoint) until a page says it caught up; returns what it read and where it stopped.
 */
export async function readFeedToHead(
  store: EventStore,
  options: ReadFeedOptions = {},
): Promise<{ events: StoredEvent[]; checkpoint: Checkpoint; pages: number }> {
  const events: StoredEvent[] = [];
  let checkpoint = options.after ?? FEED_START;
  for (let pages = 1; pages < 100_000; pages++) {
    const page = await store.readFeed({ ...options, after: checkpoint });
    if (options.limit !== undefined) expect(page.events.length).toBeLessThanOrEqual(options.limit);
    events.push(...page.events);
    checkpoint = page.checkpoint;
    if (page.caughtUp) return { events, checkpoint, pages };
    expect(page.events.length, 'a page that did not reach the head must carry events').toBeGreaterThan(0);
  }
  throw new Error('the feed never caught up');
}
