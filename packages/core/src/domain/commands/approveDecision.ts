import { commandEvent } from './commandEvent.js';
import type { ApprovalGrantedPayload } from '../../events/DecisionEvent.js';
import { NexusError } from '../../errors/NexusError.js';
import { FIELD_LIMITS } from '../../text/limits.js';
import { formatTimestamp, parseTimestamp } from '../../time/timestamp.js';
import { hasActiveApproval, statusAt } from '../decisionFold.js';
import { definedFields, runIdempotent } from '../idempotency.js';
import type { ApproveInput, CommandContext, DecisionView } from '../NexusControlApi.js';
import { replayDecision } from '../replay.js';
import type { ServiceDeps } from '../ServiceDeps.js';
import { optionalString, validateActor, validateDecisionId } from '../validation.js';
import { appendToFold } from './appendToFold.js';
import { decideOnFold } from './decideOnFold.js';
import { retryOnConflict } from './retryOnConflict.js';

const APPROVABLE = new Set(['pending_approval', 'approved', 'failed']);

/** SPEC §3 Approve. Distinct actors count; an actor whose approval lapsed (revoked or expired) may approve again. */
export async function approveDecision(
  deps: ServiceDeps,
  decisionId: string,
  input: ApproveInput,
  ctx: CommandContext,
): Promise<DecisionView> {
  validateDecisionId(decisionId);
  const actor = validateActor(ctx.actor);
  const comment = optionalString(input?.comment, 'comment', FIELD_LIMITS.commentBytes);
  let expiresAt: string | null = null;
  let expiresAtMicros: number | null = null;
  if (input?.expiresAt !== undefined && input.expiresAt !== null) {
    if (typeof input.expiresAt !== 'string') throw new NexusError('INVALID_TIMESTAMP', 'expires_at must be a timestamp string');
    expiresAtMicros = parseTimestamp(input.expiresAt);
    expiresAt = formatTimestamp(expiresAtMicros);
  }

  return runIdempotent(
    deps.store,
    ctx,
    'approve',
    definedFields({ decisionId, expiresAt, comment }),
    (claim) =>
      retryOnConflict(deps.maxConflictRetries, () =>
        decideOnFold(deps, decisionId, async (fold) => {
          const now = deps.clock.now();
          const status = statusAt(fold, now);
          if (!APPROVABLE.has(status)) {
            throw new NexusError(
              'INVALID_STATE',
              `decision ${decisionId} is ${status}: approvals are accepted while pending approval, approved or failed`,
              {
                decisionId,
                status,
              },
            );
          }
          if (expiresAtMicros !== null && expiresAtMicros <= now) {
            throw new NexusError('INVALID_TIMESTAMP', `expires_at ${expiresAt} is not in the future`, { expiresAt });
          }
          if (deps.forbidSelfApproval && fold.requester.id === actor.id) {
            throw new NexusError('SELF_APPROVAL_FORBIDDEN', `${actor.id} requested decision ${decisionId} and may not approve it`, {
              decisionId,
            });
          }
          if (hasActiveApproval(fold, actor.id, now)) {
            throw new NexusError('ALREADY_APPROVED', `${actor.id} already holds an active approval on decision ${decisionId}`, {
              decisionId,
              actorId: actor.id,
            });
          }
          const payload: ApprovalGrantedPayload = { expires_at: expiresAt };
          if (comment !== undefined && comment !== '') payload.comment = comment;
          return appendToFold(deps, fold, [commandEvent('APPROVAL_GRANTED', payload, actor, formatTimestamp(now))], { claim, asOf: now });
        }),
      ),
    // The first result: the log up to the recorded event, as of that event's instant.
    async (record) => replayDecision(await deps.store.readEvents(decisionId, { toSeq: record.seq, generation: record.generation })),
  );
}
