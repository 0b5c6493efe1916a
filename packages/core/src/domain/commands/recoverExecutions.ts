import { SYSTEM_ACTOR } from '../../events/DecisionEvent.js';
import type { ExecutionLease } from '../../store/EventStore.js';
import { FIELD_LIMITS, storableText } from '../../text/limits.js';
import { formatTimestamp } from '../../time/timestamp.js';
import { EXECUTION_INTERRUPTED, leaseNow } from '../executionLeases.js';
import type { ServiceDeps } from '../ServiceDeps.js';
import { appendToFold } from './appendToFold.js';
import { commandEvent } from './commandEvent.js';
import { retryOnConflict } from './retryOnConflict.js';

export interface RecoveryReport {
  /** Decisions whose interrupted run this sweep closed with EXECUTION_FAILED. */
  readonly recovered: readonly string[];
  /** Leases whose run had already ended, dropped without writing an event. */
  readonly released: readonly string[];
  /** Lapsed leases this sweep took but could not settle (they lapse again and are retried). */
  readonly failures: readonly { readonly decisionId: string; readonly message: string }[];
}

/**
 * One sweep: every lease that lapsed is taken over (one conditional update, so of several
 * replicas sweeping at once exactly one proceeds per run), and its run, if still running on
 * the same log, is closed with EXECUTION_FAILED / EXECUTION_INTERRUPTED. That append carries
 * the normal expected-version check, so it can never land beside another outcome of the run.
 * `isLocal` names runs this process is executing right now: their own keeper renews them.
 */
export async function recoverExecutions(
  deps: ServiceDeps,
  isLocal: (decisionId: string) => boolean = () => false,
): Promise<RecoveryReport> {
  const recovered: string[] = [];
  const released: string[] = [];
  const failures: { decisionId: string; message: string }[] = [];
  const now = leaseNow(deps.clock.now());
  const lapsed = await deps.store.listExpiredLeases(now);
  for (const lease of lapsed) {
    if (lease.owner === deps.leases.owner && isLocal(lease.decisionId)) continue;
    const taken = await deps.store.takeOverLease({
      decisionId: lease.decisionId,
      fromOwner: lease.owner,
      now,
      grant: { owner: deps.leases.owner, expiresAt: now + deps.leases.leaseMs },
    });
    if (!taken) continue;
    try {
      if (await closeInterrupted(deps, lease)) recovered.push(lease.decisionId);
      else released.push(lease.decisionId);
    } catch (error) {
      failures.push({ decisionId: lease.decisionId, message: error instanceof Error ? error.message : String(error) });
    }
  }
  return { recovered, released, failures };
}

/** True when the run was still open and is now failed; false when it had ended (the lease is dropped). */
async function closeInterrupted(deps: ServiceDeps, lease: ExecutionLease): Promise<boolean> {
  return retryOnConflict(deps.maxConflictRetries, async () => {
    const fold = await deps.cache.load(lease.decisionId);
    const latest = fold.executions[fold.executions.length - 1];
    if (fold.generation !== lease.generation || latest?.requestedSeq !== lease.requestedSeq || latest.status !== 'running') {
      await deps.store.releaseLease(lease.decisionId, deps.leases.owner);
      return false;
    }
    const expired = formatTimestamp(lease.expiresAt * 1000);
    const message =
      `interrupted: outcome unknown: the process running this execution (${lease.owner}) stopped renewing its lease ` +
      `(expired ${expired}); the adapter may or may not have acted. The decision can be executed again under its policy.`;
    const event = commandEvent(
      'EXECUTION_FAILED',
      { error_code: EXECUTION_INTERRUPTED, error_message: storableText(message, FIELD_LIMITS.errorMessageBytes), run_id: null },
      SYSTEM_ACTOR,
      formatTimestamp(deps.clock.now()),
    );
    await appendToFold(deps, fold, [event], { lease: 'release' });
    return true;
  });
}
