import { NEW_DECISION, newEvent, type AppendRequest, type LogVersion } from '@nexus-control/core';

const TS = '2025-01-01T00:00:00+00:00';
const ACTOR = { type: 'human', id: 'requester' } as const;

/** The append that creates `decisionId` (one DECISION_CREATED event). */
export function creation(decisionId: string, idempotencyKey?: string): AppendRequest {
  return {
    decisionId,
    expectedVersion: NEW_DECISION,
    header: { decisionId, createdAt: TS, goal: `goal of ${decisionId}`, requestedMode: 'dry_run', labels: [] },
    events: [newEvent('DECISION_CREATED', { goal: `goal of ${decisionId}`, plan: null, requested_mode: 'dry_run', labels: [] }, ACTOR, TS)],
    status: 'draft',
    ...(idempotencyKey === undefined ? {} : { idempotency: { key: idempotencyKey, fingerprint: `fp-${idempotencyKey}` } }),
  };
}

/** An approval appended to the log at `version`. */
export function approval(decisionId: string, version: LogVersion, approver = 'approver'): AppendRequest {
  return {
    decisionId,
    expectedVersion: version,
    events: [newEvent('APPROVAL_GRANTED', { expires_at: null, comment: approver }, { type: 'human', id: approver }, TS)],
    status: 'approved',
  };
}

/** A promise and the function that settles it: a gate a test opens when it chooses. */
export function gate(): { readonly opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}
