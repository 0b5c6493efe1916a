import { RouterMode } from './gen/nexus/control/v1/audit.js';
import { ConflictMode } from './gen/nexus/control/v1/bundles.js';
import { ActorType, DecisionStatus, EventType, ExecutionStatus, Mode } from './gen/nexus/control/v1/types.js';

// Proto enum values ↔ the SPEC's string values ("dry_run", "pending_approval",
// "DECISION_CREATED", …). The proto names are the SPEC names with the enum's prefix.

function codec<E extends number, S extends string>(pairs: ReadonlyArray<readonly [E, S]>) {
  const toSpec = new Map<number, S>(pairs);
  const fromSpec = new Map<string, E>(pairs.map(([e, s]) => [s, e]));
  return {
    /** undefined for UNSPECIFIED and unknown values. */
    toSpec: (value: E | number): S | undefined => toSpec.get(value),
    /** undefined for strings that name no value. */
    fromSpec: (value: string): E | undefined => fromSpec.get(value),
  };
}

export const modeNames = codec([
  [Mode.MODE_DRY_RUN, 'dry_run'],
  [Mode.MODE_APPLY, 'apply'],
] as const);

export const actorTypeNames = codec([
  [ActorType.ACTOR_TYPE_HUMAN, 'human'],
  [ActorType.ACTOR_TYPE_SYSTEM, 'system'],
] as const);

export const decisionStatusNames = codec([
  [DecisionStatus.DECISION_STATUS_DRAFT, 'draft'],
  [DecisionStatus.DECISION_STATUS_PENDING_APPROVAL, 'pending_approval'],
  [DecisionStatus.DECISION_STATUS_APPROVED, 'approved'],
  [DecisionStatus.DECISION_STATUS_EXECUTING, 'executing'],
  [DecisionStatus.DECISION_STATUS_COMPLETED, 'completed'],
  [DecisionStatus.DECISION_STATUS_FAILED, 'failed'],
] as const);

export const eventTypeNames = codec([
  [EventType.EVENT_TYPE_DECISION_CREATED, 'DECISION_CREATED'],
  [EventType.EVENT_TYPE_POLICY_ATTACHED, 'POLICY_ATTACHED'],
  [EventType.EVENT_TYPE_APPROVAL_GRANTED, 'APPROVAL_GRANTED'],
  [EventType.EVENT_TYPE_APPROVAL_REVOKED, 'APPROVAL_REVOKED'],
  [EventType.EVENT_TYPE_EXECUTION_REQUESTED, 'EXECUTION_REQUESTED'],
  [EventType.EVENT_TYPE_EXECUTION_STARTED, 'EXECUTION_STARTED'],
  [EventType.EVENT_TYPE_EXECUTION_COMPLETED, 'EXECUTION_COMPLETED'],
  [EventType.EVENT_TYPE_EXECUTION_FAILED, 'EXECUTION_FAILED'],
] as const);

export const executionStatusNames = codec([
  [ExecutionStatus.EXECUTION_STATUS_REQUESTED, 'requested'],
  [ExecutionStatus.EXECUTION_STATUS_RUNNING, 'running'],
  [ExecutionStatus.EXECUTION_STATUS_COMPLETED, 'completed'],
  [ExecutionStatus.EXECUTION_STATUS_FAILED, 'failed'],
] as const);

export const conflictModeNames = codec([
  [ConflictMode.CONFLICT_MODE_REJECT_ON_CONFLICT, 'reject_on_conflict'],
  [ConflictMode.CONFLICT_MODE_NEW_DECISION_ID, 'new_decision_id'],
  [ConflictMode.CONFLICT_MODE_OVERWRITE, 'overwrite'],
] as const);

export const routerModeNames = codec([
  [RouterMode.ROUTER_MODE_REFERENCE, 'reference'],
  [RouterMode.ROUTER_MODE_EMBEDDED, 'embedded'],
] as const);
