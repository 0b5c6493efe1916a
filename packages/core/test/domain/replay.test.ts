import { describe, expect, it } from 'vitest';
import { NexusError } from '../../src/errors/NexusError.js';
import { newEvent } from '../../src/events/newEvent.js';
import { replayDecision } from '../../src/domain/replay.js';
import type { ReplayableEvent } from '../../src/domain/decisionFold.js';
import { alice, bob, requester, setup } from './fixtures.js';

const human = (id: string) => ({ type: 'human' as const, id });

function log(...events: ReturnType<typeof newEvent>[]): ReplayableEvent[] {
  return events.map((e, seq) => ({ ...e, seq, decisionId: 'dec_x' }));
}

const created = newEvent(
  'DECISION_CREATED',
  { goal: 'g', plan: null, requested_mode: 'dry_run', labels: [] },
  human('r'),
  '2025-01-01T00:00:00+00:00',
);
const policy = newEvent(
  'POLICY_ATTACHED',
  { min_approvals: 1, allowed_modes: ['dry_run'], require_adapter_capabilities: [], max_steps: null, labels: [] },
  human('r'),
  '2025-01-01T00:00:00+00:00',
);
const expiring = newEvent('APPROVAL_GRANTED', { expires_at: '2025-01-01T02:00:00+00:00' }, human('a'), '2025-01-01T01:00:00+00:00');

describe('replay', () => {
  it('evaluates expiry against the given as_of, never the wall clock', () => {
    const events = log(created, policy, expiring);
    expect(replayDecision(events, { asOf: '2025-01-01T01:59:59.999999+00:00' }).status).toBe('approved');
    expect(replayDecision(events, { asOf: '2025-01-01T02:00:00+00:00' }).status).toBe('pending_approval');
    // Same log, same as_of, same answer, whatever today's date is.
    expect(replayDecision(events, { asOf: '2025-01-01T01:30:00+00:00' })).toEqual(
      replayDecision(events, { asOf: '2025-01-01T01:30:00+00:00' }),
    );
  });

  it('defaults as_of to the last event’s ts', () => {
    expect(replayDecision(log(created, policy, expiring)).status).toBe('approved');
  });

  it('replays up to a seq and up to an instant', () => {
    const events = log(created, policy, expiring);
    expect(replayDecision(events, { atSeq: 1 }).status).toBe('pending_approval');
    expect(replayDecision(events, { atSeq: 0 }).status).toBe('draft');
    expect(replayDecision(events, { until: '2025-01-01T00:30:00+00:00' }).eventCount).toBe(2);
  });

  it('rejects a log with a gap, an unknown type, or one that does not start with DECISION_CREATED', () => {
    const gap = log(created, policy, expiring).filter((e) => e.seq !== 1);
    expect(() => replayDecision(gap)).toThrow(NexusError);
    const unknown = log(created, { ...policy, type: 'SOMETHING_ELSE' as never });
    expect(() => replayDecision(unknown)).toThrowError(/unknown event type/);
    expect(() => replayDecision(log(policy))).toThrowError(/first event/);
  });

  it('replaces an actor’s approval record when they approve again', () => {
    const revoke = newEvent('APPROVAL_REVOKED', { reason: 'x' }, human('a'), '2025-01-01T01:10:00+00:00');
    const again = newEvent('APPROVAL_GRANTED', { expires_at: null }, human('a'), '2025-01-01T01:20:00+00:00');
    const view = replayDecision(log(created, policy, expiring, revoke, again));
    expect(view.approvals).toHaveLength(1);
    expect(view.approvals[0]).toMatchObject({ active: true, expiresAt: null, grantedAt: '2025-01-01T01:20:00+00:00' });
  });
});

describe('point-in-time reads through the service', () => {
  it('gives the state at any seq and at any instant', async () => {
    const { nexus, clock } = setup();
    const { decisionId } = await nexus.request({ goal: 'g', policy: { minApprovals: 2 } }, requester);
    clock.advance(60_000_000);
    await nexus.approve(decisionId, {}, alice);
    clock.advance(60_000_000);
    await nexus.approve(decisionId, {}, bob);
    expect((await nexus.getDecision(decisionId, { atSeq: 2 })).activeApprovals).toBe(1);
    expect((await nexus.getDecision(decisionId, { asOf: '2025-01-01T00:01:30+00:00' })).activeApprovals).toBe(1);
    expect((await nexus.getDecision(decisionId)).status).toBe('approved');
    expect(await nexus.events(decisionId, { atSeq: 1 })).toHaveLength(2);
    await expect(nexus.getDecision(decisionId, { asOf: '2024-01-01T00:00:00+00:00' })).rejects.toMatchObject({
      code: 'DECISION_NOT_FOUND',
    });
  });
});

describe('lifecycle and inspect', () => {
  it('names what blocks execution and how far approvals have come', async () => {
    const { nexus } = setup();
    const { decisionId } = await nexus.request({ goal: 'g', policy: { minApprovals: 2 } }, requester);
    await nexus.approve(decisionId, {}, alice);
    const lifecycle = await nexus.lifecycle(decisionId);
    expect(lifecycle.blockingReasons.map((r) => r.code)).toEqual(['APPROVALS_NEEDED']);
    expect(lifecycle.progress).toEqual({ activeApprovals: 1, requiredApprovals: 2, fraction: 0.5 });
    expect(lifecycle.timeline.map((t) => t.type)).toEqual(['DECISION_CREATED', 'POLICY_ATTACHED', 'APPROVAL_GRANTED']);
    expect(lifecycle.timeline[2]!.summary).toContain('alice approved');
    await nexus.approve(decisionId, {}, bob);
    expect((await nexus.lifecycle(decisionId)).blockingReasons).toEqual([]);
  });

  it('re-checks every event digest', async () => {
    const { nexus } = setup();
    const { decisionId } = await nexus.request({ goal: 'g' }, requester);
    const inspection = await nexus.inspect(decisionId);
    expect(inspection.integrity).toEqual({ eventDigestsValid: true, invalidEventSeqs: [] });
    expect(inspection.events).toHaveLength(2);
  });
});
