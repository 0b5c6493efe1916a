import { NEW_DECISION } from '../../store/expectedVersion.js';
import { commandEvent } from './commandEvent.js';
import { NexusError } from '../../errors/NexusError.js';
import type { DecisionCreatedPayload } from '../../events/DecisionEvent.js';
import { checkFreeText, FIELD_LIMITS } from '../../text/limits.js';
import { formatTimestamp } from '../../time/timestamp.js';
import { checkGoal } from '../eventRules.js';
import { applyEvent, emptyFold, statusAt, viewOf } from '../decisionFold.js';
import { definedFields, runIdempotent } from '../idempotency.js';
import type { CommandContext, DecisionView, RequestInput } from '../NexusControlApi.js';
import { resolvePolicyPayload } from '../policy.js';
import { replayDecision } from '../replay.js';
import type { ServiceDeps } from '../ServiceDeps.js';
import { validateActor, validateMode, validateName } from '../validation.js';

/** SPEC §3 Request: validates everything, then writes DECISION_CREATED + POLICY_ATTACHED in one append. */
export async function requestDecision(deps: ServiceDeps, input: RequestInput, ctx: CommandContext): Promise<DecisionView> {
  const actor = validateActor(ctx.actor);
  if (typeof input !== 'object' || input === null) throw new NexusError('INVALID_ARGUMENT', 'a request needs a goal');
  checkGoal(input.goal);
  if (input.plan !== undefined && input.plan !== null) checkFreeText(input.plan, 'plan', FIELD_LIMITS.planBytes);
  const mode = validateMode(input.mode ?? 'dry_run');
  const templateName = input.templateName === undefined ? undefined : validateName(input.templateName, 'template name');
  const template = templateName === undefined ? undefined : await deps.store.getTemplate(templateName);
  if (templateName !== undefined && !template) {
    throw new NexusError('TEMPLATE_NOT_FOUND', `template '${templateName}' does not exist`, { templateName });
  }
  const policy = resolvePolicyPayload(input.policy, mode, template);
  if (!policy.allowed_modes.includes(mode)) {
    throw new NexusError(
      'MODE_NOT_ALLOWED',
      `the requested mode '${mode}' is not in the policy's allowed modes (${policy.allowed_modes.join(', ')})`,
      {
        mode,
        allowedModes: policy.allowed_modes,
      },
    );
  }

  const args = definedFields({
    goal: input.goal,
    plan: input.plan ?? null,
    mode,
    template: templateName,
    policy: definedFields({ ...input.policy }),
  });
  return runIdempotent(
    deps.store,
    ctx,
    'request',
    args,
    async (claim) => {
      const decisionId = deps.newDecisionId();
      const now = deps.clock.now();
      const ts = formatTimestamp(now);
      const created: DecisionCreatedPayload = { goal: input.goal, plan: input.plan ?? null, requested_mode: mode, labels: policy.labels };
      const events = [commandEvent('DECISION_CREATED', created, actor, ts), commandEvent('POLICY_ATTACHED', policy, actor, ts)];
      const fold = emptyFold(decisionId);
      for (const [seq, e] of events.entries()) applyEvent(fold, { ...e, seq });
      // As of its own instant, so a repeat replaying these events answers the same.
      const asOf = now;
      await deps.store.append({
        decisionId,
        expectedVersion: NEW_DECISION,
        events,
        header: { decisionId, createdAt: ts, goal: input.goal, requestedMode: mode, labels: policy.labels },
        status: statusAt(fold, asOf),
        ...(claim ? { idempotency: claim } : {}),
      });
      // The fold of exactly the events the store accepted: the next command decides on it without a read.
      deps.cache.remember(fold);
      return viewOf(fold, asOf);
    },
    async (record) =>
      replayDecision(await deps.store.readEvents(record.decisionId, { toSeq: record.seq + 1, generation: record.generation })),
  );
}
