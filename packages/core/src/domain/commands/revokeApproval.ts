import { commandEvent } from './commandEvent.js';
import { NexusError } from '../../errors/NexusError.js';
import { FIELD_LIMITS } from '../../text/limits.js';
import { formatTimestamp } from '../../time/timestamp.js';
import { hasUnrevokedApproval, statusAt } from '../decisionFold.js';
import { definedFields, runIdempotent } from '../idempotency.js';
import type { CommandContext, DecisionView, RevokeInput } from '../NexusControlApi.js';
import { replayDecision } from '../replay.js';
import type { ServiceDeps } from '../ServiceDeps.js';
import { optionalString, validateActor, validateDecisionId } from '../validation.js';
import { appendToFold } from './appendToFold.js';
import { decideOnFold } from './decideOnFold.js';
import { retryOnConflict } from './retryOnConflict.js';

/** SPEC §3 Revoke: the actor's own non-revoked approval, until execution begins. */
export async function revokeApproval(
  deps: ServiceDeps,
  decisionId: string,
  input: RevokeInput,
  ctx: CommandContext,
): Promise<DecisionView> {
  validateDecisionId(decisionId);
  const actor = validateActor(ctx.actor);
  const reason = optionalString(input?.reason, 'reason', FIELD_LIMITS.reasonBytes) ?? '';
  return runIdempotent(
    deps.store,
    ctx,
    'revoke',
    definedFields({ decisionId, reason }),
    (claim) =>
      retryOnConflict(deps.maxConflictRetries, () =>
        decideOnFold(deps, decisionId, async (fold) => {
          const now = deps.clock.now();
          const status = statusAt(fold, now);
          if (status === 'executing' || status === 'completed') {
            throw new NexusError('INVALID_STATE', `decision ${decisionId} is ${status}: approvals can no longer be revoked`, {
              decisionId,
              status,
            });
          }
          if (!hasUnrevokedApproval(fold, actor.id)) {
            throw new NexusError('NO_ACTIVE_APPROVAL', `${actor.id} holds no approval on decision ${decisionId} to revoke`, {
              decisionId,
              actorId: actor.id,
            });
          }
          return appendToFold(deps, fold, [commandEvent('APPROVAL_REVOKED', { reason }, actor, formatTimestamp(now))], {
            claim,
            asOf: now,
          });
        }),
      ),
    // The first result: the log up to the recorded event, as of that event's instant.
    async (record) => replayDecision(await deps.store.readEvents(decisionId, { toSeq: record.seq, generation: record.generation })),
  );
}
