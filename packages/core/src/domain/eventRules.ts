import { MODES, SYSTEM_ACTOR, type Actor, type DecisionEventType } from '../events/DecisionEvent.js';
import { NexusError } from '../errors/NexusError.js';
import { canonicalJson } from '../json/canonicalJson.js';
import { isRawDigest } from '../json/digest.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../json/JsonValue.js';
import { checkIdentifier } from '../text/identifier.js';
import { checkFreeText, FIELD_LIMITS } from '../text/limits.js';
import { quote } from '../text/quote.js';
import { parseTimestamp } from '../time/timestamp.js';
import { EXECUTION_FAILED_BY_OPERATOR } from './executionLeases.js';
import { validatePolicyFields } from './policy.js';

/*
 * What a command may write, one rule per event type. Commands pass every event they build
 * through `checkEvent` before appending, and an import passes every event it is given
 * through the same function, so an imported log can hold nothing a command could not have
 * written (README "Field limits and hostile input", imported logs).
 */

type PayloadRule = (payload: JsonObject) => void;

function schema(message: string, field: string): NexusError {
  return new NexusError('INVALID_ARGUMENT', message, { field });
}

/** The payload has exactly the `required` keys plus any of the `optional` ones. */
function checkKeys(payload: JsonObject, type: string, required: readonly string[], optional: readonly string[] = []): void {
  for (const key of required) {
    if (!Object.hasOwn(payload, key)) throw schema(`a ${type} payload needs ${quote(key)}`, key);
  }
  for (const key of Object.keys(payload)) {
    if (!required.includes(key) && !optional.includes(key)) throw schema(`a ${type} payload has no field ${quote(key)}`, key);
  }
}

function checkMode(value: JsonValue | undefined, field: string): void {
  if (!MODES.includes(value as never)) throw new NexusError('INVALID_MODE', `${field} must be 'dry_run' or 'apply'`, { field });
}

function checkDigest(value: JsonValue | undefined, field: string): void {
  if (!isRawDigest(value)) throw schema(`${field} must be a raw lowercase hex sha256 digest`, field);
}

function checkBoundedObject(value: JsonValue | undefined, field: string): JsonObject {
  if (!isJsonObject(value)) throw schema(`${field} must be an object`, field);
  if (canonicalJson(value).length > FIELD_LIMITS.templateObjectBytes) {
    throw schema(`${field} must be at most ${FIELD_LIMITS.templateObjectBytes} bytes as canonical JSON`, field);
  }
  return value;
}

const POLICY_KEYS = ['min_approvals', 'allowed_modes', 'require_adapter_capabilities', 'max_steps', 'labels'] as const;
const TEMPLATE_KEYS = ['template_name', 'template_snapshot', 'template_digest', 'overrides_applied'] as const;

function checkPolicyPayload(p: JsonObject): void {
  const hasTemplate = TEMPLATE_KEYS.some((key) => Object.hasOwn(p, key));
  checkKeys(p, 'POLICY_ATTACHED', hasTemplate ? [...POLICY_KEYS, ...TEMPLATE_KEYS] : POLICY_KEYS);
  validatePolicyFields({
    minApprovals: p['min_approvals'] as number,
    allowedModes: p['allowed_modes'] as never,
    requireAdapterCapabilities: p['require_adapter_capabilities'] as never,
    maxSteps: p['max_steps'] as number | null,
    labels: p['labels'] as never,
  });
  if (!hasTemplate) return;
  checkIdentifier(p['template_name'], 'template_name', 'INVALID_ARGUMENT');
  checkBoundedObject(p['template_snapshot'], 'template_snapshot');
  checkDigest(p['template_digest'], 'template_digest');
  // The template fields record where the policy came from; the policy fields above are what
  // is enforced. How the digest was computed is the writer's (the reference implementation
  // may differ), so only shapes are checked here.
  const overrides = checkBoundedObject(p['overrides_applied'], 'overrides_applied');
  for (const key of Object.keys(overrides)) {
    if (!(POLICY_KEYS as readonly string[]).includes(key))
      throw schema(`overrides_applied names ${quote(key)}, which is no policy field`, 'overrides_applied');
  }
}

export const PAYLOAD_RULES: Readonly<Record<DecisionEventType, PayloadRule>> = {
  DECISION_CREATED(p) {
    checkKeys(p, 'DECISION_CREATED', ['goal', 'plan', 'requested_mode', 'labels']);
    checkGoal(p['goal']);
    if (p['plan'] !== null) checkFreeText(p['plan'], 'plan', FIELD_LIMITS.planBytes);
    checkMode(p['requested_mode'], 'requested_mode');
    validatePolicyFields({ labels: p['labels'] as never });
  },
  POLICY_ATTACHED: checkPolicyPayload,
  APPROVAL_GRANTED(p) {
    checkKeys(p, 'APPROVAL_GRANTED', ['expires_at'], ['comment']);
    const expiresAt = p['expires_at'];
    if (expiresAt !== null) {
      if (typeof expiresAt !== 'string')
        throw new NexusError('INVALID_TIMESTAMP', 'expires_at must be a timestamp or null', { field: 'expires_at' });
      parseTimestamp(expiresAt);
    }
    if (Object.hasOwn(p, 'comment')) {
      checkFreeText(p['comment'], 'comment', FIELD_LIMITS.commentBytes);
      if (p['comment'] === '') throw schema('an empty comment is omitted, not written', 'comment');
    }
  },
  APPROVAL_REVOKED(p) {
    checkKeys(p, 'APPROVAL_REVOKED', ['reason']);
    checkFreeText(p['reason'], 'reason', FIELD_LIMITS.reasonBytes);
  },
  EXECUTION_REQUESTED(p) {
    checkKeys(p, 'EXECUTION_REQUESTED', ['adapter_id', 'dry_run']);
    checkIdentifier(p['adapter_id'], 'adapter_id', 'INVALID_ARGUMENT');
    if (typeof p['dry_run'] !== 'boolean') throw schema('dry_run must be true or false', 'dry_run');
  },
  EXECUTION_STARTED(p) {
    checkKeys(p, 'EXECUTION_STARTED', ['router_request_digest']);
    checkDigest(p['router_request_digest'], 'router_request_digest');
  },
  EXECUTION_COMPLETED(p) {
    checkKeys(p, 'EXECUTION_COMPLETED', ['run_id', 'response_digest', 'steps_executed']);
    checkIdentifier(p['run_id'], 'run_id', 'INVALID_ARGUMENT');
    checkDigest(p['response_digest'], 'response_digest');
    const steps = p['steps_executed'];
    if (typeof steps !== 'number' || !Number.isSafeInteger(steps) || steps < 0)
      throw schema('steps_executed must be an integer of at least 0', 'steps_executed');
  },
  EXECUTION_FAILED(p) {
    checkKeys(p, 'EXECUTION_FAILED', ['error_code', 'error_message', 'run_id']);
    checkIdentifier(p['error_code'], 'error_code', 'INVALID_ARGUMENT');
    checkFreeText(p['error_message'], 'error_message', FIELD_LIMITS.errorMessageBytes);
    if (p['run_id'] !== null) checkIdentifier(p['run_id'], 'run_id', 'INVALID_ARGUMENT');
  },
};

/** The goal of a request: non-blank free text within its limit. */
export function checkGoal(goal: unknown): string {
  if (typeof goal !== 'string' || goal.trim() === '')
    throw new NexusError('INVALID_GOAL', 'goal must be a non-empty string', { field: 'goal' });
  return checkFreeText(goal, 'goal', FIELD_LIMITS.goalBytes, 'INVALID_GOAL');
}

/** Who may write each event type: the control plane writes the execution's start and outcome. */
const WRITTEN_BY_SYSTEM = new Set<DecisionEventType>(['EXECUTION_STARTED', 'EXECUTION_COMPLETED', 'EXECUTION_FAILED']);

/**
 * The one outcome a person writes: an operator failing a stuck run by hand records it under
 * their own name, with this error code (README "Operations: runs that outlive their server").
 */
function operatorFailure(type: string, actor: Actor, payload: unknown): boolean {
  return (
    type === 'EXECUTION_FAILED' &&
    actor.type === 'human' &&
    isJsonObject(payload as JsonValue) &&
    (payload as JsonObject)['error_code'] === EXECUTION_FAILED_BY_OPERATOR
  );
}

/** An actor `{type: human|system, id}` whose id is an identifier. */
export function checkActor(actor: unknown): Actor {
  if (!isJsonObject(actor as JsonValue)) throw new NexusError('INVALID_ACTOR', 'an actor {type, id} is required');
  const a = actor as { type?: unknown; id?: unknown };
  if (a.type !== 'human' && a.type !== 'system') {
    throw new NexusError(
      'INVALID_ACTOR',
      `actor type must be 'human' or 'system', not ${typeof a.type === 'string' ? quote(a.type) : String(a.type)}`,
    );
  }
  checkIdentifier(a.id, 'actor id', 'INVALID_ACTOR');
  return { type: a.type, id: a.id as string };
}

export interface CheckableEvent {
  readonly type: string;
  readonly ts: string;
  readonly actor: unknown;
  readonly payload: unknown;
}

/** Throws the first reason a command could not have written this event (ignoring the log around it). */
export function checkEvent(event: CheckableEvent): void {
  const rule = PAYLOAD_RULES[event.type as DecisionEventType] as PayloadRule | undefined;
  if (rule === undefined) throw schema(`unknown event type ${quote(String(event.type))}`, 'type');
  if (typeof event.ts !== 'string') throw new NexusError('INVALID_TIMESTAMP', 'ts must be a timestamp', { field: 'ts' });
  parseTimestamp(event.ts);
  const actor = checkActor(event.actor);
  if (
    WRITTEN_BY_SYSTEM.has(event.type as DecisionEventType) &&
    (actor.type !== SYSTEM_ACTOR.type || actor.id !== SYSTEM_ACTOR.id) &&
    !operatorFailure(event.type, actor, event.payload)
  ) {
    throw new NexusError('INVALID_ACTOR', `${event.type} is written by the control plane itself (${SYSTEM_ACTOR.type}/${SYSTEM_ACTOR.id})`);
  }
  if (!isJsonObject(event.payload as JsonValue)) throw schema('payload must be an object', 'payload');
  rule(event.payload as JsonObject);
}
