// Proto messages → JSON output with the SPEC's names and values (snake_case keys,
// "dry_run", "pending_approval", "DECISION_CREATED", timestamps as the control plane
// writes them). Embedded JSON documents are passed through verbatim.
import {
  actorTypeNames,
  decisionStatusNames,
  eventTypeNames,
  executionStatusNames,
  modeNames,
  textFromTimestamp,
  type Actor,
  type Approval,
  type Decision,
  type DecisionSummary,
  type Event,
  type Execution,
  type Lifecycle,
  type Mode,
  type Policy,
  type Template,
  type Timestamp,
} from '@nexus-control/client';
import { RawJson, type OutputJson } from './jsonOutput.js';

type JsonObjectOut = { readonly [key: string]: OutputJson | undefined };

export function timestampText(timestamp: Timestamp | undefined): string | null {
  return timestamp === undefined ? null : textFromTimestamp(timestamp);
}

export function modeText(mode: Mode): string {
  return modeNames.toSpec(mode) ?? 'unspecified';
}

export function statusText(status: number): string {
  return decisionStatusNames.toSpec(status) ?? 'unspecified';
}

export function eventTypeText(type: number): string {
  return eventTypeNames.toSpec(type) ?? 'UNSPECIFIED';
}

export function actorJson(actor: Actor | undefined): JsonObjectOut | null {
  return actor === undefined ? null : { type: actorTypeNames.toSpec(actor.type) ?? 'unspecified', id: actor.id };
}

export function policyJson(policy: Policy | undefined): JsonObjectOut | null {
  if (policy === undefined) return null;
  return {
    min_approvals: policy.minApprovals,
    allowed_modes: policy.allowedModes.map(modeText),
    require_adapter_capabilities: policy.requireAdapterCapabilities,
    max_steps: policy.maxSteps ?? null,
    labels: policy.labels,
    template: policy.template
      ? {
          name: policy.template.name,
          digest: policy.template.digest,
          snapshot: new RawJson(policy.template.snapshotJson),
          overrides_applied: new RawJson(policy.template.overridesAppliedJson),
        }
      : undefined,
  };
}

function approvalJson(approval: Approval): JsonObjectOut {
  return {
    actor: actorJson(approval.actor),
    granted_at: timestampText(approval.grantedAt),
    expires_at: timestampText(approval.expiresAt),
    comment: approval.comment,
    revoked_at: approval.revokedAt === undefined ? undefined : timestampText(approval.revokedAt),
    revoked_reason: approval.revokedReason,
    active: approval.active,
    expired: approval.expired,
  };
}

export function executionJson(execution: Execution): JsonObjectOut {
  const nonEmpty = (text: string) => (text === '' ? undefined : text);
  return {
    requested_seq: execution.requestedSeq,
    actor: actorJson(execution.actor),
    adapter_id: execution.adapterId,
    dry_run: execution.dryRun,
    status: executionStatusNames.toSpec(execution.status) ?? 'unspecified',
    requested_at: timestampText(execution.requestedAt),
    started_at: execution.startedAt === undefined ? undefined : timestampText(execution.startedAt),
    router_request_digest: nonEmpty(execution.routerRequestDigest),
    completed_at: execution.completedAt === undefined ? undefined : timestampText(execution.completedAt),
    run_id: execution.runId,
    response_digest: nonEmpty(execution.responseDigest),
    steps_executed: execution.stepsExecuted,
    error_code: nonEmpty(execution.errorCode),
    error_message: nonEmpty(execution.errorMessage),
  };
}

export function decisionJson(decision: Decision): JsonObjectOut {
  return {
    decision_id: decision.decisionId,
    status: statusText(decision.status),
    goal: decision.goal,
    plan: decision.plan ?? null,
    requested_mode: modeText(decision.requestedMode),
    labels: decision.labels,
    requester: actorJson(decision.requester),
    created_at: timestampText(decision.createdAt),
    updated_at: timestampText(decision.updatedAt),
    policy: policyJson(decision.policy),
    approvals: decision.approvals.map(approvalJson),
    active_approvals: decision.activeApprovals,
    executions: decision.executions.map(executionJson),
    event_count: decision.eventCount,
    as_of: timestampText(decision.asOf),
  };
}

export function lifecycleJson(lifecycle: Lifecycle): JsonObjectOut {
  return {
    blocking_reasons: lifecycle.blockingReasons.map((reason) => ({ code: reason.code, message: reason.message })),
    progress: lifecycle.progress
      ? {
          active_approvals: lifecycle.progress.activeApprovals,
          required_approvals: lifecycle.progress.requiredApprovals,
          fraction: lifecycle.progress.fraction,
        }
      : null,
    timeline: lifecycle.timeline.map((entry) => ({
      seq: entry.seq,
      ts: timestampText(entry.ts),
      type: eventTypeText(entry.type),
      actor: actorJson(entry.actor),
      summary: entry.summary,
    })),
  };
}

export function summaryJson(summary: DecisionSummary): JsonObjectOut {
  return {
    decision_id: summary.decisionId,
    status: statusText(summary.status),
    goal: summary.goal,
    requested_mode: modeText(summary.requestedMode),
    labels: summary.labels,
    created_at: timestampText(summary.createdAt),
    updated_at: timestampText(summary.updatedAt),
    event_count: summary.eventCount,
    generation: summary.generation,
  };
}

export function eventJson(event: Event): JsonObjectOut {
  return {
    checkpoint: event.checkpoint,
    event_id: event.eventId,
    decision_id: event.decisionId,
    generation: event.generation,
    seq: event.seq,
    type: eventTypeText(event.type),
    ts: event.recordedTs,
    actor: actorJson(event.actor),
    payload: new RawJson(event.payloadJson),
    digest: event.digest,
  };
}

export function templateJson(template: Template): JsonObjectOut {
  return {
    name: template.name,
    description: template.description,
    policy: policyJson(template.policy),
    snapshot: new RawJson(template.snapshotJson),
    digest: template.digest,
    created_at: timestampText(template.createdAt),
    created_by: actorJson(template.createdBy),
  };
}
