import type { EventStore } from '../store/EventStore.js';
import type { WatchItem, WatchOptions } from './NexusControlApi.js';

const BATCH = 500;
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 5000;

/**
 * The live change feed: every event after a checkpoint, once, in feed order; then waits for
 * more. Says once when it has caught up with the head, and afterwards reports progress made
 * without a matching event (a watch of one quiet decision) at most every interval, so a
 * consumer that persists checkpoints does not fall behind the head. Woken by the store's
 * append notification when it has one, and polls anyway so appends by other processes on a
 * shared database are seen too.
 */
export async function* watchEvents(store: EventStore, options: WatchOptions = {}, pollMs = 200): AsyncGenerator<WatchItem> {
  const { signal, decisionId } = options;
  const interval = options.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
  let checkpoint = options.after ?? (await store.headCheckpoint());
  /** The last checkpoint the consumer was handed, and when. */
  let reported = checkpoint;
  let reportedAt = Date.now();
  let caughtUp = false;
  let wake: (() => void) | undefined;
  const unsubscribe = store.onAppend?.(() => wake?.());
  const onAbort = () => wake?.();
  signal?.addEventListener('abort', onAbort);
  try {
    while (!signal?.aborted) {
      const page = await store.readFeed({ after: checkpoint, limit: BATCH, ...(decisionId === undefined ? {} : { decisionId }) });
      for (const event of page.events) {
        if (signal?.aborted) return;
        yield { type: 'event', event };
        reported = event.checkpoint;
        reportedAt = Date.now();
      }
      checkpoint = page.checkpoint;
      if (!page.caughtUp) continue;
      if (signal?.aborted) return;
      if (!caughtUp) {
        caughtUp = true;
        yield { type: 'caught_up', checkpoint };
        reported = checkpoint;
        reportedAt = Date.now();
      } else if (checkpoint !== reported && Date.now() - reportedAt >= interval) {
        yield { type: 'checkpoint', checkpoint };
        reported = checkpoint;
        reportedAt = Date.now();
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, pollMs);
        function done() {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        }
        wake = done;
        if (signal?.aborted) done();
      });
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    unsubscribe?.();
  }
}
