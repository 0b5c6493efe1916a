import type { Checkpoint, EventStore, FeedPage, StoredEvent } from '@nexus-control/core';
import { describe, expect, it } from 'vitest';
import { createCommitHold } from './commitHold.js';
import type { ConformanceContext } from './conformanceContext.js';
import { approveRequest, createRequest } from './fixtures.js';
import { readFeedToHead } from './readFeedToHead.js';
import { settledWithin } from './timing.js';

const keyOf = (e: StoredEvent) => `${e.decisionId}#${e.seq}`;
/** Long enough for any store to commit an append that nothing blocks. */
const COMMIT_WITHIN_MS = 5000;

/**
 * Holds an append to `held` open before its commit, commits one to `quick` meanwhile, reads
 * the feed, then releases the first. Readers that kept their checkpoints (of the whole feed,
 * of the held decision, and the head watermark taken meanwhile) see each append exactly once.
 * Exported so a deliberately broken store can be shown to fail it.
 */
export async function outOfOrderCommitsCase(ctx: ConformanceContext): Promise<void> {
  const store = await ctx.newStore();
  await store.append(createRequest('held'));
  await store.append(createRequest('quick'));
  const start = await store.headCheckpoint();
  const hold = createCommitHold('held');
  const hooked = await ctx.hookedHandle(store, hold.hook);

  const appendingHeld = hooked.append(approveRequest('held', 2, 'a'));
  let first!: FeedPage;
  let firstOfHeld!: FeedPage;
  let watermark!: Checkpoint;
  try {
    expect(await settledWithin(hold.entered, COMMIT_WITHIN_MS), 'the append never reached its beforeCommit hook').toBe('fulfilled');
    expect(await settledWithin(store.append(approveRequest('quick', 2, 'b')), COMMIT_WITHIN_MS)).toBe('fulfilled');
    watermark = await store.headCheckpoint();
    first = await store.readFeed({ after: start });
    firstOfHeld = await store.readFeed({ after: start, decisionId: 'held' });
    expect(first.events.map(keyOf)).not.toContain('held#2');
    expect(firstOfHeld.events).toEqual([]);
  } finally {
    hold.release();
  }
  await appendingHeld;

  const rest = await readFeedToHead(store, { after: first.checkpoint });
  expect([...first.events, ...rest.events].map(keyOf).sort(), 'a whole-feed reader that kept its checkpoint').toEqual([
    'held#2',
    'quick#2',
  ]);
  const restOfHeld = await readFeedToHead(store, { after: firstOfHeld.checkpoint, decisionId: 'held' });
  expect(restOfHeld.events.map(keyOf), 'a reader of the held decision that kept its checkpoint').toEqual(['held#2']);
  const afterWatermark = await readFeedToHead(store, { after: watermark });
  expect(afterWatermark.events.map(keyOf), 'the head watermark passed the held append').toContain('held#2');
  expect(new Set(afterWatermark.events.map(keyOf)).size).toBe(afterWatermark.events.length);
}

export function describeCommitOrderConformance(ctx: ConformanceContext): void {
  const { openHookedHandle, openSecondHandle, parallelWriters } = ctx.harness;
  const hooked = openHookedHandle !== undefined;

  describe('commits out of order', () => {
    it.runIf(hooked)(
      'an append committed while an earlier one is held before its commit: a reader that kept its checkpoint sees both exactly once, and the head watermark never passes the held append',
      async () => {
        await outOfOrderCommitsCase(ctx);
      },
    );

    it.runIf(hooked)(
      'two appends at one version while one is held before its commit: exactly one lands, the other conflicts, and the feed holds the winner once',
      async () => {
        const store = await ctx.newStore();
        await store.append(createRequest('d1'));
        const hold = createCommitHold('d1');
        const hookedStore = await ctx.hookedHandle(store, hold.hook);
        const held = hookedStore.append(approveRequest('d1', 2, 'held'));
        let other: Promise<unknown> | undefined;
        try {
          expect(await settledWithin(hold.entered, COMMIT_WITHIN_MS)).toBe('fulfilled');
          // A store may let this one commit first or make it wait for the held one.
          other = store.append(approveRequest('d1', 2, 'other'));
          await settledWithin(other, 200);
        } finally {
          hold.release();
        }
        const outcomes = await Promise.allSettled([held, other as Promise<unknown>]);
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        const lost = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
        expect((lost.reason as { code?: unknown }).code).toBe('CONCURRENCY_CONFLICT');
        const winner = outcomes[0]?.status === 'fulfilled' ? 'held' : 'other';
        const events = await store.readEvents('d1');
        expect(events.map((e) => e.actor.id)).toEqual(['requester', 'requester', winner]);
        expect((await readFeedToHead(store, { decisionId: 'd1' })).events).toEqual(events);
      },
    );

    it.runIf(hooked && parallelWriters === true && openSecondHandle !== undefined)(
      'two handles append to different decisions while one of them is held before its commit',
      async () => {
        const store = await ctx.newStore();
        await store.append(createRequest('held'));
        await store.append(createRequest('free'));
        const hold = createCommitHold('held');
        const hookedStore = await ctx.hookedHandle(store, hold.hook);
        const other = (await ctx.secondHandle(store)) as EventStore;
        const appendingHeld = hookedStore.append(approveRequest('held', 2, 'a'));
        try {
          expect(await settledWithin(hold.entered, COMMIT_WITHIN_MS)).toBe('fulfilled');
          expect(await settledWithin(other.append(approveRequest('free', 2, 'b')), COMMIT_WITHIN_MS)).toBe('fulfilled');
          expect(await settledWithin(other.append(approveRequest('free', 3, 'c')), COMMIT_WITHIN_MS)).toBe('fulfilled');
          expect(await settledWithin(appendingHeld, 0)).toBe('pending');
          expect((await store.readEvents('free')).map((e) => e.actor.id)).toEqual(['requester', 'requester', 'b', 'c']);
          expect(await store.readEvents('held')).toHaveLength(2);
        } finally {
          hold.release();
        }
        await appendingHeld;
        expect((await store.readEvents('held')).map((e) => e.actor.id)).toEqual(['requester', 'requester', 'a']);
      },
    );
  });
}
