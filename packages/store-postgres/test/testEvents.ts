import { NEW_DECISION, newEvent, type AppendRequest, type LogVersion } from '@nexus-control/core';

const TS = '2025-01-01T00:00:00+00:00';

/** The append creating a decision (created + policy events), with the goal given. */
export function creation(decisionId: string, goal = `goal of ${decisionId}`, labels: string[] = []): AppendRequest {
  const actor = { type: 'human' as const, id: 'requester' };
  return {
    decisionId,
    expectedVersion: NEW_DECISION,
    status: 'pending_approval',
    header: { decisionId, createdAt: TS, goal, requestedMode: 'dry_run', labels },
    events: [
      newEvent('DECISION_CREATED', { goal, plan: null, requested_mode: 'dry_run', labels }, actor, TS),
      newEvent(
        'POLICY_ATTACHED',
        { min_approvals: 1, allowed_modes: ['dry_run'], require_adapter_capabilities: [], max_steps: null, labels },
        actor,
        TS,
      ),
    ],
  };
}

/** One approval appended at `version`. */
export function approval(decisionId: string, version: LogVersion, approver = 'approver', comment?: string): AppendRequest {
  return {
    decisionId,
    expectedVersion: version,
    status: 'approved',
    events: [
      newEvent(
        'APPROVAL_GRANTED',
        comment === undefined ? { expires_at: null } : { expires_at: null, comment },
        { type: 'human', id: approver },
        TS,
      ),
    ],
  };
}
