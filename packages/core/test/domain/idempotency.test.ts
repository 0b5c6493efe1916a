import { describe, expect, it } from 'vitest';
import { alice, requester, setup } from './fixtures.js';

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
    const views = await Promise.all(Array.from({ length: 5 }, () => nexus.request({ goal: 'g' }, { ...requester, idempotencyKey: 'twin' })));
    expect(new Set(views.map((v) => v.decisionId)).size).toBe(1);
    expect((await store.listDecisions()).items).toHaveLength(1);
  });

  it('reusing a key for other arguments or by another actor is an error', async () => {
    const { nexus } = setup();
    await nexus.request({ goal: 'g' }, { ...requester, idempotencyKey: 'k' });
    await expect(nexus.request({ goal: 'other' }, { ...requester, idempotencyKey: 'k' })).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
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
