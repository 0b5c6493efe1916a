import type { EventStore } from '@nexus-control/core';
import { describe, expect, it } from 'vitest';
import { approveWithRetry } from './approveWithRetry.js';
import type { ConformanceContext } from './conformanceContext.js';
import { decisionState } from './decisionState.js';
import { expectConflict } from './expectConflict.js';
import { approveRequest, createRequest } from './fixtures.js';

const codeOf = (reason: unknown) => (reason as { code?: unknown }).code;

export function describeConcurrencyConformance(ctx: ConformanceContext): void {
  const hasSecondHandle = ctx.harness.openSecondHandle !== undefined;

  /** Two approvals at the same expected version, started together: one wins, one conflicts. */
  async function raceTwoWriters(first: EventStore, second: EventStore, reader: EventStore): Promise<void> {
    await first.append(createRequest('d1'));
    const outcomes = await Promise.allSettled([
      first.append(approveRequest('d1', 2, 'alice')),
      second.append(approveRequest('d1', 2, 'bob')),
    ]);
    const won = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
    expect(won).toHaveLength(1);
    const loser = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(codeOf(loser.reason)).toBe('CONCURRENCY_CONFLICT');

    const winner = won[0] === 0 ? 'alice' : 'bob';
    const events = await reader.readEvents('d1');
    expect(events.map((e) => [e.seq, e.actor.id])).toEqual([
      [0, 'requester'],
      [1, 'requester'],
      [2, winner],
    ]);
    expect((await reader.readFeed()).events).toHaveLength(3);
    expect((await reader.getDecision('d1'))?.eventCount).toBe(3);
  }

  /** Two creations of one new id: one creates it, the other is told it exists. */
  async function raceTwoCreators(first: EventStore, second: EventStore, reader: EventStore): Promise<void> {
    const outcomes = await Promise.allSettled([
      first.append(createRequest('d1', { goal: 'by first' })),
      second.append(createRequest('d1', { goal: 'by second' })),
    ]);
    const won = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
    expect(won).toHaveLength(1);
    const loser = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(codeOf(loser.reason)).toBe('DECISION_EXISTS');
    const goal = won[0] === 0 ? 'by first' : 'by second';
    expect((await reader.getDecision('d1'))?.goal).toBe(goal);
    expect(await reader.readEvents('d1')).toHaveLength(2);
    expect((await reader.readEvents('d1'))[0]?.payload.goal).toBe(goal);
  }

  describe('optimistic concurrency', () => {
    it('two writers racing on the same expected version: exactly one wins, the other gets a conflict, only the winner is stored', async () => {
      const store = await ctx.newStore();
      await raceTwoWriters(store, store, store);
    });

    it.runIf(hasSecondHandle)('two writers on two connections racing on the same expected version: exactly one wins', async () => {
      const store = await ctx.newStore();
      const other = (await ctx.secondHandle(store)) as EventStore;
      await raceTwoWriters(store, other, other);
      expect(await store.readEvents('d1')).toEqual(await other.readEvents('d1'));
    });

    it('two creators racing on one new id: exactly one creates it, the other gets DECISION_EXISTS', async () => {
      const store = await ctx.newStore();
      await raceTwoCreators(store, store, store);
    });

    it.runIf(hasSecondHandle)('two creators on two connections racing on one new id: exactly one creates it', async () => {
      const store = await ctx.newStore();
      const other = (await ctx.secondHandle(store)) as EventStore;
      await raceTwoCreators(store, other, store);
    });

    it('an expected length below the event count is a conflict naming both versions, and writes nothing', async () => {
      const store = await ctx.newStore();
      await store.append(createRequest('d1'));
      await store.append(approveRequest('d1', 2, 'a'));
      const before = await decisionState(store, 'd1');
      const error = await expectConflict(store.append(approveRequest('d1', 2, 'b')));
      expect(error.decisionId).toBe('d1');
      expect(error.expected).toEqual({ generation: 0, length: 2 });
      if (error.actual !== undefined) expect(error.actual).toEqual({ generation: 0, length: 3 });
      await expectConflict(store.append(approveRequest('d1', 1, 'b')));
      await expectConflict(store.append(approveRequest('d1', 0, 'b')));
      expect(await decisionState(store, 'd1')).toEqual(before);
    });

    it('an expected length above the event count is a conflict and writes nothing', async () => {
      const store = await ctx.newStore();
      await store.append(createRequest('d1'));
      const before = await decisionState(store, 'd1');
      await expectConflict(store.append(approveRequest('d1', 3, 'b')));
      await expectConflict(store.append(approveRequest('d1', 100, 'b')));
      expect(await decisionState(store, 'd1')).toEqual(before);
    });

    it('an expected generation the decision never had is a conflict, even at the right length, and writes nothing', async () => {
      const store = await ctx.newStore();
      await store.append(createRequest('d1'));
      const before = await decisionState(store, 'd1');
      const error = await expectConflict(store.append(approveRequest('d1', { generation: 1, length: 2 }, 'b')));
      expect(error.expected).toEqual({ generation: 1, length: 2 });
      expect(await decisionState(store, 'd1')).toEqual(before);
    });

    it('20 concurrent approvals by different actors, each retrying on conflict, all land with gapless seqs', async () => {
      const store = await ctx.newStore();
      const other = await ctx.secondHandle(store);
      const handles = other === undefined ? [store] : [store, other];
      await store.append(createRequest('d1'));
      const actors = Array.from({ length: 20 }, (_, i) => `approver-${i}`);
      await Promise.all(actors.map((actor, i) => approveWithRetry(handles[i % handles.length] as EventStore, 'd1', actor)));

      const events = await store.readEvents('d1');
      expect(events).toHaveLength(22);
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 22 }, (_, i) => i));
      expect(new Set(events.slice(2).map((e) => e.actor.id))).toEqual(new Set(actors));
      expect((await store.getDecision('d1'))?.eventCount).toBe(22);
      // One decision's events enter the feed in seq order, each once.
      expect((await store.readFeed({ decisionId: 'd1' })).events).toEqual(events);
      expect(new Set(events.map((e) => e.checkpoint)).size).toBe(22);
    });
  });
}
