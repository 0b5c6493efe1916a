import { NexusError, isNexusError } from '../../errors/NexusError.js';
import { digestOf } from '../../json/digest.js';
import type { JsonObject } from '../../json/JsonValue.js';
import type { TemplateRecord } from '../../store/EventStore.js';
import { FIELD_LIMITS } from '../../text/limits.js';
import { formatTimestamp } from '../../time/timestamp.js';
import type { CommandContext, TemplateInput } from '../NexusControlApi.js';
import { resolveTemplatePolicy } from '../policy.js';
import type { ServiceDeps } from '../ServiceDeps.js';
import { optionalString, validateActor, validateName } from '../validation.js';

/**
 * Templates are immutable and named. Their snapshot (name, description, full policy) is what
 * POLICY_ATTACHED copies and digests. Repeating a creation with an idempotency key returns the
 * existing template when it is the same one.
 */
export async function createTemplate(deps: ServiceDeps, input: TemplateInput, ctx: CommandContext): Promise<TemplateRecord> {
  const actor = validateActor(ctx.actor);
  if (typeof input !== 'object' || input === null) throw new NexusError('INVALID_ARGUMENT', 'a template needs a name and a policy');
  const name = validateName(input.name, 'template name');
  const description = optionalString(input.description, 'description', FIELD_LIMITS.descriptionBytes) ?? '';
  const policy = resolveTemplatePolicy(input.policy ?? {});
  const snapshot: JsonObject = { name, description, ...policy };
  const record: TemplateRecord = {
    name,
    snapshot,
    digest: digestOf(snapshot),
    createdAt: formatTimestamp(deps.clock.now()),
    createdBy: actor,
  };
  try {
    await deps.store.createTemplate(record);
    return record;
  } catch (error) {
    if (isNexusError(error) && error.code === 'TEMPLATE_EXISTS' && ctx.idempotencyKey) {
      const existing = await deps.store.getTemplate(name);
      if (existing && existing.digest === record.digest && existing.createdBy.id === actor.id) return existing;
    }
    throw error;
  }
}
