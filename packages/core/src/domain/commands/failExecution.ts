import { NexusError } from '../../errors/NexusError.js';
import { checkFreeText, FIELD_LIMITS, storableText } from '../../text/limits.js';
import { formatTimestamp } from '../../time/timestamp.js';
import { statusAt } from '../decisionFold.js';
import { EXECUTION_FAILED_BY_OPERATOR } from '../executionLeases.js';
import { definedFields, runIdempotent } from '../idempotency.js';
import type { CommandContext, DecisionView, FailExecutionInput } from '../NexusControlApi.js';
import { replayDecision } from '../replay.js';
import type { ServiceDeps } from '../ServiceDeps.js';
import { validateActor, validateDecisionId } from '../validation.js';
import { appendToFold } from './appendToFold.js';
import { commandEvent } from './commandEvent.js';
import { retryOnConflict } from './retryOnConflict.js';

/**
 * An operator closes a run that is stuck now, instead of waiting for its lease to lapse:
 * EXECUTION_FAILED with the operator as its actor, dropping the run's lease in the same
 * append. The process still running it loses its lease at its next renewal and stops its
 * adapter. Who may do this is the transport's business (admin only on the server).
 */
export async function failExecution(
  deps: ServiceDeps,
  decisionId: string,
  input: FailExecutionInput,
  ctx: CommandContext,
): Promise<DecisionView> {
  validateDecisionId(decisionId);
  const actor = validateActor(ctx.actor);
  const reason = checkFreeText(input?.reason, 'reason', FIELD_LIMITS.reasonBytes).trim();
  if (reason === '') throw new NexusError('INVALID_ARGUMENT', 'a reason is required to fail an execution', { field: 'reason' });
  return runIdempotent(
    deps.store,
    ctx,
    'failExecution',
    definedFields({ decisionId, reason }),
    (claim) =>
      retryOnConflict(deps.maxConflictRetries, async () => {
        const fold = await deps.cache.load(decisionId);
        const now = deps.clock.now();
        const status = statusAt(fold, now);
        if (status !== 'executing') {
          throw new NexusError(
            'INVALID_STATE',
            `decision ${decisionId} is ${status}: only a decision that is executing has a run to fail`,
            {
              decisionId,
              status,
            },
          );
        }
        const message = storableText(`failed by operator ${actor.id}: ${reason}`, FIELD_LIMITS.errorMessageBytes);
        const event = commandEvent(
          'EXECUTION_FAILED',
          { error_code: EXECUTION_FAILED_BY_OPERATOR, error_message: message, run_id: null },
          actor,
          formatTimestamp(now),
        );
        return appendToFold(deps, fold, [event], { claim, lease: 'release', asOf: now });
      }),
    async (record) => replayDecision(await deps.store.readEvents(decisionId, { toSeq: record.seq, generation: record.generation })),
  );
}
