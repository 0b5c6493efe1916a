import type { JsonObject } from '../json/JsonValue.js';

export type ActorType = 'human' | 'system';

export interface Actor {
  readonly type: ActorType;
  readonly id: string;
}

/** The actor of the events the control plane writes itself (execution start and outcome). */
export const SYSTEM_ACTOR: Actor = Object.freeze({ type: 'system', id: 'nexus-control' });

export type Mode = 'dry_run' | 'apply';
export const MODES: readonly Mode[] = ['dry_run', 'apply'];

export const DECISION_EVENT_TYPES = [
  'DECISION_CREATED',
  'POLICY_ATTACHED',
  'APPROVAL_GRANTED',
  'APPROVAL_REVOKED',
  'EXECUTION_REQUESTED',
  'EXECUTION_STARTED',
  'EXECUTION_COMPLETED',
  'EXECUTION_FAILED',
] as const;

export type DecisionEventType = (typeof DECISION_EVENT_TYPES)[number];

export interface DecisionCreatedPayload {
  goal: string;
  plan: string | null;
  requested_mode: Mode;
  labels: string[];
}

export interface PolicyAttachedPayload {
  min_approvals: number;
  allowed_modes: Mode[];
  require_adapter_capabilities: string[];
  max_steps: number | null;
  labels: string[];
  template_name?: string;
  template_snapshot?: JsonObject;
  template_digest?: string;
  overrides_applied?: JsonObject;
}

export interface ApprovalGrantedPayload {
  expires_at: string | null;
  comment?: string;
}

export interface ApprovalRevokedPayload {
  reason: string;
}

export interface ExecutionRequestedPayload {
  adapter_id: string;
  dry_run: boolean;
}

export interface ExecutionStartedPayload {
  router_request_digest: string;
}

export interface ExecutionCompletedPayload {
  run_id: string;
  response_digest: string;
  steps_executed: number;
}

export interface ExecutionFailedPayload {
  error_code: string;
  error_message: string;
  run_id: string | null;
}

export interface DecisionPayloads {
  DECISION_CREATED: DecisionCreatedPayload;
  POLICY_ATTACHED: PolicyAttachedPayload;
  APPROVAL_GRANTED: ApprovalGrantedPayload;
  APPROVAL_REVOKED: ApprovalRevokedPayload;
  EXECUTION_REQUESTED: ExecutionRequestedPayload;
  EXECUTION_STARTED: ExecutionStartedPayload;
  EXECUTION_COMPLETED: ExecutionCompletedPayload;
  EXECUTION_FAILED: ExecutionFailedPayload;
}

/**
 * An event about to be appended. `payload` is kept as the generic JSON object it is
 * stored as (imported bundles carry payloads verbatim); typed views are in `DecisionPayloads`.
 */
export interface NewEvent {
  readonly type: DecisionEventType;
  /** Timestamp string exactly as written (SPEC §4 format for events we write, opaque for imports). */
  readonly ts: string;
  readonly actor: Actor;
  readonly payload: JsonObject;
  /** Canonical JSON text of `payload`, computed once when the digest was; stores persist it as is. */
  readonly payloadJson: string;
  /** Event digest: raw lowercase hex SHA-256 of canonical `{"event_type","payload"}`. */
  readonly digest: string;
}

/** An event as the store holds it. */
export interface StoredEvent extends NewEvent {
  readonly decisionId: string;
  readonly seq: number;
  /** The generation of the log it belongs to (see `LogVersion` in the store contract). */
  readonly generation: number;
  /** Its place in the change feed: an opaque token of the store that holds it (see `Checkpoint`). */
  readonly checkpoint: string;
}

export function eventId(decisionId: string, seq: number): string {
  return `evt_${decisionId}_${seq}`;
}
