import type { StoredEvent } from '../events/DecisionEvent.js';
import { NexusError } from '../errors/NexusError.js';
import type { EventStore } from '../store/EventStore.js';
import type { FeedFollower, FeedSubscriber } from './createFeedFollower.js';
import type { WatchItem, WatchOptions } from './NexusControlApi.js';

const BATCH = 500;
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 5000;
/** Events a watch may hold for a consumer that does not keep up, before it is ended. */
export const DEFAULT_WATCH_BUFFER_LIMIT = 10_000;

export interface WatchLimits {
  /** Events buffered for one watch before it is ended with WATCH_BUFFER_FULL. */
  readonly bufferLimit?: number;
}

const identity = (event: StoredEvent) => `${event.generation}\u0000${event.seq}\u0000${event.decisionId}`;

/**
 * The live change feed: every event after a checkpoint, once, in feed order; then waits for
 * more. Says once when it has caught up with the head, and afterwards reports progress made
 * without a matching event (a watch of one quiet decision) at most every interval, so a
 * consumer that persists checkpoints does not fall behind the head.
 *
 * The history is read by the watch itself; the live part comes from the process's shared
 * follower, so an append costs one feed read however many watches are open. The hand-over
 * never compares checkpoint tokens (only the store can order them):
 *  1. read alone until a page reaches the head (position C);
 *  2. join the follower at the end of a cycle that starts afterwards, so its position P is at
 *     or past C, and from then on buffer every matching event after P;
 *  3. read alone again from C up to the head (covering C..P and maybe beyond);
 *  4. wait for a follower cycle that starts after that read, so every event of step 3 past P
 *     is in the buffer by then;
 *  5. emit the events of step 3 that are not in the buffer (those up to P), then the buffer.
 * Events are told apart by identity (decision, generation, seq), never by checkpoint order.
 */
export async function* watchEvents(
  store: EventStore,
  follower: FeedFollower,
  options: WatchOptions = {},
  limits: WatchLimits = {},
): AsyncGenerator<WatchItem> {
  const { signal, decisionId } = options;
  const interval = options.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
  const bufferLimit = limits.bufferLimit ?? DEFAULT_WATCH_BUFFER_LIMIT;
  const filter = decisionId === undefined ? {} : { decisionId };
  let checkpoint = options.after ?? (await store.headCheckpoint());
  /** The last checkpoint the consumer was handed, and when. */
  let reported = checkpoint;
  let reportedAt = Date.now();

  // 1. History, read alone and handed over as it is read.
  for (;;) {
    if (signal?.aborted) return;
    const page = await store.readFeed({ after: checkpoint, limit: BATCH, ...filter });
    for (const event of page.events) {
      if (signal?.aborted) return;
      yield { type: 'event', event };
      reported = event.checkpoint;
      reportedAt = Date.now();
    }
    checkpoint = page.checkpoint;
    if (page.caughtUp) break;
  }
  if (signal?.aborted) return;
  yield { type: 'caught_up', checkpoint };
  reported = checkpoint;
  reportedAt = Date.now();

  /** Delivered and not yet handed over: `buffer[next..]`. */
  let buffer: StoredEvent[] = [];
  let next = 0;
  let failure: unknown;
  let wake: (() => void) | undefined;
  /** The shared tick this watch already waits for. */
  let tickSlot: number | undefined;
  const subscriber: FeedSubscriber = {
    decisionId,
    deliver(event) {
      if (failure !== undefined) return;
      if (buffer.length - next >= bufferLimit) {
        failure = watchBehind(bufferLimit);
        buffer = [];
        next = 0;
        follower.leave(subscriber);
      } else buffer.push(event);
      wake?.();
    },
    fail(error) {
      failure ??= error;
      buffer = [];
      next = 0;
      wake?.();
    },
  };
  const onAbort = () => wake?.();
  signal?.addEventListener('abort', onAbort);
  try {
    // 2.–4. Join the shared follower without a gap or a repeat.
    await follower.join(subscriber);
    const own: StoredEvent[] = [];
    for (;;) {
      if (signal?.aborted) return;
      const page = await store.readFeed({ after: checkpoint, limit: BATCH, ...filter });
      own.push(...page.events);
      if (own.length > bufferLimit) throw watchBehind(bufferLimit);
      checkpoint = page.checkpoint;
      if (page.caughtUp) break;
    }
    await follower.sync();
    // 5. Own events up to the join point, then the buffer.
    const buffered = new Set(buffer.map(identity));
    for (const event of own) {
      if (buffered.has(identity(event))) continue;
      if (signal?.aborted) return;
      yield { type: 'event', event };
      reported = event.checkpoint;
      reportedAt = Date.now();
    }

    // Live: the buffer, then whatever the follower delivers; periodic progress when quiet.
    for (;;) {
      if (signal?.aborted) return;
      if (failure !== undefined) throw failure;
      const event = buffer[next];
      if (event) {
        next++;
        // Drop what was handed over once it is most of the array, so a reader that is always a
        // little behind does not keep the whole history alive.
        if (next === buffer.length || (next >= 1024 && next * 2 >= buffer.length)) {
          buffer = buffer.slice(next);
          next = 0;
        }
        yield { type: 'event', event };
        reported = event.checkpoint;
        reportedAt = Date.now();
        continue;
      }
      const position = follower.position();
      const due = reportedAt + interval - Date.now();
      if (position !== undefined && position !== reported && due <= 0) {
        yield { type: 'checkpoint', checkpoint: position };
        reported = position;
        reportedAt = Date.now();
        continue;
      }
      // Wait for an event, a failure, the abort, or the next time progress may be reported
      // (on the follower's shared clock, so due reports of many watches go out together).
      const tick = follower.tick(Date.now() + Math.max(due > 0 ? due : interval, 1));
      if (tick.slot !== tickSlot) {
        tickSlot = tick.slot;
        void tick.reached.then(() => {
          if (tickSlot === tick.slot) tickSlot = undefined;
          wake?.();
        });
      }
      await new Promise<void>((resolve) => {
        wake = () => {
          wake = undefined;
          resolve();
        };
        if (signal?.aborted || buffer.length > next || failure !== undefined) wake();
      });
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    follower.leave(subscriber);
  }
}

function watchBehind(bufferLimit: number): NexusError {
  return new NexusError(
    'WATCH_BUFFER_FULL',
    `the watch fell ${bufferLimit} events behind the feed and was ended; resume from its last checkpoint`,
    {
      bufferLimit,
    },
  );
}
