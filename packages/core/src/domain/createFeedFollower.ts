import type { StoredEvent } from '../events/DecisionEvent.js';
import type { Checkpoint, EventStore } from '../store/EventStore.js';

/** One open watch as the shared follower sees it. */
export interface FeedSubscriber {
  /** Only this decision's events; undefined for every event. */
  readonly decisionId: string | undefined;
  /** Each matching event, once, in feed order, synchronously as the follower reads it. */
  deliver(event: StoredEvent): void;
  /** The follower could not read the feed: the subscription is over. */
  fail(error: unknown): void;
}

export interface FeedFollower {
  /**
   * Subscribes at the end of a read cycle (a read up to the visible head) that starts after
   * this call, and resolves with the follower's position then: the subscriber receives every
   * matching event after that position. Because the cycle starts after the call, the position
   * is at or past any head the caller read before calling.
   */
  join(subscriber: FeedSubscriber): Promise<Checkpoint>;
  /**
   * Resolves once a read cycle that started after this call has ended, with the position it
   * reached: every event committed before the call has been delivered by then.
   */
  sync(): Promise<Checkpoint>;
  leave(subscriber: FeedSubscriber): void;
  /**
   * How far the follower has read and delivered (undefined while stopped). A subscriber whose
   * buffer is empty has seen every matching event up to here.
   */
  position(): Checkpoint | undefined;
  /** Open subscriptions. */
  size(): number;
  /**
   * A shared clock for the subscribers' periodic work: resolves at the first tick (a multiple of
   * the tick length) at or after `atMs`, the same promise for every caller of one tick. Watches
   * whose progress reports fall due together send them in one turn of the event loop, which the
   * transport batches, instead of each on its own timer.
   */
  tick(atMs: number): { readonly slot: number; readonly reached: Promise<void> };
}

export interface FeedFollowerOptions {
  /** Poll interval for appends the store cannot announce (other processes on a shared database). */
  readonly pollMs?: number;
  /** Events per feed read. */
  readonly pageLimit?: number;
  /** Granularity of `tick`, in milliseconds. */
  readonly tickMs?: number;
  /**
   * Least time between the starts of two reads: appends that arrive in a burst are read
   * together, so a busy writer costs one read per interval rather than one per append.
   */
  readonly minReadIntervalMs?: number;
}

interface Waiter {
  readonly joining?: FeedSubscriber;
  resolve(checkpoint: Checkpoint): void;
  reject(error: unknown): void;
}

/**
 * One reader of the change feed for every watch of a process: each new page is read once,
 * whatever the number of open watches, and handed to the subscribers of its decisions (a map
 * from decision id to subscribers, plus those watching everything). It runs while anyone is
 * subscribed or waiting, woken by the store's append notification and polling as a fallback.
 * Subscribers keep their own history reads and buffers (see `watchEvents`).
 */
export function createFeedFollower(store: EventStore, options: FeedFollowerOptions = {}): FeedFollower {
  const pollMs = options.pollMs ?? 200;
  const pageLimit = options.pageLimit ?? 1000;
  const tickMs = options.tickMs ?? 100;
  const minReadIntervalMs = options.minReadIntervalMs ?? 20;
  let lastReadAt = -Infinity;
  const ticks = new Map<number, { reached: Promise<void>; resolve: () => void }>();
  let tickTimer: ReturnType<typeof setTimeout> | undefined;
  let tickTimerAt = Infinity;
  const byDecision = new Map<string, Set<FeedSubscriber>>();
  const everything = new Set<FeedSubscriber>();
  const departed = new WeakSet<FeedSubscriber>();
  let count = 0;
  let waiters: Waiter[] = [];
  let position: Checkpoint | undefined;
  let running = false;
  let wake: (() => void) | undefined;
  let unsubscribe: (() => void) | undefined;

  function add(subscriber: FeedSubscriber): void {
    if (subscriber.decisionId === undefined) everything.add(subscriber);
    else {
      let set = byDecision.get(subscriber.decisionId);
      if (!set) byDecision.set(subscriber.decisionId, (set = new Set()));
      set.add(subscriber);
    }
    count++;
  }

  function remove(subscriber: FeedSubscriber): boolean {
    if (subscriber.decisionId === undefined) return everything.delete(subscriber);
    const set = byDecision.get(subscriber.decisionId);
    if (!set?.delete(subscriber)) return false;
    if (set.size === 0) byDecision.delete(subscriber.decisionId);
    return true;
  }

  function dispatch(event: StoredEvent): void {
    for (const subscriber of everything) subscriber.deliver(event);
    const set = byDecision.get(event.decisionId);
    if (set) for (const subscriber of set) subscriber.deliver(event);
  }

  async function readToHead(): Promise<void> {
    if (position === undefined) {
      position = await store.headCheckpoint();
      return;
    }
    for (;;) {
      const page = await store.readFeed({ after: position, limit: pageLimit });
      for (const event of page.events) dispatch(event);
      position = page.checkpoint;
      if (page.caughtUp) return;
    }
  }

  function idle(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, pollMs);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });
  }

  async function run(): Promise<void> {
    try {
      while (count > 0 || waiters.length > 0) {
        const gap = lastReadAt + minReadIntervalMs - Date.now();
        if (gap > 0) await new Promise((resolve) => setTimeout(resolve, gap));
        lastReadAt = Date.now();
        // Only those who asked before this cycle's read began are answered at its end.
        const served = waiters;
        waiters = [];
        try {
          await readToHead();
        } catch (error) {
          for (const waiter of served) waiter.reject(error);
          throw error;
        }
        for (const waiter of served) {
          if (waiter.joining && !departed.has(waiter.joining)) add(waiter.joining);
          waiter.resolve(position!);
        }
        if (waiters.length === 0 && count > 0) await idle();
      }
    } catch (error) {
      const failed = [...everything, ...[...byDecision.values()].flatMap((set) => [...set])];
      everything.clear();
      byDecision.clear();
      count = 0;
      const pending = waiters;
      waiters = [];
      for (const waiter of pending) waiter.reject(error);
      for (const subscriber of failed) subscriber.fail(error);
    } finally {
      // Stopped: a later start reads from the head again, as nobody is left to owe events to.
      running = false;
      position = undefined;
      unsubscribe?.();
      unsubscribe = undefined;
    }
  }

  function request(joining?: FeedSubscriber): Promise<Checkpoint> {
    return new Promise<Checkpoint>((resolve, reject) => {
      waiters.push({ ...(joining ? { joining } : {}), resolve, reject });
      if (running) {
        wake?.();
        return;
      }
      running = true;
      unsubscribe = store.onAppend?.(() => wake?.());
      void run();
    });
  }

  function fireTicks(): void {
    tickTimer = undefined;
    tickTimerAt = Infinity;
    const now = Date.now();
    for (const [slot, entry] of ticks) {
      if (slot > now) continue;
      ticks.delete(slot);
      entry.resolve();
    }
    scheduleTicks();
  }

  function scheduleTicks(): void {
    let earliest = Infinity;
    for (const slot of ticks.keys()) earliest = Math.min(earliest, slot);
    if (earliest >= tickTimerAt) return;
    if (tickTimer !== undefined) clearTimeout(tickTimer);
    tickTimerAt = earliest;
    if (earliest === Infinity) return;
    // The feed reader's own timer keeps the process alive while anyone watches; a tick left
    // behind by a watch that ended must not.
    tickTimer = setTimeout(fireTicks, Math.max(0, earliest - Date.now()));
    tickTimer.unref?.();
  }

  return {
    tick(atMs) {
      const slot = Math.ceil(atMs / tickMs) * tickMs;
      let entry = ticks.get(slot);
      if (!entry) {
        let resolve!: () => void;
        const reached = new Promise<void>((r) => (resolve = r));
        ticks.set(slot, (entry = { reached, resolve }));
        scheduleTicks();
      }
      return { slot, reached: entry.reached };
    },
    join: (subscriber) => request(subscriber),
    sync: () => request(),
    leave(subscriber) {
      if (remove(subscriber)) count--;
      // Left before its join completed: the join still resolves, but subscribes nobody.
      else departed.add(subscriber);
      // The loop notices it has nobody left at its next wake-up; wake it now so it stops promptly.
      if (count === 0 && waiters.length === 0) wake?.();
    },
    position: () => position,
    size: () => count,
  };
}
