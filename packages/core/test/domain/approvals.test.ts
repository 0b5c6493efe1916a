import { describe, expect, it } from 'vitest';
import { NexusError } from '../../src/errors/NexusError.js';
import { alice, bob, carol, HOUR, requester, setup, T0 } from './fixtures.js';

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (e: unknown) => {
      expect(e).toBeInstanceOf(NexusError);
      return (e as NexusError).code;
    },
  );
}

describe('approve and revoke', () => {
  it('becomes approved exactly when distinct active approvals meet min_approvals', async () => {
    const { nexus } = setup();
    const { decisionId } = await nexus.request({ goal: 'g', policy: { minApprovals: 2 } }, requester);
    expect((await nexus.approve(decisionId, {}, alice)).status).toBe('pending_approval');
    expect((await nexus.approve(decisionId, {}, bob)).status).toBe('approved');
  });

  it('rejects a second approval by an actor whose approval is active, writing nothing', async () => {
    const { nexus, store } = setup();
    const { decisionId } = await nexus.request({ goal: 'g', policy: { minApprovals: 2 } }, requester);
    await nexus.approve(decisionId, {}, alice);
    expect(await codeOf(nexus.approve(decisionId, {}, alice))).toBe('ALREADY_APPROVED');
    expect(await store.readEvents(decisionId)).toHaveLength(3);
  });

  it('lets an actor approve again after revoking', async () => {
    const { nexus } = setup();
    const { decisionId } = await nexus.request({ goal: 'g' }, requester);
    await nexus.approve(decisionId, {}, alice);
    expect((await nexus.revoke(decisionId, { reason: 'oops' }, alice)).status).toBe('pending_approval');
    const view = await nexus.approve(decisionId, {}, alice);
    expect(view.status).toBe('approved');
    expect(view.approvals).toHaveLength(1);
  });

  it('lets an actor whose approval expired approve again (the reference blocks them)', async () => {
    const { nexus, clock } = setup();
    const { decisionId } = await nexus.request({ goal: 'g' }, requester);
    await nexus.approve(decisionId, { expiresAt: '2025-01-01T01:00:00Z' }, alice);
    clock.advance(2 * HOUR);
    expect((await nexus.getDecision(decisionId)).status).toBe('pending_approval');
    const view = await nexus.approve(decisionId, {}, alice);
    expect(view.status).toBe('approved');
  });

  it('writes expires_at in the reference format, normalised to UTC', async () => {
    const { nexus, store } = setup();
    const { decisionId } = await nexus.request({ goal: 'g' }, requester);
    await nexus.approve(decisionId, { expiresAt: '2025-01-01T05:30:00.5+05:00', comment: 'lgtm' }, alice);
    const granted = (await store.readEvents(decisionId))[2]!;
    expect(granted.payload).toEqual({ expires_at: '2025-01-01T00:30:00.500000+00:00', comment: 'lgtm' });
  });

  it('omits an empty comment from the payload', async () => {
    const { nexus, store } = setup();
    const { decisionId } = await nexus.request({ goal: 'g' }, requester);
    await nexus.approve(decisionId, { comment: '' }, alice);
    expect((await store.readEvents(decisionId))[2]!.payload).toEqual({ expires_at: null });
  });

  it.each([
    ['a naive expiry', '2025-06-01T00:00:00'],
    ['an expiry in the past', '2024-12-31T23:59:59+00:00'],
    ['an expiry equal to now', T0],
    ['garbage', 'tomorrow'],
  ])('rejects %s and writes nothing', async (_name, expiresAt) => {
    const { nexus, store } = setup();
    const { decisionId } = await nexus.request({ goal: 'g' }, requester);
    expect(await codeOf(nexus.approve(decisionId, { expiresAt }, alice))).toBe('INVALID_TIMESTAMP');
    expect(await store.readEvents(decisionId)).toHaveLength(2);
  });

  it('rejects approving an unknown decision', async () => {
    const { nexus } = setup();
    expect(await codeOf(nexus.approve('dec_missing', {}, alice))).toBe('DECISION_NOT_FOUND');
  });

  it('can forbid approving one’s own request', async () => {
    const { nexus } = setup({ forbidSelfApproval: true });
    const { decisionId } = await nexus.request({ goal: 'g' }, requester);
    expect(await codeOf(nexus.approve(decisionId, {}, requester))).toBe('SELF_APPROVAL_FORBIDDEN');
  });

  it('revoking needs a non-revoked approval of one’s own', async () => {
    const { nexus } = setup();
    const { decisionId } = await nexus.request({ goal: 'g' }, requester);
    expect(await codeOf(nexus.revoke(decisionId, {}, alice))).toBe('NO_ACTIVE_APPROVAL');
    await nexus.approve(decisionId, {}, alice);
    await nexus.revoke(decisionId, {}, alice);
    expect(await codeOf(nexus.revoke(decisionId, {}, alice))).toBe('NO_ACTIVE_APPROVAL');
  });

  it('writes the revocation reason, defaulting to an empty string', async () => {
    const { nexus, store } = setup();
    const { decisionId } = await nexus.request({ goal: 'g' }, requester);
    await nexus.approve(decisionId, {}, alice);
    await nexus.revoke(decisionId, {}, alice);
    expect((await store.readEvents(decisionId))[3]!.payload).toEqual({ reason: '' });
  });

  it('rejects approvals and revocations once the decision completed, and accepts approvals after a failure', async () => {
    const failing = { id: 'flaky', capabilities: ['dry_run'], run: async () => Promise.reject(new Error('boom')) };
    const { nexus } = setup({ adapters: [failing] });
    const { decisionId } = await nexus.request({ goal: 'g', policy: { minApprovals: 1 } }, requester);
    await nexus.approve(decisionId, {}, alice);
    const failed = await nexus.execute(decisionId, { adapterId: 'flaky' }, alice);
    expect(failed.decision.status).toBe('failed');
    expect((await nexus.approve(decisionId, {}, bob)).status).toBe('failed');
    await nexus.revoke(decisionId, {}, bob);
    await nexus.execute(decisionId, { adapterId: 'null' }, alice);
    expect(await codeOf(nexus.approve(decisionId, {}, carol))).toBe('INVALID_STATE');
    expect(await codeOf(nexus.revoke(decisionId, {}, alice))).toBe('INVALID_STATE');
  });

  it('20 concurrent approvals by different actors all land in a gapless log', async () => {
    const { nexus, store } = setup();
    const { decisionId } = await nexus.request({ goal: 'g', policy: { minApprovals: 20 } }, requester);
    const views = await Promise.all(
      Array.from({ length: 20 }, (_, i) => nexus.approve(decisionId, {}, { actor: { type: 'human', id: `approver-${i}` } })),
    );
    expect(views).toHaveLength(20);
    const events = await store.readEvents(decisionId);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 22 }, (_, i) => i));
    expect((await nexus.getDecision(decisionId)).status).toBe('approved');
  });

  it('two service instances on one store stay correct: a stale cache is caught by the store', async () => {
    const first = setup();
    const second = setup({ store: first.store });
    const { decisionId } = await first.nexus.request({ goal: 'g', policy: { minApprovals: 2 } }, requester);
    await first.nexus.approve(decisionId, {}, alice);
    await second.nexus.approve(decisionId, {}, bob);
    // `first` cached the decision before bob's approval; it must still see it and reject alice twice.
    expect(await codeOf(first.nexus.approve(decisionId, {}, alice))).toBe('ALREADY_APPROVED');
    expect((await first.nexus.getDecision(decisionId)).status).toBe('approved');
  });

  it('a command refused on a held decision that another instance moved on is decided again on the stored log', async () => {
    const first = setup();
    const second = setup({ store: first.store });
    const { decisionId } = await first.nexus.request({ goal: 'g' }, requester);
    await first.nexus.approve(decisionId, {}, alice);
    // `first` holds the decision with alice's approval; `second` revokes it behind its back.
    await second.nexus.revoke(decisionId, {}, alice);
    // On the held fold alice still approves, so approving again would be refused: the store's log says otherwise.
    const view = await first.nexus.approve(decisionId, {}, alice);
    expect(view.status).toBe('approved');
    expect((await first.store.readEvents(decisionId)).map((e) => e.type)).toEqual([
      'DECISION_CREATED',
      'POLICY_ATTACHED',
      'APPROVAL_GRANTED',
      'APPROVAL_REVOKED',
      'APPROVAL_GRANTED',
    ]);
  });

  it('a command on a decision this instance holds writes without reading the log first', async () => {
    const { store, nexus } = setup();
    const { decisionId } = await nexus.request({ goal: 'g', policy: { minApprovals: 2 } }, requester);
    let reads = 0;
    const readEvents = store.readEvents.bind(store);
    store.readEvents = (...args) => {
      reads++;
      return readEvents(...args);
    };
    await nexus.approve(decisionId, {}, alice);
    await nexus.approve(decisionId, {}, bob);
    await nexus.execute(decisionId, { adapterId: 'null' }, carol);
    expect(reads).toBe(0);
    expect((await nexus.getDecision(decisionId)).status).toBe('completed');
  });
});
