// Proto messages ↔ domain values. Validation of meaning stays in the domain; this only
// rejects what cannot be translated at all (unknown enum values, impossible timestamps).
import {
  ActorType,
  Mode,
  actorTypeNames,
  decisionStatusNames,
  eventTypeNames,
  executionStatusNames,
  modeNames,
  textFromTimestamp,
  timestampFromText,
  type Actor as ProtoActor,
  type Approval,
  type Decision,
  type DecisionSummary as ProtoDecisionSummary,
  type Event,
  type Execution,
  type Lifecycle as ProtoLifecycle,
  type Policy as ProtoPolicy,
  type PointInTime as ProtoPointInTime,
  type PolicyInput as ProtoPolicyInput,
  type Template,
  type Timestamp,
} from '@nexus-control/client';
import {
  NexusError,
  canonicalJson,
  eventId,
  isJsonObject,
  readCanonicalTimestamp,
  type Actor,
  type ApprovalView,
  type DecisionStatus,
  type DecisionSummary,
  type DecisionView,
  type ExecutionView,
  type JsonObject,
  type Lifecycle,
  type Mode as DomainMode,
  type PointInTime,
  type Policy,
  type PolicyInput,
  type StoredEvent,
  type TemplateRecord,
} from '@nexus-control/core';

// ---- timestamps ----

/** A recorded timestamp text as a Timestamp; undefined when absent or not an instant. */
export function timestampOut(text: string | null | undefined): Timestamp | undefined {
  if (!text) return undefined;
  // Nearly every instant is one the control plane wrote itself, in its one canonical shape,
  // read without a regex or a Date; any other text (an imported log's) takes the general reader.
  const canonical = readCanonicalTimestamp(text);
  return canonical === undefined ? timestampFromText(text) : { seconds: String(canonical.seconds), nanos: canonical.micros * 1000 };
}

/** A Timestamp from a request as the control plane's timestamp text (microseconds). */
export function timestampIn(timestamp: Timestamp, field: string): string {
  try {
    return textFromTimestamp(timestamp);
  } catch (error) {
    throw new NexusError('INVALID_TIMESTAMP', `${field}: ${(error as Error).message}`, { field });
  }
}

// ---- enums ----

export function modeIn(mode: Mode, field: string): DomainMode | undefined {
  if (mode === Mode.MODE_UNSPECIFIED) return undefined;
  const name = modeNames.toSpec(mode);
  if (name === undefined) throw new NexusError('INVALID_MODE', `${field}: unknown mode ${mode}`, { field });
  return name;
}

export function modeOut(mode: DomainMode): Mode {
  return modeNames.fromSpec(mode) ?? Mode.UNRECOGNIZED;
}

export function statusOut(status: DecisionStatus) {
  return decisionStatusNames.fromSpec(status) ?? -1;
}

// ---- actors ----

export function actorOut(actor: Actor): ProtoActor {
  return { type: actorTypeNames.fromSpec(actor.type) ?? ActorType.UNRECOGNIZED, id: actor.id };
}

/** The actor a request asserts (optional); undefined when the field is unset or empty. */
export function assertedActor(actor: ProtoActor | undefined): { type?: Actor['type']; id: string } | undefined {
  if (!actor || (actor.id === '' && actor.type === ActorType.ACTOR_TYPE_UNSPECIFIED)) return undefined;
  const type = actorTypeNames.toSpec(actor.type);
  return { ...(type === undefined ? {} : { type }), id: actor.id };
}

// ---- policy ----

export function policyInputIn(input: ProtoPolicyInput | undefined): PolicyInput | undefined {
  if (!input) return undefined;
  const out: { -readonly [K in keyof PolicyInput]: PolicyInput[K] } = {};
  if (input.minApprovals !== undefined) out.minApprovals = input.minApprovals;
  if (input.allowedModes) {
    out.allowedModes = input.allowedModes.values.map((mode, i) => {
      const name = modeIn(mode, `policy.allowed_modes[${i}]`);
      if (name === undefined)
        throw new NexusError('INVALID_POLICY', `policy.allowed_modes[${i}] is unspecified`, { field: 'allowed_modes' });
      return name;
    });
  }
  if (input.requireAdapterCapabilities) out.requireAdapterCapabilities = [...input.requireAdapterCapabilities.values];
  if (input.maxSteps !== undefined) out.maxSteps = input.maxSteps;
  else if (input.noMaxSteps !== undefined) out.maxSteps = null;
  if (input.labels) out.labels = [...input.labels.values];
  return out;
}

export function policyOut(policy: Policy): ProtoPolicy {
  return {
    minApprovals: policy.minApprovals,
    allowedModes: policy.allowedModes.map(modeOut),
    requireAdapterCapabilities: [...policy.requireAdapterCapabilities],
    ...(policy.maxSteps === null ? {} : { maxSteps: policy.maxSteps }),
    labels: [...policy.labels],
    template: policy.template
      ? {
          name: policy.template.name,
          digest: policy.template.digest,
          snapshotJson: canonicalJson(policy.template.snapshot),
          overridesAppliedJson: canonicalJson(policy.template.overridesApplied),
        }
      : undefined,
  };
}

// ---- decisions ----

function approvalOut(approval: ApprovalView): Approval {
  return {
    actor: actorOut(approval.actor),
    grantedAt: timestampOut(approval.grantedAt),
    expiresAt: timestampOut(approval.expiresAt),
    ...(approval.comment === undefined ? {} : { comment: approval.comment }),
    revokedAt: timestampOut(approval.revokedAt),
    ...(approval.revokedAt === undefined ? {} : { revokedReason: approval.revokedReason ?? '' }),
    active: approval.active,
    expired: approval.expired,
  };
}

function executionOut(execution: ExecutionView): Execution {
  return {
    requestedSeq: execution.requestedSeq,
    actor: actorOut(execution.actor),
    adapterId: execution.adapterId,
    dryRun: execution.dryRun,
    requestedAt: timestampOut(execution.requestedAt),
    status: executionStatusNames.fromSpec(execution.status) ?? -1,
    startedAt: timestampOut(execution.startedAt),
    routerRequestDigest: execution.routerRequestDigest ?? '',
    completedAt: timestampOut(execution.completedAt),
    ...(execution.runId === undefined || execution.runId === null ? {} : { runId: execution.runId }),
    responseDigest: execution.responseDigest ?? '',
    ...(execution.stepsExecuted === undefined ? {} : { stepsExecuted: execution.stepsExecuted }),
    errorCode: execution.errorCode ?? '',
    errorMessage: execution.errorMessage ?? '',
  };
}

export function decisionOut(view: DecisionView): Decision {
  return {
    decisionId: view.decisionId,
    createdAt: timestampOut(view.createdAt),
    updatedAt: timestampOut(view.updatedAt),
    requester: actorOut(view.requester),
    goal: view.goal,
    ...(view.plan === null ? {} : { plan: view.plan }),
    requestedMode: modeOut(view.requestedMode),
    labels: [...view.labels],
    status: statusOut(view.status),
    policy: view.policy ? policyOut(view.policy) : undefined,
    approvals: view.approvals.map(approvalOut),
    activeApprovals: view.activeApprovals,
    executions: view.executions.map(executionOut),
    eventCount: view.eventCount,
    asOf: timestampOut(view.asOf),
  };
}

export function summaryOut(summary: DecisionSummary): ProtoDecisionSummary {
  return {
    decisionId: summary.decisionId,
    createdAt: timestampOut(summary.createdAt),
    updatedAt: timestampOut(summary.updatedAt),
    goal: summary.goal,
    requestedMode: modeOut(summary.requestedMode),
    labels: [...summary.labels],
    status: statusOut(summary.status),
    eventCount: summary.eventCount,
    generation: summary.generation,
  };
}

export function eventOut(event: StoredEvent): Event {
  return {
    eventId: eventId(event.decisionId, event.seq),
    decisionId: event.decisionId,
    seq: event.seq,
    type: eventTypeNames.fromSpec(event.type) ?? -1,
    ts: timestampOut(event.ts),
    recordedTs: event.ts,
    actor: actorOut(event.actor),
    payloadJson: event.payloadJson,
    digest: event.digest,
    checkpoint: event.checkpoint,
    generation: event.generation,
  };
}

export function lifecycleOut(lifecycle: Lifecycle): ProtoLifecycle {
  return {
    blockingReasons: lifecycle.blockingReasons.map((reason) => ({ code: reason.code, message: reason.message })),
    progress: { ...lifecycle.progress },
    timeline: lifecycle.timeline.map((entry) => ({
      seq: entry.seq,
      ts: timestampOut(entry.ts),
      type: eventTypeNames.fromSpec(entry.type) ?? -1,
      actor: actorOut(entry.actor),
      summary: entry.summary,
    })),
  };
}

export function pointInTimeIn(at: ProtoPointInTime | undefined): PointInTime {
  if (!at) return {};
  if (at.atSeq !== undefined) return { atSeq: at.atSeq };
  if (at.asOf !== undefined) return { asOf: timestampIn(at.asOf, 'at.as_of') };
  return {};
}

// ---- templates ----

function listOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

export function templateOut(template: TemplateRecord): Template {
  const s: JsonObject = template.snapshot;
  const maxSteps = s['max_steps'];
  const description = s['description'];
  return {
    name: template.name,
    description: typeof description === 'string' ? description : '',
    policy: {
      minApprovals: typeof s['min_approvals'] === 'number' ? s['min_approvals'] : 0,
      allowedModes: listOf(s['allowed_modes']).map((mode) => modeOut(mode as DomainMode)),
      requireAdapterCapabilities: listOf(s['require_adapter_capabilities']),
      ...(typeof maxSteps === 'number' ? { maxSteps } : {}),
      labels: listOf(s['labels']),
      template: undefined,
    },
    snapshotJson: canonicalJson(template.snapshot),
    digest: template.digest,
    createdAt: timestampOut(template.createdAt),
    createdBy: actorOut(template.createdBy),
  };
}

/** Labels a template's policy carries (for the list filter). */
export function templateLabels(template: TemplateRecord): string[] {
  return isJsonObject(template.snapshot) ? listOf(template.snapshot['labels']) : [];
}
