import { describe, expect, it } from 'vitest';
import type { WatchItem } from '../../src/domain/NexusControlApi.js';
import { FEED_START } from '../../src/store/EventStore.js';
import { alice, bob, requester, setup } from './fixtures.js';

/** Items of a watch until `count` of them are taken (or the watch ends). */
async function take(iterable: AsyncIterable<WatchItem>, count: number): Promise<WatchItem[]> {
  const out: WatchItem[] = [];
  for await (const item of iterable) {
    out.push(item);
    if (out.length === count) break;
  }
  return out;
}

/** Items of a watch until one matches `until` (included). */
async function takeUntil(iterable: AsyncIterable<WatchItem>, until: (item: WatchItem) => boolean): Promise<WatchItem[]> {
  const out: WatchItem[] = [];
  for await (const item of iterable) {
    out.push(item);
    if (until(item)) break;
  }
  return out;
}

const describeItem = (item: WatchItem) =>
  item.type === 'event' ? `${item.event.decisionId}#${item.event.seq}` : `${item.type}@${item.checkpoint}`;

describe('watch', () => {
  it('without a checkpoint starts at the head: caught up first, then only the live events of its decision, in order', async () => {
    const { nexus, store } = setup({ watchPollMs: 10 });
    const { decisionId } = await nexus.request({ goal: 'g' }, requester);
    const controller = new AbortController();
    const received = take(nexus.watch({ decisionId, signal: controller.signal }), 2);
    await nexus.request({ goal: 'other' }, requester);
    await nexus.approve(decisionId, {}, alice);
    const [caughtUp, event] = await received;
    expect(caughtUp?.type).toBe('caught_up');
    expect(event).toMatchObject({ type: 'event', event: { decisionId, seq: 2, type: 'APPROVAL_GRANTED' } });
    expect((await store.readFeed({ after: (caughtUp as { checkpoint: string }).checkpoint, decisionId })).events).toHaveLength(1);
    controller.abort();
  });

  it('resumes after a checkpoint with every later event exactly once', async () => {
    const { nexus } = setup({ watchPollMs: 10 });
    await nexus.request({ goal: 'a' }, requester);
    const all = await take(nexus.watch({ after: FEED_START }), 2);
    expect(all.map(describeItem).every((d) => !d.startsWith('caught_up'))).toBe(true);
    const second = all[1] as Extract<WatchItem, { type: 'event' }>;
    await nexus.request({ goal: 'b' }, requester);
    const rest = await take(nexus.watch({ after: second.event.checkpoint }), 2);
    expect(rest.map((item) => (item.type === 'event' ? (item.event.payload['goal'] ?? item.event.type) : item.type))).toEqual([
      'b',
      'POLICY_ATTACHED',
    ]);
  });

  it('says caught_up once, with the head watermark, after the backlog', async () => {
    const { nexus, store } = setup({ watchPollMs: 10 });
    await nexus.request({ goal: 'a' }, requester);
    await nexus.request({ goal: 'b' }, requester);
    const controller = new AbortController();
    const items = await takeUntil(nexus.watch({ after: FEED_START, signal: controller.signal }), (item) => item.type === 'caught_up');
    expect(items.map((item) => item.type)).toEqual(['event', 'event', 'event', 'event', 'caught_up']);
    expect(items[4]).toEqual({ type: 'caught_up', checkpoint: await store.headCheckpoint() });
    controller.abort();
  });

  it('a watch of one quiet decision reports periodic checkpoints while others move, and resuming from one misses nothing', async () => {
    const { nexus, store } = setup({ watchPollMs: 5 });
    const quiet = await nexus.request({ goal: 'quiet' }, requester);
    const busy = await nexus.request({ goal: 'busy' }, requester);
    const controller = new AbortController();
    const watching = takeUntil(
      nexus.watch({ decisionId: quiet.decisionId, signal: controller.signal, checkpointIntervalMs: 20 }),
      (item) => item.type === 'checkpoint',
    );
    await new Promise((resolve) => setTimeout(resolve, 30));
    await nexus.approve(busy.decisionId, {}, alice);
    const items = await watching;
    controller.abort();
    expect(items.map((item) => item.type)).toEqual(['caught_up', 'checkpoint']);
    const [caughtUp, progress] = items as unknown as [{ checkpoint: string }, { checkpoint: string }];
    expect(progress.checkpoint).not.toBe(caughtUp.checkpoint);
    // The checkpoint is past the busy decision's approval, and nothing of the quiet one was skipped.
    expect((await store.readFeed({ after: progress.checkpoint })).events).toEqual([]);
    await nexus.approve(quiet.decisionId, {}, bob);
    const resumed = await take(nexus.watch({ decisionId: quiet.decisionId, after: progress.checkpoint }), 1);
    expect(resumed.map(describeItem)).toEqual([`${quiet.decisionId}#2`]);
  });

  it('an unknown checkpoint fails the watch with INVALID_ARGUMENT', async () => {
    const { nexus } = setup({ watchPollMs: 10 });
    await expect(take(nexus.watch({ after: 'not-a-checkpoint' }), 1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('ends when the signal aborts', async () => {
    const { nexus } = setup({ watchPollMs: 10 });
    const controller = new AbortController();
    const done = take(nexus.watch({ signal: controller.signal }), 100);
    setTimeout(() => controller.abort(), 30);
    expect((await done).map((item) => item.type)).toEqual(['caught_up']);
  });
});
