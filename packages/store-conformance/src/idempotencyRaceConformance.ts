import type { AppendRequest, EventStore } from '@nexus-control/core';
import { describe, expect, it } from 'vitest';
import { createCommitHold } from './commitHold.js';
import type { ConformanceContext } from './conformanceContext.js';
import { decisionState } from './decisionState.js';
import { approveRequest, createRequest } from './fixtures.js';

const codeOf = (reason: unknown) => (reason as { code?: unknown }).code;

/**
 * Two replicas given one command with one idempotency key at the same moment: the store must
 * let exactly one record the key, and fail the other with IDEMPOTENCY_KEY_REUSED having written
 * nothing, so the loser can read the winner's record and answer with its result.
 */
export function describeIdempotencyRaceConformance(ctx: ConformanceContext): void {
  const hasSecondHandle = ctx.harness.openSecondHandle !== undefined;
  const hasHookedHandle = ctx.harness.openHookedHandle !== undefined;

  /**
   * Races `requests` (one per handle, all under key `k`, each to its own decision so no
   * version check can decide the race): one records the key, the others fail with
   * IDEMPOTENCY_KEY_REUSED and leave their decision as it was.
   */
  async function raceOneKey(handles: readonly EventStore[], requests: readonly AppendRequest[], reader: EventStore): Promise<void> {
    const before = await Promise.all(requests.map((request) => decisionState(reader, request.decisionId)));
    const outcomes = await Promise.allSettled(requests.map((request, i) => handles[i]!.append(request)));
    const won = outcomes.flatMap((outcome, i) => (outcome.status === 'fulfilled' ? [i] : []));
    expect(won).toHaveLength(1);
    const winner = won[0]!;
    for (const [i, outcome] of outcomes.entries()) {
      if (i === winner) continue;
      expect(outcome.status).toBe('rejected');
      expect(codeOf((outcome as PromiseRejectedResult).reason)).toBe('IDEMPOTENCY_KEY_REUSED');
      const after = await decisionState(reader, requests[i]!.decisionId);
      expect(after.summary).toEqual(before[i]!.summary);
      expect(after.events).toEqual(before[i]!.events);
    }
    const recorded = await reader.getIdempotency('k');
    expect(recorded).toMatchObject({
      key: 'k',
      fingerprint: requests[winner]!.idempotency!.fingerprint,
      decisionId: requests[winner]!.decisionId,
    });
    const winnerEvents = await reader.readEvents(requests[winner]!.decisionId);
    expect(winnerEvents[recorded!.seq]?.type).toBe(requests[winner]!.events[0]!.type);
  }

  const creations = () => [1, 2].map((i) => createRequest(`new-${i}`, { idempotency: { key: 'k', fingerprint: `f${i}` } }));
  const approvals = () => [1, 2].map((i) => approveRequest(`d${i}`, 2, 'alice', { idempotency: { key: 'k', fingerprint: `f${i}` } }));

  describe('one idempotency key raced by two writers', () => {
    it('two creations under one key on one handle: one records it, the other fails with IDEMPOTENCY_KEY_REUSED and creates nothing', async () => {
      const store = await ctx.newStore();
      await raceOneKey([store, store], creations(), store);
      expect((await store.listDecisions()).items).toHaveLength(1);
    });

    it.runIf(hasSecondHandle)(
      'two creations under one key on two handles: one records it, the other fails with IDEMPOTENCY_KEY_REUSED and creates nothing',
      async () => {
        const store = await ctx.newStore();
        const other = (await ctx.secondHandle(store)) as EventStore;
        await raceOneKey([store, other], creations(), other);
        expect((await store.listDecisions()).items).toHaveLength(1);
      },
    );

    it.runIf(hasSecondHandle)(
      'two appends under one key to two decisions on two handles: one records it, the other appends nothing',
      async () => {
        const store = await ctx.newStore();
        const other = (await ctx.secondHandle(store)) as EventStore;
        await store.append(createRequest('d1'));
        await store.append(createRequest('d2'));
        for (let round = 0; round < 10; round++) {
          // Each round on fresh decisions, as a replica pair would see it, alternating who starts.
          const requests = [1, 2].map((i) => createRequest(`r${round}-${i}`, { idempotency: { key: `k${round}`, fingerprint: `f${i}` } }));
          const outcomes = await Promise.allSettled(
            round % 2 ? [store.append(requests[0]!), other.append(requests[1]!)] : [other.append(requests[1]!), store.append(requests[0]!)],
          );
          expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
          expect(outcomes.flatMap((o) => (o.status === 'rejected' ? [codeOf(o.reason)] : []))).toEqual(['IDEMPOTENCY_KEY_REUSED']);
          const created = await Promise.all(requests.map(async (r) => (await other.getDecision(r.decisionId)) !== undefined));
          expect(created.filter(Boolean)).toHaveLength(1);
        }
        await raceOneKey([store, other], approvals(), store);
      },
    );

    it.runIf(hasSecondHandle)(
      'two appends under one key to one decision at one version on two handles: exactly one lands, the other fails with a conflict or IDEMPOTENCY_KEY_REUSED and appends nothing',
      async () => {
        const store = await ctx.newStore();
        const other = (await ctx.secondHandle(store)) as EventStore;
        await store.append(createRequest('d1'));
        const requests = [1, 2].map((i) => approveRequest('d1', 2, `actor-${i}`, { idempotency: { key: 'k', fingerprint: 'same' } }));
        const outcomes = await Promise.allSettled([store.append(requests[0]!), other.append(requests[1]!)]);
        const won = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
        expect(won).toHaveLength(1);
        const lost = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
        expect(['CONCURRENCY_CONFLICT', 'IDEMPOTENCY_KEY_REUSED']).toContain(codeOf(lost.reason));
        const events = await other.readEvents('d1');
        expect(events.map((e) => e.actor.id)).toEqual(['requester', 'requester', `actor-${won[0]! + 1}`]);
        expect(await other.getIdempotency('k')).toEqual({ key: 'k', fingerprint: 'same', decisionId: 'd1', generation: 0, seq: 2 });
      },
    );

    it.runIf(hasHookedHandle)(
      'an append under a key another append holds uncommitted: exactly one of the two lands, the other fails with IDEMPOTENCY_KEY_REUSED and appends nothing',
      async () => {
        const store = await ctx.newStore();
        await store.append(createRequest('d1'));
        await store.append(createRequest('d2'));
        const hold = createCommitHold('d1');
        const held = await ctx.hookedHandle(store, hold.hook);
        const first = held.append(approveRequest('d1', 2, 'alice', { idempotency: { key: 'k', fingerprint: 'f1' } }));
        await hold.entered;
        // Whether the second waits for the holder or commits first is the store's choice; the outcome is not.
        const second = store.append(approveRequest('d2', 2, 'alice', { idempotency: { key: 'k', fingerprint: 'f2' } }));
        setTimeout(() => hold.release(), 50);
        const outcomes = await Promise.allSettled([first, second]);
        const won = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
        expect(won).toHaveLength(1);
        const lost = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
        expect(codeOf(lost.reason)).toBe('IDEMPOTENCY_KEY_REUSED');
        const [winner, loser] = won[0] === 0 ? ['d1', 'd2'] : ['d2', 'd1'];
        expect(await store.readEvents(winner)).toHaveLength(3);
        expect(await store.readEvents(loser)).toHaveLength(2);
        expect(await store.getIdempotency('k')).toMatchObject({ decisionId: winner, fingerprint: winner === 'd1' ? 'f1' : 'f2', seq: 2 });
      },
    );
  });
}
