import { canonicalJson, FEED_START, newEvent, type AppendRequest, type LogVersion } from '@nexus-control/core';
import { describe, expect, it } from 'vitest';
import type { ConformanceContext } from './conformanceContext.js';
import { decisionState } from './decisionState.js';
import { expectConflict } from './expectConflict.js';
import { expectNexusError } from './expectNexusError.js';
import { approvalEvent, approveRequest, createdEvents, createRequest, fixtureTs } from './fixtures.js';
import { written } from './written.js';

export function describeLogConformance(ctx: ConformanceContext): void {
  describe('the event log', () => {
    it('a new store is empty: no decisions, no events, the head at FEED_START, no templates', async () => {
      const store = await ctx.newStore();
      expect(await store.headCheckpoint()).toBe(FEED_START);
      expect(await store.readFeed()).toEqual({ events: [], checkpoint: FEED_START, caughtUp: true });
      expect((await store.listDecisions()).items).toEqual([]);
      expect((await store.listDecisions()).nextCursor).toBeUndefined();
      expect(await store.listTemplates()).toEqual([]);
    });

    it('seqs start at 0 without gaps and events read back exactly as appended, in seq order', async () => {
      const store = await ctx.newStore();
      const create = createRequest('d1', { labels: ['ops'], plan: 'step 1', ts: fixtureTs(1) });
      const batch = [
        newEvent('APPROVAL_REVOKED', { reason: '' }, { type: 'human', id: 'a1' }, fixtureTs(3)),
        approvalEvent('a2', { ts: fixtureTs(4), comment: 'looks good' }),
        newEvent('EXECUTION_REQUESTED', { adapter_id: 'null', dry_run: true }, { type: 'human', id: 'ex' }, fixtureTs(5)),
      ];
      const results = [
        await store.append(create),
        await store.append(approveRequest('d1', 2, 'a1', { ts: fixtureTs(2) })),
        await store.append({ decisionId: 'd1', expectedVersion: { generation: 0, length: 3 }, events: batch, status: 'approved' }),
      ];
      const appended = [...create.events, approvalEvent('a1', { ts: fixtureTs(2) }), ...batch];

      const stored = await store.readEvents('d1');
      expect(stored.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4, 5]);
      expect(stored.map(written)).toEqual(appended.map(written));
      for (const event of stored) {
        expect(event.decisionId).toBe('d1');
        expect(canonicalJson(event.payload)).toBe(event.payloadJson);
      }
      expect(stored.every((e) => e.generation === 0)).toBe(true);
      const checkpoints = stored.map((e) => e.checkpoint);
      expect(checkpoints.every((c) => typeof c === 'string' && c !== FEED_START)).toBe(true);
      expect(new Set(checkpoints).size).toBe(stored.length);
      // What append returned is what is stored.
      expect(results.flatMap((r) => r.events)).toEqual(stored);
    });

    it('readEvents honours fromSeq and toSeq, both inclusive', async () => {
      const store = await ctx.newStore();
      await store.append(createRequest('d1'));
      for (let seq = 2; seq < 6; seq++) await store.append(approveRequest('d1', seq, `a${seq}`));
      const seqs = async (options: { fromSeq?: number; toSeq?: number }) => (await store.readEvents('d1', options)).map((e) => e.seq);
      expect(await seqs({ fromSeq: 2 })).toEqual([2, 3, 4, 5]);
      expect(await seqs({ toSeq: 1 })).toEqual([0, 1]);
      expect(await seqs({ fromSeq: 2, toSeq: 3 })).toEqual([2, 3]);
      expect(await seqs({ fromSeq: 4, toSeq: 4 })).toEqual([4]);
      expect(await seqs({ fromSeq: 3, toSeq: 100 })).toEqual([3, 4, 5]);
      expect(await seqs({ fromSeq: 6 })).toEqual([]);
      expect(await seqs({ fromSeq: 3, toSeq: 2 })).toEqual([]);
      expect(await seqs({})).toEqual([0, 1, 2, 3, 4, 5]);
    });

    it('readEvents options that are not non-negative integers are INVALID_ARGUMENT', async () => {
      const store = await ctx.newStore();
      await store.append(createRequest('d1'));
      const bad = [{ fromSeq: -1 }, { toSeq: 1.5 }, { generation: -1 }, { fromSeq: '1' }, { generation: Number.NaN }];
      for (const options of bad) {
        await expectNexusError(store.readEvents('d1', options as never), 'INVALID_ARGUMENT');
      }
      // A generation the decision never had is a log that never existed: empty, not an error.
      expect(await store.readEvents('d1', { generation: 7 })).toEqual([]);
      expect(await store.readEvents('d1', { generation: 0 })).toEqual(await store.readEvents('d1'));
    });

    it('an unknown decision has no events and no summary', async () => {
      const store = await ctx.newStore();
      await store.append(createRequest('known'));
      expect(await store.readEvents('unknown')).toEqual([]);
      expect(await store.readEvents('unknown', { fromSeq: 0, toSeq: 10 })).toEqual([]);
      expect(await store.getDecision('unknown')).toBeUndefined();
    });

    it('each decision numbers its own events from 0', async () => {
      const store = await ctx.newStore();
      await store.append(createRequest('d1'));
      await store.append(createRequest('d2'));
      await store.append(approveRequest('d2', 2, 'a'));
      expect((await store.readEvents('d1')).map((e) => e.seq)).toEqual([0, 1]);
      expect((await store.readEvents('d2')).map((e) => e.seq)).toEqual([0, 1, 2]);
    });
  });

  describe('creating a decision', () => {
    it('an append with a header and expectedVersion NEW_DECISION creates the decision and its summary at generation 0', async () => {
      const store = await ctx.newStore();
      const { header } = createdEvents('d1', { goal: 'rotate keys', mode: 'apply', labels: ['sec', 'prod'], ts: fixtureTs(7) });
      await store.append(createRequest('d1', { goal: 'rotate keys', mode: 'apply', labels: ['sec', 'prod'], ts: fixtureTs(7) }));
      expect(await store.getDecision('d1')).toEqual({
        ...header,
        status: 'pending_approval',
        eventCount: 2,
        generation: 0,
        updatedAt: fixtureTs(7),
      });
    });

    it('creating an id that exists fails with DECISION_EXISTS and writes nothing', async () => {
      const store = await ctx.newStore();
      await store.append(createRequest('d1', { goal: 'first' }));
      const before = await decisionState(store, 'd1');
      await expectNexusError(store.append(createRequest('d1', { goal: 'second' })), 'DECISION_EXISTS');
      expect(await decisionState(store, 'd1')).toEqual(before);
      expect((await store.listDecisions()).items).toHaveLength(1);
    });

    it('appending to a decision that does not exist fails with DECISION_NOT_FOUND and writes nothing', async () => {
      const store = await ctx.newStore();
      await expectNexusError(store.append(approveRequest('ghost', 2, 'a')), 'DECISION_NOT_FOUND');
      await expectNexusError(store.append(approveRequest('ghost', 0, 'a')), 'DECISION_NOT_FOUND');
      expect(await store.getDecision('ghost')).toBeUndefined();
      expect(await store.readEvents('ghost')).toEqual([]);
      expect(await store.headCheckpoint()).toBe(FEED_START);
      expect((await store.listDecisions()).items).toEqual([]);
    });

    it('a header with an expectedVersion other than NEW_DECISION is INVALID_ARGUMENT and writes nothing', async () => {
      const store = await ctx.newStore();
      const creating = (expectedVersion: LogVersion, id: string): AppendRequest => ({ ...createRequest(id), expectedVersion });
      await expectNexusError(store.append(creating({ generation: 0, length: 2 }, 'd1')), 'INVALID_ARGUMENT');
      await expectNexusError(store.append(creating({ generation: 1, length: 0 }, 'd1')), 'INVALID_ARGUMENT');
      await store.append(createRequest('d2'));
      const before = await decisionState(store, 'd2');
      await expectNexusError(store.append(creating({ generation: 0, length: 2 }, 'd2')), 'INVALID_ARGUMENT');
      expect(await store.getDecision('d1')).toBeUndefined();
      expect(await decisionState(store, 'd2')).toEqual(before);
    });

    it('a malformed expectedVersion is INVALID_ARGUMENT and writes nothing', async () => {
      const store = await ctx.newStore();
      await store.append(createRequest('d1'));
      const before = await decisionState(store, 'd1');
      const malformed: unknown[] = [
        undefined,
        null,
        2,
        { length: 2 },
        { generation: 0 },
        { generation: -1, length: 2 },
        { generation: 0, length: -1 },
        { generation: 0, length: 2.5 },
        { generation: '0', length: 2 },
        { generation: 0, length: Number.NaN },
      ];
      for (const expectedVersion of malformed) {
        const request = { ...approveRequest('d1', 2, 'a'), expectedVersion } as unknown as AppendRequest;
        await expectNexusError(store.append(request), 'INVALID_ARGUMENT');
      }
      expect(await decisionState(store, 'd1')).toEqual(before);
    });

    it('an append without events is INVALID_ARGUMENT and writes nothing', async () => {
      const store = await ctx.newStore();
      await expectNexusError(store.append({ ...createRequest('d1'), events: [] }), 'INVALID_ARGUMENT');
      await store.append(createRequest('d2'));
      await expectNexusError(store.append({ ...approveRequest('d2', 2, 'a'), events: [] }), 'INVALID_ARGUMENT');
      expect(await store.getDecision('d1')).toBeUndefined();
      expect(await store.getDecision('d2')).toMatchObject({ eventCount: 2, status: 'pending_approval' });
    });

    it('a header naming another decision is INVALID_ARGUMENT and writes nothing', async () => {
      const store = await ctx.newStore();
      await expectNexusError(store.append({ ...createRequest('d1'), decisionId: 'd2' }), 'INVALID_ARGUMENT');
      expect(await store.getDecision('d1')).toBeUndefined();
      expect(await store.getDecision('d2')).toBeUndefined();
      expect(await store.headCheckpoint()).toBe(FEED_START);
    });
  });

  describe('atomic appends', () => {
    it('a batch rejected for a stale expected version stores none of its events, key or router result', async () => {
      const store = await ctx.newStore();
      await store.append(createRequest('d1'));
      await store.append(approveRequest('d1', 2, 'a'));
      const before = await decisionState(store, 'd1');
      const batch = [
        newEvent('EXECUTION_REQUESTED', { adapter_id: 'null', dry_run: true }, { type: 'human', id: 'ex' }, fixtureTs(10)),
        newEvent('EXECUTION_STARTED', { router_request_digest: 'a'.repeat(64) }, { type: 'system', id: 'nexus-control' }, fixtureTs(11)),
        newEvent(
          'EXECUTION_COMPLETED',
          { run_id: 'run-1', response_digest: 'b'.repeat(64), steps_executed: 0 },
          { type: 'system', id: 'nexus-control' },
          fixtureTs(12),
        ),
      ];
      await expectConflict(
        store.append({
          decisionId: 'd1',
          expectedVersion: { generation: 0, length: 2 },
          events: batch,
          status: 'completed',
          idempotency: { key: 'k-exec', fingerprint: 'f' },
          routerResult: { runId: 'run-1', responseJson: '{"run_id":"run-1"}' },
        }),
      );
      expect(await decisionState(store, 'd1')).toEqual(before);
      expect((await store.readFeed({ after: before.headCheckpoint })).events).toEqual([]);
      expect(await store.getIdempotency('k-exec')).toBeUndefined();
      expect(await store.getRouterResult('d1', 'run-1')).toBeUndefined();
    });

    it('a batch rejected for a reused idempotency key stores none of its events', async () => {
      const store = await ctx.newStore();
      await store.append(createRequest('d1', { idempotency: { key: 'k1', fingerprint: 'f1' } }));
      await store.append(createRequest('d2'));
      const before = await decisionState(store, 'd2');
      const batch = [approvalEvent('a'), approvalEvent('b'), approvalEvent('c')];
      await expectNexusError(
        store.append({ ...approveRequest('d2', 2, 'a'), events: batch, idempotency: { key: 'k1', fingerprint: 'f2' } }),
        'IDEMPOTENCY_KEY_REUSED',
      );
      expect(await decisionState(store, 'd2')).toEqual(before);
      expect((await store.readFeed({ after: before.headCheckpoint })).events).toEqual([]);

      // A creating batch is rejected as a whole too: no header, no events, no listing row.
      await expectNexusError(
        store.append(createRequest('d3', { idempotency: { key: 'k1', fingerprint: 'f3' } })),
        'IDEMPOTENCY_KEY_REUSED',
      );
      expect(await decisionState(store, 'd3')).toEqual({ summary: undefined, events: [], feed: [], headCheckpoint: before.headCheckpoint });
      expect((await store.listDecisions()).items.map((d) => d.decisionId)).toEqual(['d2', 'd1']);
      expect(await store.getIdempotency('k1')).toEqual({ key: 'k1', fingerprint: 'f1', decisionId: 'd1', generation: 0, seq: 0 });
    });

    it('changing the objects given to append or returned by reads does not change what is stored', async () => {
      const store = await ctx.newStore();
      const request = createRequest('d1', { labels: ['x'] });
      const result = await store.append(request);
      const expected = request.events.map((e) => canonicalJson(e.payload));

      const mutable = (value: object) => value as Record<string, unknown>;
      mutable(request.events[0]?.payload as object).goal = 'changed by the caller';
      (request.header?.labels as string[]).push('changed');
      mutable(result.events[1]?.payload as object).min_approvals = 99;
      const read = await store.readEvents('d1');
      mutable(read[0]?.payload as object).goal = 'changed by a reader';
      mutable(read[0]?.actor as object).id = 'mallory';
      const summary = await store.getDecision('d1');
      (summary?.labels as string[]).push('changed');

      const again = await store.readEvents('d1');
      expect(again.map((e) => canonicalJson(e.payload))).toEqual(expected);
      expect(again[0]?.actor.id).toBe('requester');
      expect((await store.getDecision('d1'))?.labels).toEqual(['x']);
    });
  });

  describe('idempotency keys', () => {
    it('an append with a key records it with the decision, the generation and the seq of its first event', async () => {
      const store = await ctx.newStore();
      await store.append(createRequest('d1', { idempotency: { key: 'create-1', fingerprint: 'fp-create' } }));
      await store.append(approveRequest('d1', 2, 'a', { idempotency: { key: 'approve-1', fingerprint: 'fp-approve' } }));
      expect(await store.getIdempotency('create-1')).toEqual({
        key: 'create-1',
        fingerprint: 'fp-create',
        decisionId: 'd1',
        generation: 0,
        seq: 0,
      });
      expect(await store.getIdempotency('approve-1')).toEqual({
        key: 'approve-1',
        fingerprint: 'fp-approve',
        decisionId: 'd1',
        generation: 0,
        seq: 2,
      });
    });

    it('reusing a key fails with IDEMPOTENCY_KEY_REUSED, writes nothing and keeps the first record', async () => {
      const store = await ctx.newStore();
      await store.append(createRequest('d1'));
      await store.append(approveRequest('d1', 2, 'a', { idempotency: { key: 'k', fingerprint: 'fp' } }));
      const before = await decisionState(store, 'd1');
      // The same command again, and another command under the same key.
      await expectNexusError(
        store.append(approveRequest('d1', 3, 'a', { idempotency: { key: 'k', fingerprint: 'fp' } })),
        'IDEMPOTENCY_KEY_REUSED',
      );
      await expectNexusError(
        store.append(approveRequest('d1', 3, 'b', { idempotency: { key: 'k', fingerprint: 'other' } })),
        'IDEMPOTENCY_KEY_REUSED',
      );
      expect(await decisionState(store, 'd1')).toEqual(before);
      expect(await store.getIdempotency('k')).toEqual({ key: 'k', fingerprint: 'fp', decisionId: 'd1', generation: 0, seq: 2 });
    });

    it('an unknown key has no record', async () => {
      const store = await ctx.newStore();
      await store.append(createRequest('d1', { idempotency: { key: 'k', fingerprint: 'fp' } }));
      expect(await store.getIdempotency('other')).toBeUndefined();
      expect(await store.getIdempotency('K')).toBeUndefined();
    });
  });
}
