import { MAX_PAGE_SIZE, type DecisionSummary, type EventStore, type ListDecisionsOptions } from '@nexus-control/core';
import { describe, expect, it } from 'vitest';
import type { ConformanceContext } from './conformanceContext.js';
import { expectNexusError } from './expectNexusError.js';
import { approveRequest, createdEvents, createRequest, fixtureTs } from './fixtures.js';

/** Creates decisions `${prefix}0`, `${prefix}1`, … one after another (so the last is the newest). */
async function createMany(store: EventStore, prefix: string, count: number, labelsOf?: (i: number) => string[]): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${prefix}${i}`;
    await store.append(createRequest(id, { ts: fixtureTs(i), labels: labelsOf?.(i) ?? [] }));
    ids.push(id);
  }
  return ids;
}

/** Reads every page, running `between` after each page but the last. */
async function readAllPages(
  store: EventStore,
  options: ListDecisionsOptions,
  between?: (pageIndex: number) => Promise<void>,
): Promise<DecisionSummary[][]> {
  const pages: DecisionSummary[][] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await store.listDecisions({ ...options, ...(cursor === undefined ? {} : { cursor }) });
    pages.push([...page.items]);
    if (page.nextCursor === undefined) return pages;
    expect(page.items.length).toBeGreaterThan(0);
    cursor = page.nextCursor;
    await between?.(pages.length - 1);
    if (pages.length > 1000) throw new Error('the listing never ends');
  }
}

const idsOf = (items: readonly DecisionSummary[]) => items.map((d) => d.decisionId);

export function describeListingConformance(ctx: ConformanceContext): void {
  describe('listing decisions', () => {
    it('lists newest first with every summary field', async () => {
      const store = await ctx.newStore();
      await createMany(store, 'd', 3, (i) => [`l${i}`]);
      await store.append(approveRequest('d1', 2, 'a', { ts: fixtureTs(100) }));
      const page = await store.listDecisions();
      expect(idsOf(page.items)).toEqual(['d2', 'd1', 'd0']);
      expect(page.nextCursor).toBeUndefined();
      expect(page.items[1]).toEqual({
        ...createdEvents('d1', { ts: fixtureTs(1), labels: ['l1'] }).header,
        status: 'approved',
        eventCount: 3,
        generation: 0,
        updatedAt: fixtureTs(100),
      });
    });

    it('pages of limit with nextCursor walk the whole listing once; the last page has no cursor', async () => {
      const store = await ctx.newStore();
      const ids = await createMany(store, 'd', 12);
      const pages = await readAllPages(store, { limit: 5 });
      expect(pages.map((p) => p.length)).toEqual([5, 5, 2]);
      expect(idsOf(pages.flat())).toEqual([...ids].reverse());
    });

    it('when the listing fills its last page exactly, that page has no cursor', async () => {
      const store = await ctx.newStore();
      const ids = await createMany(store, 'd', 10);
      const pages = await readAllPages(store, { limit: 5 });
      expect(pages.map((p) => p.length)).toEqual([5, 5]);
      expect(idsOf(pages.flat())).toEqual([...ids].reverse());
    });

    it('pages stay stable while new decisions arrive between page reads: no duplicates, no skips', async () => {
      const store = await ctx.newStore();
      const ids = await createMany(store, 'old-', 12);
      let extra = 0;
      const pages = await readAllPages(store, { limit: 5 }, async () => {
        for (let i = 0; i < 3; i++) await store.append(createRequest(`new-${extra++}`, { ts: fixtureTs(1000 + extra) }));
      });
      expect(idsOf(pages.flat())).toEqual([...ids].reverse());
      // The newcomers are all there for a reader who starts again.
      const fresh = idsOf((await readAllPages(store, { limit: 5 })).flat());
      expect(fresh).toHaveLength(12 + extra);
      expect(fresh.slice(0, extra)).toEqual(Array.from({ length: extra }, (_, i) => `new-${extra - 1 - i}`));
    });

    it('filters by label, across pages', async () => {
      const store = await ctx.newStore();
      const ids = await createMany(store, 'd', 9, (i) => (i % 3 === 0 ? ['x', 'shared'] : ['shared', `only-${i}`]));
      const pages = await readAllPages(store, { label: 'x', limit: 2 });
      expect(pages.map((p) => p.length)).toEqual([2, 1]);
      expect(idsOf(pages.flat())).toEqual(['d6', 'd3', 'd0']);
      expect(idsOf((await store.listDecisions({ label: 'shared' })).items)).toEqual([...ids].reverse());
      expect(idsOf((await store.listDecisions({ label: 'only-4' })).items)).toEqual(['d4']);
      expect((await store.listDecisions({ label: 'nowhere' })).items).toEqual([]);
      // A label matches whole, never as a prefix or substring.
      expect((await store.listDecisions({ label: 'only' })).items).toEqual([]);
      expect((await store.listDecisions({ label: 'shar' })).items).toEqual([]);
    });

    it('filters by the status given with the latest append', async () => {
      const store = await ctx.newStore();
      await createMany(store, 'd', 5);
      await store.append(approveRequest('d1', 2, 'a'));
      await store.append(approveRequest('d3', 2, 'a'));
      await store.append(approveRequest('d3', 3, 'b', { status: 'pending_approval' }));
      await store.append(approveRequest('d4', 2, 'a', { status: 'failed' }));
      const byStatus = async (status: DecisionSummary['status'], limit?: number) =>
        idsOf((await readAllPages(store, { status, ...(limit === undefined ? {} : { limit }) })).flat());
      expect(await byStatus('approved')).toEqual(['d1']);
      expect(await byStatus('pending_approval', 1)).toEqual(['d3', 'd2', 'd0']);
      expect(await byStatus('failed')).toEqual(['d4']);
      expect(await byStatus('completed')).toEqual([]);
      const both = await store.listDecisions({ status: 'pending_approval', label: 'none' });
      expect(both.items).toEqual([]);
    });

    it('an invalid cursor is INVALID_ARGUMENT', async () => {
      const store = await ctx.newStore();
      await createMany(store, 'd', 3);
      for (const cursor of ['garbage', 'not a cursor', '%%%', '{"$gt":""}', '-1', '\u0000']) {
        await expectNexusError(store.listDecisions({ cursor }), 'INVALID_ARGUMENT');
      }
    });

    it(`a page never holds more than MAX_PAGE_SIZE (${MAX_PAGE_SIZE}) decisions`, async () => {
      const store = await ctx.newStore();
      await createMany(store, 'd', MAX_PAGE_SIZE + 1);
      const page = await store.listDecisions({ limit: MAX_PAGE_SIZE * 10 });
      expect(page.items).toHaveLength(MAX_PAGE_SIZE);
      expect(page.nextCursor).toBeDefined();
      const rest = await store.listDecisions({ limit: MAX_PAGE_SIZE * 10, cursor: page.nextCursor as string });
      expect(idsOf(rest.items)).toEqual(['d0']);
      expect(rest.nextCursor).toBeUndefined();
    });

    it('getDecision follows every append: eventCount, updatedAt and status', async () => {
      const store = await ctx.newStore();
      await store.append(createRequest('d1', { ts: fixtureTs(1) }));
      expect(await store.getDecision('d1')).toMatchObject({
        eventCount: 2,
        updatedAt: fixtureTs(1),
        status: 'pending_approval',
        createdAt: fixtureTs(1),
      });
      await store.append(approveRequest('d1', 2, 'a', { ts: fixtureTs(2) }));
      expect(await store.getDecision('d1')).toMatchObject({
        eventCount: 3,
        updatedAt: fixtureTs(2),
        status: 'approved',
        createdAt: fixtureTs(1),
      });
      await store.append(approveRequest('d1', 3, 'b', { ts: fixtureTs(3), status: 'failed' }));
      expect(await store.getDecision('d1')).toMatchObject({
        eventCount: 4,
        updatedAt: fixtureTs(3),
        status: 'failed',
        createdAt: fixtureTs(1),
      });
      expect((await store.listDecisions()).items).toEqual([await store.getDecision('d1')]);
    });
  });
}
