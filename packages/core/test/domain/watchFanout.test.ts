import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/events/DecisionEvent.js';
import type { WatchItem, WatchOptions } from '../../src/domain/NexusControlApi.js';
import { createMemoryEventStore } from '../../src/store/createMemoryEventStore.js';
import { FEED_START, type EventStore } from '../../src/store/EventStore.js';
import { alice, bob, carol, requester, setup } from './fixtures.js';

/** A real memory store that counts its feed reads. */
function countingStore(inner: EventStore = createMemoryEventStore()) {
  const counts = { readFeed: 0 };
  const store: EventStore = {
    ...inner,
    readFeed(options) {
      counts.readFeed++;
      return inner.readFeed(options);
    },
  };
  return { store, counts };
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await wait(5);
  }
}

/** Consumes a watch in the background, keeping every item, until aborted or failed. */
function collect(watch: (options: WatchOptions) => AsyncIterable<WatchItem>, options: WatchOptions) {
  const controller = new AbortController();
  const items: WatchItem[] = [];
  let error: unknown;
  const done = (async () => {
    try {
      for await (const item of watch({ ...options, signal: controller.signal })) items.push(item);
    } catch (failure) {
      error = failure;
    }
  })();
  return {
    items,
    events: () => items.flatMap((item) => (item.type === 'event' ? [item.event] : [])),
    caughtUp: () => items.some((item) => item.type === 'caught_up'),
    error: () => error,
    async stop() {
      controller.abort();
      await done;
    },
  };
}

const idOf = (event: StoredEvent) => `${event.decisionId}#${event.generation}.${event.seq}`;

/** Waits until the feed reads stop: every watch has joined and the follower is idle. */
async function settled(counts: { readFeed: number }): Promise<void> {
  let last = -1;
  while (counts.readFeed !== last) {
    last = counts.readFeed;
    await wait(50);
  }
}

describe('watch fan-out', () => {
  it('1,000 open watches of quiet decisions do not multiply feed reads, and each gets exactly its events', async () => {
    const { store, counts } = countingStore();
    const { nexus } = setup({ store, watchPollMs: 60_000 });
    const decisions: string[] = [];
    for (let i = 0; i < 1000; i++) decisions.push((await nexus.request({ goal: `quiet ${i}` }, requester)).decisionId);
    const busy = (await nexus.request({ goal: 'busy', policy: { minApprovals: 3 } }, requester)).decisionId;
    const watches = decisions.map((decisionId) => collect(nexus.watch, { decisionId }));
    const everything = collect(nexus.watch, {});
    await until(() => watches.every((w) => w.caughtUp()) && everything.caughtUp());
    await settled(counts);

    counts.readFeed = 0;
    const writes = 30;
    for (let i = 0; i < writes; i++) {
      const actor = [alice, bob, carol][i % 3]!;
      if (i % 2 === 0) await nexus.approve(decisions[i]!, {}, actor);
      else if (i % 6 === 1) await nexus.approve(busy, {}, { actor: { type: 'human', id: `approver ${i}` } });
      else await nexus.request({ goal: `new ${i}` }, requester);
    }
    // 15 quiet approvals, 5 busy ones, 10 new decisions of two events each.
    await until(() => everything.events().length >= 40);
    await settled(counts);

    // One shared read per wake-up, not one per open watch (which would be 30,000 here).
    expect(counts.readFeed).toBeLessThanOrEqual(2 * writes);
    for (const [i, watch] of watches.entries()) {
      const expected = i < writes && i % 2 === 0 ? [`${decisions[i]}#0.2`] : [];
      expect(watch.events().map(idOf)).toEqual(expected);
    }
    const feed = await store.readFeed({ after: FEED_START, limit: 5000 });
    const live = feed.events.slice(feed.events.findIndex((e) => e.decisionId === decisions[0] && e.seq === 2));
    expect(everything.events().map(idOf)).toEqual(live.map(idOf));
    await Promise.all([...watches, everything].map((w) => w.stop()));
  }, 30_000);

  it('a watch resuming from an old checkpoint while others write hands over to the shared reader without a gap or a repeat', async () => {
    const inner = createMemoryEventStore();
    const writer = setup({ store: inner }).nexus;
    // Another writer commits right before every feed read, so every step of the hand-over races a write.
    let writesLeft = 0;
    const store: EventStore = {
      ...inner,
      async readFeed(options) {
        if (writesLeft > 0) {
          writesLeft--;
          await writer.request({ goal: `raced ${writesLeft}` }, requester);
        }
        return inner.readFeed(options);
      },
    };
    const { nexus } = setup({ store, watchPollMs: 5 });
    const first = await nexus.request({ goal: 'first' }, requester);
    const start = (await store.readFeed({ after: FEED_START })).checkpoint;
    for (let i = 0; i < 50; i++) await nexus.request({ goal: `history ${i}` }, requester);
    // Another watch keeps the shared reader running, so the newcomers join it mid-flight.
    const already = collect(nexus.watch, {});
    await until(already.caughtUp);
    writesLeft = 60;
    const resumed = [0, 1, 2, 3, 4].map((i) =>
      collect(nexus.watch, i === 0 ? { after: start } : { after: start, decisionId: first.decisionId }),
    );
    const fromNow = collect(nexus.watch, {});
    await until(() => writesLeft === 0 && resumed.every((w) => w.caughtUp()) && fromNow.caughtUp());
    await nexus.approve(first.decisionId, {}, alice);
    const all = (await inner.readFeed({ after: start, limit: 10_000 })).events;
    const ofFirst = all.filter((e) => e.decisionId === first.decisionId);
    await until(() => resumed[0]!.events().length >= all.length && resumed.slice(1).every((w) => w.events().length >= ofFirst.length));
    await wait(50);
    expect(resumed[0]!.events().map(idOf)).toEqual(all.map(idOf));
    for (const watch of resumed.slice(1)) expect(watch.events().map(idOf)).toEqual(ofFirst.map(idOf));
    // The watch from now sees a gapless, repeat-free tail of the feed.
    const tail = fromNow.events().map(idOf);
    expect(tail.at(-1)).toBe(`${first.decisionId}#0.2`);
    expect(tail).toEqual(all.slice(all.length - tail.length).map(idOf));
    await Promise.all([...resumed, already, fromNow].map((w) => w.stop()));
  }, 30_000);

  it('a watch whose consumer stops reading is ended with WATCH_BUFFER_FULL without holding back the others, and resumes from its last checkpoint', async () => {
    const { store } = countingStore();
    const { nexus } = setup({ store, watchPollMs: 5, watchBufferLimit: 5 });
    const controller = new AbortController();
    const stalled = nexus.watch({ signal: controller.signal })[Symbol.asyncIterator]();
    const caughtUp = await stalled.next();
    expect(caughtUp.value).toMatchObject({ type: 'caught_up' });
    const healthy = collect(nexus.watch, {});
    await until(healthy.caughtUp);
    // Let the stalled watch join the shared reader; it then stops pulling.
    const pending = stalled.next().then(
      (r) => r,
      (error: unknown) => ({ error }),
    );
    await wait(30);
    // Spaced out, so each read of the shared reader finds one request's two events: the healthy
    // watch drains them, the stalled one accumulates them.
    for (let i = 0; i < 10; i++) {
      await nexus.request({ goal: `g${i}` }, requester);
      await wait(30);
    }
    await until(() => healthy.events().length === 20);
    // It may hand over what it read before joining; then it ends with the clear code.
    const seen: StoredEvent[] = [];
    let result = await pending;
    while ('value' in result && !result.done && result.value.type === 'event') {
      seen.push(result.value.event);
      result = await stalled.next().then(
        (r) => r,
        (error: unknown) => ({ error }),
      );
    }
    expect(result).toMatchObject({ error: { code: 'WATCH_BUFFER_FULL' } });
    expect(seen.length).toBeLessThan(20);
    const last = (seen.at(-1)?.checkpoint ?? (caughtUp.value as { checkpoint: string }).checkpoint) as string;
    const rest = collect(nexus.watch, { after: last });
    await until(() => rest.events().length === 20 - seen.length);
    expect([...seen, ...rest.events()].map(idOf)).toEqual(healthy.events().map(idOf));
    await Promise.all([rest.stop(), healthy.stop()]);
    controller.abort();
  }, 15_000);

  it('the shared reader stops when the last watch closes, and starts again with the next', async () => {
    const { store, counts } = countingStore();
    const { nexus } = setup({ store, watchPollMs: 5 });
    const { decisionId } = await nexus.request({ goal: 'g' }, requester);
    const watch = collect(nexus.watch, { decisionId });
    await until(watch.caughtUp);
    await wait(30);
    expect(counts.readFeed).toBeGreaterThan(2);
    await watch.stop();
    await wait(20);
    const after = counts.readFeed;
    await wait(100);
    expect(counts.readFeed).toBe(after);
    const again = collect(nexus.watch, { decisionId });
    await until(again.caughtUp);
    await nexus.approve(decisionId, {}, alice);
    await until(() => again.events().length === 1);
    expect(again.events().map(idOf)).toEqual([`${decisionId}#0.2`]);
    await again.stop();
  });
});
