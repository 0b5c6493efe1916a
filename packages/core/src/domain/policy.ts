import { MODES, type Mode, type PolicyAttachedPayload } from '../events/DecisionEvent.js';
import { NexusError } from '../errors/NexusError.js';
import type { JsonObject } from '../json/JsonValue.js';
import type { TemplateRecord } from '../store/EventStore.js';
import { identifierProblem } from '../text/identifier.js';
import { FIELD_LIMITS } from '../text/limits.js';
import { quote, truncateText } from '../text/quote.js';
import type { PolicyInput } from './NexusControlApi.js';

/** A complete, validated policy in its payload spelling (SPEC §1). */
export interface ResolvedPolicy {
  readonly min_approvals: number;
  readonly allowed_modes: Mode[];
  readonly require_adapter_capabilities: string[];
  readonly max_steps: number | null;
  readonly labels: string[];
}

const POLICY_FIELDS = {
  minApprovals: 'min_approvals',
  allowedModes: 'allowed_modes',
  requireAdapterCapabilities: 'require_adapter_capabilities',
  maxSteps: 'max_steps',
  labels: 'labels',
} as const satisfies Record<keyof PolicyInput, keyof ResolvedPolicy>;

function invalid(message: string, field: string): NexusError {
  return new NexusError('INVALID_POLICY', message, { field });
}

/** Labels and capabilities: lists of distinct identifiers, bounded in length. */
function checkStringList(value: unknown, field: string): string[] {
  if (!Array.isArray(value)) throw invalid(`${field} must be a list of strings`, field);
  if (value.length > FIELD_LIMITS.listEntries)
    throw invalid(`${field} may hold at most ${FIELD_LIMITS.listEntries} entries, not ${value.length}`, field);
  const seen = new Set<string>();
  for (const item of value) {
    const problem = identifierProblem(item);
    if (problem !== undefined) throw invalid(`each entry of ${field} ${problem}`, field);
    if (seen.has(item)) throw invalid(`${field} lists ${quote(item)} twice`, field);
    seen.add(item);
  }
  return [...value] as string[];
}

function show(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'object' && value !== null)
    return Array.isArray(value) ? 'a list' : typeof value.valueOf() === 'number' ? truncateText(String(value.valueOf()), 64) : 'an object';
  return truncateText(String(value), 64);
}

/** Validates each given field of a policy input; returns the fields in payload spelling. */
export function validatePolicyFields(input: PolicyInput): Partial<ResolvedPolicy> {
  if (typeof input !== 'object' || input === null) throw invalid('policy must be an object', 'policy');
  const out: { -readonly [K in keyof ResolvedPolicy]?: ResolvedPolicy[K] } = {};
  if (input.minApprovals !== undefined) {
    const n = input.minApprovals;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1 || n > FIELD_LIMITS.minApprovalsMax) {
      throw invalid(`min_approvals must be an integer from 1 to ${FIELD_LIMITS.minApprovalsMax}, not ${show(n)}`, 'min_approvals');
    }
    out.min_approvals = n;
  }
  if (input.allowedModes !== undefined) {
    const modes = input.allowedModes;
    if (!Array.isArray(modes) || modes.length === 0) throw invalid('allowed_modes must be a non-empty list', 'allowed_modes');
    const seen = new Set<string>();
    for (const mode of modes) {
      if (!MODES.includes(mode)) throw invalid(`allowed_modes may only hold dry_run and apply, not ${show(mode)}`, 'allowed_modes');
      if (seen.has(mode)) throw invalid(`allowed_modes lists '${mode}' twice`, 'allowed_modes');
      seen.add(mode);
    }
    out.allowed_modes = [...modes];
  }
  if (input.requireAdapterCapabilities !== undefined) {
    out.require_adapter_capabilities = checkStringList(input.requireAdapterCapabilities, 'require_adapter_capabilities');
  }
  if (input.maxSteps !== undefined) {
    const n = input.maxSteps;
    if (n !== null && (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1 || n > FIELD_LIMITS.maxStepsMax)) {
      throw invalid(`max_steps must be null or an integer from 1 to ${FIELD_LIMITS.maxStepsMax}, not ${show(n)}`, 'max_steps');
    }
    out.max_steps = n;
  }
  if (input.labels !== undefined) out.labels = checkStringList(input.labels, 'labels');
  return out;
}

export function defaultPolicy(requestedMode: Mode): ResolvedPolicy {
  return {
    min_approvals: 1,
    allowed_modes: requestedMode === 'dry_run' ? ['dry_run'] : ['dry_run', 'apply'],
    require_adapter_capabilities: [],
    max_steps: null,
    labels: [],
  };
}

/** The policy a template carries, from its snapshot. */
export function templatePolicy(template: TemplateRecord): ResolvedPolicy {
  const s = template.snapshot;
  return {
    min_approvals: s['min_approvals'] as number,
    allowed_modes: [...(s['allowed_modes'] as Mode[])],
    require_adapter_capabilities: [...(s['require_adapter_capabilities'] as string[])],
    max_steps: s['max_steps'] as number | null,
    labels: [...(s['labels'] as string[])],
  };
}

/**
 * The POLICY_ATTACHED payload for a request: defaults, or the template with each explicitly
 * given field overriding it (labels replace, not merge) and listed in `overrides_applied`.
 */
export function resolvePolicyPayload(
  input: PolicyInput | undefined,
  requestedMode: Mode,
  template: TemplateRecord | undefined,
): PolicyAttachedPayload {
  const given = validatePolicyFields(input ?? {});
  const base = template ? templatePolicy(template) : defaultPolicy(requestedMode);
  const policy: ResolvedPolicy = { ...base, ...given };
  const payload: PolicyAttachedPayload = {
    min_approvals: policy.min_approvals,
    allowed_modes: policy.allowed_modes,
    require_adapter_capabilities: policy.require_adapter_capabilities,
    max_steps: policy.max_steps,
    labels: policy.labels,
  };
  if (template) {
    const overrides: JsonObject = {};
    for (const field of Object.values(POLICY_FIELDS)) {
      const value = given[field];
      if (value !== undefined) overrides[field] = value;
    }
    payload.template_name = template.name;
    payload.template_snapshot = template.snapshot;
    payload.template_digest = template.digest;
    payload.overrides_applied = overrides;
  }
  return payload;
}

/** Template policies start from the broadest defaults, not from a request's mode. */
export function resolveTemplatePolicy(input: PolicyInput): ResolvedPolicy {
  return { ...defaultPolicy('apply'), ...validatePolicyFields(input) };
}
