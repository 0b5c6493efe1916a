import type { StoredEvent } from '../events/DecisionEvent.js';
import type { EventStore } from '../store/EventStore.js';
import type { WatchOptions } from './NexusControlApi.js';

const BATCH = 500;

/**
 * The live change feed: every event after a position, once, in order; then waits for more.
 * Woken by the store's append notification when it has one, and polls anyway so appends
 * by other processes on a shared database are seen too.
 */
export async function* watchEvents(store: EventStore, options: WatchOptions = {}, pollMs = 200): AsyncGenerator<StoredEvent> {
  const { signal, decisionId } = options;
  let position = options.afterPosition ?? (await store.headPosition());
  let wake: (() => void) | undefined;
  const unsubscribe = store.onAppend?.(() => wake?.());
  const onAbort = () => wake?.();
  signal?.addEventListener('abort', onAbort);
  try {
    while (!signal?.aborted) {
      const batch = await store.readFeed({ afterPosition: position, limit: BATCH, ...(decisionId === undefined ? {} : { decisionId }) });
      for (const event of batch) {
        if (signal?.aborted) return;
        position = event.position;
        yield event;
      }
      if (batch.length === BATCH) continue;
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
