import type { NewEvent } from '../../events/DecisionEvent.js';
import type { DecisionStatus, RouterResultRecord } from '../../store/EventStore.js';
import { activeApprovalCount, hasActiveApproval, statusAt, viewOf, type DecisionFold } from '../decisionFold.js';
import type { IdempotencyClaim } from '../idempotency.js';
import type { DecisionView } from '../NexusControlApi.js';
import type { ServiceDeps } from '../ServiceDeps.js';

/**
 * Appends events a command decided on, expecting the fold's log (its generation and length), and returns the fold's
 * view afterwards. The status stored for listing is computed on a scratch copy so the shared
 * fold only ever advances with events the store accepted.
 */
export async function appendToFold(
  deps: ServiceDeps,
  fold: DecisionFold,
  events: readonly NewEvent[],
  extra: { claim?: IdempotencyClaim | undefined; routerResult?: RouterResultRecord; asOf?: number } = {},
): Promise<DecisionView> {
  // A command under an idempotency key answers as of its own instant (its events' time), so a
  // repeat or a twin that lost the race, replaying the log up to those events, answers the same.
  const asOf = extra.asOf ?? deps.clock.now();
  const stored = await deps.store.append({
    decisionId: fold.decisionId,
    expectedVersion: { generation: fold.generation, length: fold.eventCount },
    events,
    status: statusAfter(fold, events, asOf),
    ...(extra.claim ? { idempotency: extra.claim } : {}),
    ...(extra.routerResult ? { routerResult: extra.routerResult } : {}),
  });
  deps.cache.applyAppended(fold, stored.events);
  return viewOf(fold, asOf);
}

/** The status the events will lead to, derived without touching the shared fold. */
function statusAfter(fold: DecisionFold, events: readonly NewEvent[], asOf: number): DecisionStatus {
  let status = statusAt(fold, asOf);
  let active = activeApprovalCount(fold, asOf);
  const minApprovals = fold.policy?.minApprovals ?? Infinity;
  for (const event of events) {
    switch (event.type) {
      case 'APPROVAL_GRANTED':
        if (!hasActiveApproval(fold, event.actor.id, asOf)) active++;
        break;
      case 'APPROVAL_REVOKED':
        if (hasActiveApproval(fold, event.actor.id, asOf)) active--;
        break;
      case 'EXECUTION_STARTED':
        status = 'executing';
        break;
      case 'EXECUTION_COMPLETED':
        status = 'completed';
        break;
      case 'EXECUTION_FAILED':
        status = 'failed';
        break;
      default:
        break;
    }
    if (status === 'pending_approval' || status === 'approved') status = active >= minApprovals ? 'approved' : 'pending_approval';
  }
  return status;
}
