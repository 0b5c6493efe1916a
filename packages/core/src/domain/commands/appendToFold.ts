import type { NewEvent } from '../../events/DecisionEvent.js';
import type { LeaseGrant, RouterResultRecord } from '../../store/EventStore.js';
import { applyEvent, cloneFold, viewOf, type DecisionFold } from '../decisionFold.js';
import type { IdempotencyClaim } from '../idempotency.js';
import type { DecisionView } from '../NexusControlApi.js';
import type { ServiceDeps } from '../ServiceDeps.js';

/**
 * Appends events a command decided on, expecting the fold's log (its
 * generation and length), and returns the fold's
 * view afterwards. The view (and the status stored for listing) is computed on a scratch
 * copy before the append, so once the store has acknowledged the write nothing is left that
 * could fail: a caller is never told an error about a write that happened. The shared fold
 * only ever advances with events the store accepted.
 */
export async function appendToFold(
  deps: ServiceDeps,
  fold: DecisionFold,
  events: readonly NewEvent[],
  extra: {
    claim?: IdempotencyClaim | undefined;
    routerResult?: RouterResultRecord;
    asOf?: number;
    lease?: LeaseGrant | 'release';
  } = {},
): Promise<DecisionView> {
  // A command under an idempotency key answers as of its own instant (its events' time), so a
  // repeat or a twin that lost the race, replaying the log up to those events, answers the same.
  const asOf = extra.asOf ?? deps.clock.now();
  const scratch = cloneFold(fold);
  for (const event of events) applyEvent(scratch, { ...event, seq: scratch.eventCount });
  const view = viewOf(scratch, asOf);
  const stored = await deps.store.append({
    decisionId: fold.decisionId,
    expectedVersion: { generation: fold.generation, length: fold.eventCount },
    events,
    status: view.status,
    ...(extra.claim ? { idempotency: extra.claim } : {}),
    ...(extra.routerResult ? { routerResult: extra.routerResult } : {}),
    ...(extra.lease ? { lease: extra.lease } : {}),
  });
  try {
    deps.cache.applyAppended(fold, stored.events);
  } catch {
    // The shared fold stays behind; the next load reads the missing events from the store.
  }
  return view;
}
