import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../events/DecisionEvent.js';
import type { EventStore } from '../store/EventStore.js';
import { approveWithRetry, type ConformanceContext, yieldTurn } from './conformanceContext.js';
import { approveRequest, createRequest } from './fixtures.js';

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

const keyOf = (e: StoredEvent) => `${e.decisionId}#${e.seq}`;

function expectIncreasingPositions(events: readonly StoredEvent[]): void {
  for (let i = 1; i < events.length; i++) {
    expect((events[i] as StoredEvent).position).toBeGreaterThan((events[i - 1] as StoredEvent).position);
  }
}

export function describeFeedConformance(ctx: ConformanceContext): void {
  describe('the change feed', () => {
    it('delivers every event exactly once in position order across decisions; the head is the last position', async () => {
      const store = await ctx.newStore();
      await interleaved(store);
      const feed = await store.readFeed();
      expect(feed.map(keyOf)).toEqual(['d1#0', 'd1#1', 'd2#0', 'd2#1', 'd1#2', 'd3#0', 'd3#1', 'd3#2', 'd1#3', 'd2#2']);
      expectIncreasingPositions(feed);
      expect(feed[0]?.position).toBeGreaterThan(0);
      expect(await store.headPosition()).toBe(feed[feed.length - 1]?.position);
      // The feed carries the same events the logs do.
      const logs = [...(await store.readEvents('d1')), ...(await store.readEvents('d2')), ...(await store.readEvents('d3'))];
      expect([...feed].sort((a, b) => keyOf(a).localeCompare(keyOf(b)))).toEqual(
        [...logs].sort((a, b) => keyOf(a).localeCompare(keyOf(b))),
      );
    });

    it('resumes strictly after a position', async () => {
      const store = await ctx.newStore();
      await interleaved(store);
      const feed = await store.readFeed();
      const middle = feed[4] as StoredEvent;
      expect(await store.readFeed({ afterPosition: middle.position })).toEqual(feed.slice(5));
      expect(await store.readFeed({ afterPosition: 0 })).toEqual(feed);
      expect(await store.readFeed({ afterPosition: await store.headPosition() })).toEqual([]);
      await store.append(approveRequest('d3', 3, 'z'));
      const next = await store.readFeed({ afterPosition: (feed[feed.length - 1] as StoredEvent).position });
      expect(next.map(keyOf)).toEqual(['d3#3']);
    });

    it('filters by decision', async () => {
      const store = await ctx.newStore();
      await interleaved(store);
      const d1 = await store.readFeed({ decisionId: 'd1' });
      expect(d1).toEqual(await store.readEvents('d1'));
      const afterSecond = await store.readFeed({ decisionId: 'd1', afterPosition: (d1[1] as StoredEvent).position });
      expect(afterSecond.map(keyOf)).toEqual(['d1#2', 'd1#3']);
      expect(await store.readFeed({ decisionId: 'd1', limit: 1, afterPosition: (d1[2] as StoredEvent).position })).toEqual([d1[3]]);
      expect(await store.readFeed({ decisionId: 'unknown' })).toEqual([]);
    });

    it('honours limit, and paging by limit reads the whole feed', async () => {
      const store = await ctx.newStore();
      await interleaved(store);
      const all = await store.readFeed();
      expect(await store.readFeed({ limit: 3 })).toEqual(all.slice(0, 3));
      const paged: StoredEvent[] = [];
      let after = 0;
      for (;;) {
        const page = await store.readFeed({ afterPosition: after, limit: 4 });
        if (page.length === 0) break;
        expect(page.length).toBeLessThanOrEqual(4);
        paged.push(...page);
        after = (page[page.length - 1] as StoredEvent).position;
      }
      expect(paged).toEqual(all);
    });

    it('positions follow commit order: a reader never later sees a new event at or below a position it has seen', async () => {
      const store = await ctx.newStore();
      const reader = (await ctx.secondHandle(store)) ?? store;
      const ids = ['d0', 'd1', 'd2', 'd3'];
      for (const id of ids) await store.append(createRequest(id));

      const seen: StoredEvent[] = [];
      let last = 0;
      let writing = true;
      const reading = (async () => {
        for (;;) {
          const wasWriting = writing;
          const batch = await reader.readFeed({ afterPosition: last });
          for (const event of batch) {
            expect(event.position).toBeGreaterThan(last);
            last = event.position;
            seen.push(event);
          }
          if (!wasWriting && batch.length === 0) return;
          await yieldTurn();
        }
      })();
      await Promise.all(
        ids.flatMap((id) => Array.from({ length: 6 }, (_, i) => approveWithRetry(store, id, `${id}-approver-${i}`))),
      );
      writing = false;
      await reading;

      const logs = (await Promise.all(ids.map((id) => store.readEvents(id)))).flat();
      expect(logs).toHaveLength(4 * 8);
      const byKey = (a: StoredEvent, b: StoredEvent) => a.position - b.position;
      expect([...seen].sort(byKey)).toEqual([...logs].sort(byKey));
      expect(new Set(seen.map(keyOf)).size).toBe(seen.length);
    });
  });
}
