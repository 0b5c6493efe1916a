import { FEED_START, type EventStore, type StoredEvent } from '@nexus-control/core';
import { describe, expect, it } from 'vitest';
import { approveWithRetry } from './approveWithRetry.js';
import type { ConformanceContext } from './conformanceContext.js';
import { expectNexusError } from './expectNexusError.js';
import { approveRequest, createRequest } from './fixtures.js';
import { readFeedToHead } from './readFeedToHead.js';
import { yieldTurn } from './timing.js';

/** Three decisions with interleaved appends: 2 + 2 + 2 created, then approvals on d1, d3, d1, d2. */
async function interleaved(store: EventStore): Promise<void> {
  await store.append(createRequest('d1'));
  await store.append(createRequest('d2'));
  await store.append(approveRequest('d1', 2, 'a'));
  await store.append(createRequest('d3'));
  await store.append(approveRequest('d3', 2, 'a'));
  await store.append(approveRequest('d1', 3, 'b'));
  await store.append(approveRequest('d2', 2, 'a'));
}

const keyOf = (e: StoredEvent) => `${e.decisionId}#${e.generation}#${e.seq}`;
const byKey = (a: StoredEvent, b: StoredEvent) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0);

export function describeFeedConformance(ctx: ConformanceContext): void {
  describe('the change feed', () => {
    it('delivers every event exactly once in commit order across decisions, and says when it reached the head', async () => {
      const store = await ctx.newStore();
      await interleaved(store);
      const page = await store.readFeed();
      expect(page.events.map(keyOf)).toEqual(
        ['d1#0', 'd1#1', 'd2#0', 'd2#1', 'd1#2', 'd3#0', 'd3#1', 'd3#2', 'd1#3', 'd2#2'].map((k) => k.replace('#', '#0#')),
      );
      expect(page.caughtUp).toBe(true);
      expect(page.checkpoint).toBe(await store.headCheckpoint());
      expect(new Set(page.events.map((e) => e.checkpoint)).size).toBe(page.events.length);
      // The feed carries the same events the logs do.
      const logs = [...(await store.readEvents('d1')), ...(await store.readEvents('d2')), ...(await store.readEvents('d3'))];
      expect([...page.events].sort(byKey)).toEqual([...logs].sort(byKey));
    });

    it('resuming from every checkpoint of a feed yields exactly the rest of it', async () => {
      const store = await ctx.newStore();
      await interleaved(store);
      const feed = (await store.readFeed()).events;
      for (const [i, event] of feed.entries()) {
        const rest = await store.readFeed({ after: event.checkpoint });
        expect(rest.events, `after ${keyOf(event)}`).toEqual(feed.slice(i + 1));
        expect(rest.caughtUp).toBe(true);
      }
      expect((await store.readFeed({ after: FEED_START })).events).toEqual(feed);
      const head = await store.headCheckpoint();
      expect(await store.readFeed({ after: head })).toEqual({ events: [], checkpoint: head, caughtUp: true });
      await store.append(approveRequest('d3', 3, 'z'));
      const next = await store.readFeed({ after: (feed[feed.length - 1] as StoredEvent).checkpoint });
      expect(next.events.map(keyOf)).toEqual(['d3#0#3']);
      expect((await store.readFeed({ after: head })).events).toEqual(next.events);
    });

    it('filters by decision, in feed order, resuming after any checkpoint', async () => {
      const store = await ctx.newStore();
      await interleaved(store);
      const d1 = (await store.readFeed({ decisionId: 'd1' })).events;
      expect(d1).toEqual(await store.readEvents('d1'));
      const afterSecond = await store.readFeed({ decisionId: 'd1', after: (d1[1] as StoredEvent).checkpoint });
      expect(afterSecond.events.map(keyOf)).toEqual(['d1#0#2', 'd1#0#3']);
      expect((await store.readFeed({ decisionId: 'd1', limit: 1, after: (d1[2] as StoredEvent).checkpoint })).events).toEqual([d1[3]]);
      // A checkpoint of another decision's event is a place in the same feed.
      const whole = (await store.readFeed()).events;
      const d3first = whole.find((e) => e.decisionId === 'd3') as StoredEvent;
      expect((await store.readFeed({ decisionId: 'd1', after: d3first.checkpoint })).events.map(keyOf)).toEqual(['d1#0#3']);
      expect(await store.readFeed({ decisionId: 'unknown' })).toMatchObject({ events: [], caughtUp: true });
    });

    it('a one-decision feed read that reaches the head returns the head watermark as its checkpoint and caughtUp', async () => {
      const store = await ctx.newStore();
      await interleaved(store);
      const d2 = await store.readFeed({ decisionId: 'd2' });
      expect(d2.caughtUp).toBe(true);
      expect(d2.checkpoint).toBe(await store.headCheckpoint());
      // Others move on: the reader of d2 advances with the head without seeing their events.
      await store.append(approveRequest('d3', 3, 'x'));
      await store.append(approveRequest('d1', 4, 'x'));
      const quiet = await store.readFeed({ decisionId: 'd2', after: d2.checkpoint });
      expect(quiet.events).toEqual([]);
      expect(quiet.caughtUp).toBe(true);
      expect(quiet.checkpoint).toBe(await store.headCheckpoint());
      expect(quiet.checkpoint).not.toBe(d2.checkpoint);
      expect((await store.readFeed({ after: quiet.checkpoint })).events).toEqual([]);
      await store.append(approveRequest('d2', 3, 'y'));
      expect((await store.readFeed({ decisionId: 'd2', after: quiet.checkpoint })).events.map(keyOf)).toEqual(['d2#0#3']);
    });

    it('honours limit: a page cut by it is not caught up and resumes after its last event; paging reads the whole feed', async () => {
      const store = await ctx.newStore();
      await interleaved(store);
      const all = (await store.readFeed()).events;
      const first = await store.readFeed({ limit: 3 });
      expect(first.events).toEqual(all.slice(0, 3));
      expect(first.caughtUp).toBe(false);
      expect(first.checkpoint).toBe(all[2]?.checkpoint);
      const paged = await readFeedToHead(store, { limit: 4 });
      expect(paged.events).toEqual(all);
      expect(paged.pages).toBeGreaterThanOrEqual(3);
      expect(paged.checkpoint).toBe(await store.headCheckpoint());
      const d1 = await readFeedToHead(store, { decisionId: 'd1', limit: 1 });
      expect(d1.events).toEqual(await store.readEvents('d1'));
    });

    it('a limit that is not a positive integer is INVALID_ARGUMENT', async () => {
      const store = await ctx.newStore();
      await interleaved(store);
      for (const limit of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '2' as unknown as number]) {
        await expectNexusError(store.readFeed({ limit }), 'INVALID_ARGUMENT');
      }
    });

    it('garbage checkpoints are INVALID_ARGUMENT and change nothing', async () => {
      const store = await ctx.newStore();
      await interleaved(store);
      const before = await store.readFeed();
      const head = await store.headCheckpoint();
      const garbage = [
        'garbage',
        '-1',
        '1.5',
        ' 1',
        '1 ',
        '01',
        '1e3',
        '0x10',
        '\u0000',
        `${head}\u0000`,
        `${head}x`,
        '{"$gt":""}',
        "' OR '1'='1",
        '9'.repeat(40),
        'x'.repeat(10_000),
        12 as unknown as string,
      ];
      for (const checkpoint of garbage) {
        await expectNexusError(store.readFeed({ after: checkpoint }), 'INVALID_ARGUMENT');
        await expectNexusError(store.readFeed({ after: checkpoint, decisionId: 'd1' }), 'INVALID_ARGUMENT');
      }
      expect(await store.readFeed()).toEqual(before);
      expect(await store.headCheckpoint()).toBe(head);
    });

    it("another store's checkpoints, beyond this store's head, are INVALID_ARGUMENT and change nothing", async () => {
      const busy = await ctx.newStore();
      await interleaved(busy);
      const empty = await ctx.newStore();
      const foreign = [...(await busy.readFeed()).events.map((e) => e.checkpoint), await busy.headCheckpoint()];
      for (const checkpoint of foreign) {
        await expectNexusError(empty.readFeed({ after: checkpoint }), 'INVALID_ARGUMENT');
      }
      expect(await empty.headCheckpoint()).toBe(FEED_START);
      expect(await empty.readFeed()).toEqual({ events: [], checkpoint: FEED_START, caughtUp: true });
    });

    it('a reader polling during concurrent appends sees every event exactly once', async () => {
      const store = await ctx.newStore();
      const reader = (await ctx.secondHandle(store)) ?? store;
      const writer = (await ctx.secondHandle(store)) ?? store;
      const ids = ['d0', 'd1', 'd2', 'd3'];
      for (const id of ids) await store.append(createRequest(id));

      const seen: StoredEvent[] = [];
      let checkpoint = FEED_START;
      let writing = true;
      const reading = (async () => {
        for (;;) {
          const wasWriting = writing;
          const page = await reader.readFeed({ after: checkpoint, limit: 7 });
          seen.push(...page.events);
          checkpoint = page.checkpoint;
          if (!wasWriting && page.caughtUp) return;
          await yieldTurn();
        }
      })();
      await Promise.all(
        ids.flatMap((id, d) =>
          Array.from({ length: 6 }, (_, i) => approveWithRetry((d + i) % 2 === 0 ? store : writer, id, `${id}-approver-${i}`)),
        ),
      );
      writing = false;
      await reading;

      const logs = (await Promise.all(ids.map((id) => store.readEvents(id)))).flat();
      expect(logs).toHaveLength(4 * 8);
      expect(seen.map(keyOf).sort()).toEqual(logs.map(keyOf).sort());
      expect(new Set(seen.map(keyOf)).size).toBe(seen.length);
      // Each decision's events reached the reader in seq order.
      for (const id of ids) {
        expect(seen.filter((e) => e.decisionId === id).map((e) => e.seq)).toEqual(Array.from({ length: 8 }, (_, i) => i));
      }
    });
  });
}
