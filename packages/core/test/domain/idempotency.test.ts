import { describe, expect, it } from 'vitest';
import { ConcurrencyConflictError, type NexusError } from '../../src/errors/NexusError.js';
import { createMemoryDatabase, type MemoryDatabase } from '../../src/store/createMemoryDatabase.js';
import { createMemoryEventStore } from '../../src/store/createMemoryEventStore.js';
import type { EventStore } from '../../src/store/EventStore.js';
import { sameLogVersion } from '../../src/store/expectedVersion.js';
import { alice, bob, requester, setup } from './fixtures.js';

describe('idempotency keys', () => {
  it('a repeated request returns the first decision and writes nothing new', async () => {
    const { nexus, store } = setup();
    const first = await nexus.request({ goal: 'g' }, { ...requester, idempotencyKey: 'k1' });
    const head = await store.headCheckpoint();
    const second = await nexus.request({ goal: 'g' }, { ...requester, idempotencyKey: 'k1' });
    expect(second.decisionId).toBe(first.decisionId);
    expect(await store.headCheckpoint()).toBe(head);
  });

  it('concurrent twins with one key create one decision', async () => {
    const { nexus, store } = setup();
    const views = await Promise.all(
      Array.from({ length: 5 }, () => nexus.request({ goal: 'g' }, { ...requester, idempotencyKey: 'twin' })),
    );
    expect(new Set(views.map((v) => v.decisionId)).size).toBe(1);
    expect((await store.listDecisions()).items).toHaveLength(1);
  });

  it('reusing a key for other arguments or by another actor is an error', async () => {
    const { nexus } = setup();
    await nexus.request({ goal: 'g' }, { ...requester, idempotencyKey: 'k' });
    await expect(nexus.request({ goal: 'other' }, { ...requester, idempotencyKey: 'k' })).rejects.toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
    });
    await expect(nexus.request({ goal: 'g' }, { ...alice, idempotencyKey: 'k' })).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
  });

  it('a repeated approval or execution writes one event and runs once', async () => {
    const { nexus, store } = setup();
    const { decisionId } = await nexus.request({ goal: 'g' }, requester);
    await nexus.approve(decisionId, {}, { ...alice, idempotencyKey: 'a1' });
    const again = await nexus.approve(decisionId, {}, { ...alice, idempotencyKey: 'a1' });
    expect(again.status).toBe('approved');
    const run1 = await nexus.execute(decisionId, { adapterId: 'null' }, { ...alice, idempotencyKey: 'x1' });
    const run2 = await nexus.execute(decisionId, { adapterId: 'null' }, { ...alice, idempotencyKey: 'x1' });
    expect(run2.execution.runId).toBe(run1.execution.runId);
    expect((await store.readEvents(decisionId)).map((e) => e.type)).toEqual([
      'DECISION_CREATED',
      'POLICY_ATTACHED',
      'APPROVAL_GRANTED',
      'EXECUTION_REQUESTED',
      'EXECUTION_STARTED',
      'EXECUTION_COMPLETED',
    ]);
  });
});

describe('idempotency keys racing a twin', () => {
  /**
   * A memory store that reports a stale version before a reused key when both are wrong, as a
   * database whose seq constraint fires before its key constraint does; its appends run
   * `between` once before they commit.
   */
  function conflictFirstStore(database: MemoryDatabase) {
    let between: (() => Promise<unknown>) | undefined;
    const inner = createMemoryEventStore({
      database,
      beforeCommit: async () => {
        const task = between;
        between = undefined;
        await task?.();
      },
    });
    const store: EventStore = {
      ...inner,
      async append(request) {
        try {
          return await inner.append(request);
        } catch (error) {
          const summary = await inner.getDecision(request.decisionId);
          const actual = summary && { generation: summary.generation, length: summary.eventCount };
          if ((error as NexusError).code === 'IDEMPOTENCY_KEY_REUSED' && actual && !sameLogVersion(actual, request.expectedVersion)) {
            throw new ConcurrencyConflictError(request.decisionId, request.expectedVersion, actual);
          }
          throw error;
        }
      },
    };
    return { store, beforeNextCommit: (task: () => Promise<unknown>) => (between = task) };
  }

  it('a twin that lost the version race and then fails validation on the winner’s events answers with the winner’s result', async () => {
    const database = createMemoryDatabase();
    const { store, beforeNextCommit } = conflictFirstStore(database);
    const racing = setup({ store });
    const twin = setup({ store: createMemoryEventStore({ database }) });
    const { decisionId } = await twin.nexus.request({ goal: 'g', policy: { minApprovals: 2 } }, requester);
    let won: Awaited<ReturnType<typeof twin.nexus.approve>> | undefined;
    beforeNextCommit(async () => (won = await twin.nexus.approve(decisionId, {}, { ...alice, idempotencyKey: 'k' })));

    const answer = await racing.nexus.approve(decisionId, {}, { ...alice, idempotencyKey: 'k' });

    expect(won?.approvals).toHaveLength(1);
    expect(answer.approvals).toEqual(won?.approvals);
    expect((await store.readEvents(decisionId)).map((e) => e.actor.id)).toEqual(['requester', 'requester', 'alice']);
  });
});

describe('one key on two replicas at once', () => {
  /** Two services on two handles of one database, each with its own clock that moves on every reading. */
  function replicas() {
    const database = createMemoryDatabase();
    const ticking = (start: number) => {
      let now = start;
      return { now: () => (now += 1000) };
    };
    const base = Date.parse('2025-01-01T00:00:00Z') * 1000;
    const a = setup({ store: createMemoryEventStore({ database }), clock: ticking(base) });
    const b = setup({ store: createMemoryEventStore({ database }), clock: ticking(base + 7) });
    return { a: a.nexus, b: b.nexus, store: a.store };
  }

  it('approve, revoke and request: both replicas answer with the same result, and the command is written once', async () => {
    const { a, b, store } = replicas();
    for (let round = 0; round < 20; round++) {
      const { decisionId } = await a.request({ goal: `g${round}`, policy: { minApprovals: 2 } }, requester);
      const approveCtx = { ...alice, idempotencyKey: `approve-${round}` };
      const approved = await Promise.all(
        round % 2
          ? [a.approve(decisionId, {}, approveCtx), b.approve(decisionId, {}, approveCtx)]
          : [b.approve(decisionId, {}, approveCtx), a.approve(decisionId, {}, approveCtx)],
      );
      expect(approved[1]).toEqual(approved[0]);
      expect(approved[0]?.activeApprovals).toBe(1);

      const revokeCtx = { ...alice, idempotencyKey: `revoke-${round}` };
      const revoked = await Promise.all([
        a.revoke(decisionId, { reason: 'r' }, revokeCtx),
        b.revoke(decisionId, { reason: 'r' }, revokeCtx),
      ]);
      expect(revoked[1]).toEqual(revoked[0]);
      expect(revoked[0]?.activeApprovals).toBe(0);
      expect((await store.readEvents(decisionId)).map((e) => e.type)).toEqual([
        'DECISION_CREATED',
        'POLICY_ATTACHED',
        'APPROVAL_GRANTED',
        'APPROVAL_REVOKED',
      ]);

      const requestCtx = { ...requester, idempotencyKey: `request-${round}` };
      const created = await Promise.all([
        a.request({ goal: `twin ${round}` }, requestCtx),
        b.request({ goal: `twin ${round}` }, requestCtx),
      ]);
      expect(created[1]).toEqual(created[0]);
    }
    const twins = (await store.listDecisions({ limit: 500 })).items.filter((d) => d.goal.startsWith('twin '));
    expect(twins).toHaveLength(20);
  });

  it('createTemplate: both replicas answer with the one template that was created', async () => {
    const { a, b, store } = replicas();
    for (let round = 0; round < 10; round++) {
      const ctx = { ...alice, idempotencyKey: `template-${round}` };
      const input = { name: `t${round}`, policy: { minApprovals: 2 } };
      const [x, y] = await Promise.all([a.createTemplate(input, ctx), b.createTemplate(input, ctx)]);
      expect(y).toEqual(x);
      expect(await store.getTemplate(`t${round}`)).toEqual(x);
    }
  });

  it('a later repeat of a command answers exactly what the first call did', async () => {
    const { a, b } = replicas();
    const { decisionId } = await a.request({ goal: 'g' }, requester);
    const first = await a.approve(decisionId, { comment: 'ok' }, { ...alice, idempotencyKey: 'k' });
    expect(await b.approve(decisionId, { comment: 'ok' }, { ...alice, idempotencyKey: 'k' })).toEqual(first);
    await a.approve(decisionId, {}, bob);
    expect(await a.approve(decisionId, { comment: 'ok' }, { ...alice, idempotencyKey: 'k' })).toEqual(first);
  });
});
