import {
  MODES,
  type Actor,
  type ApprovalGrantedPayload,
  type ApprovalRevokedPayload,
  type DecisionCreatedPayload,
  type ExecutionCompletedPayload,
  type ExecutionFailedPayload,
  type ExecutionRequestedPayload,
  type ExecutionStartedPayload,
  type Mode,
  type PolicyAttachedPayload,
} from '../events/DecisionEvent.js';
import { NexusError } from '../errors/NexusError.js';
import type { JsonObject } from '../json/JsonValue.js';
import type { DecisionStatus } from '../store/EventStore.js';
import { formatTimestamp, parseTimestamp } from '../time/timestamp.js';
import type { ApprovalView, DecisionView, ExecutionOutcomeStatus, ExecutionView, Policy } from './NexusControlApi.js';

/** The minimum an event needs for replay: stored events and bundle events both qualify. */
export interface ReplayableEvent {
  readonly decisionId?: string;
  readonly seq: number;
  readonly type: string;
  readonly ts: string;
  readonly actor: Actor;
  readonly payload: JsonObject;
  /** The generation of the log it belongs to, when it came from a store (0 when absent). */
  readonly generation?: number;
}

/** Every field is present from the start (one object shape for all records). */
interface ApprovalRecord {
  actor: Actor;
  grantedAt: string;
  expiresAt: string | null;
  /** Parsed once when granted, so evaluating expiry never re-parses. */
  expiresAtMicros: number | null;
  comment: string | undefined;
  revokedAt: string | undefined;
  revokedReason: string | undefined;
}

interface ExecutionRecord {
  requestedSeq: number;
  actor: Actor;
  adapterId: string;
  dryRun: boolean;
  requestedAt: string;
  status: ExecutionOutcomeStatus;
  startedAt?: string;
  routerRequestDigest?: string;
  completedAt?: string;
  runId?: string | null;
  responseDigest?: string;
  stepsExecuted?: number;
  errorCode?: string;
  errorMessage?: string;
}

/** Lifecycle before the approval count is evaluated: `gathering` is pending_approval-or-approved. */
type Phase = 'draft' | 'gathering' | 'executing' | 'completed' | 'failed';

/**
 * The mutable accumulator of a replay. Applying an event is O(1) (amortized); the whole
 * state is never copied during the fold, only when a view is taken.
 */
export interface DecisionFold {
  decisionId: string;
  createdAt: string;
  updatedAt: string;
  requester: Actor;
  goal: string;
  plan: string | null;
  requestedMode: Mode;
  labels: string[];
  phase: Phase;
  policy: Policy | null;
  approvals: Map<string, ApprovalRecord>;
  executions: ExecutionRecord[];
  /** Which log the fold replays: appends name it, so an append decided on a replaced log fails. */
  generation: number;
  /** The seq the next event must have. */
  eventCount: number;
  /** ts of the last applied event. */
  lastTs: string;
}

function replayError(seq: number, message: string): NexusError {
  return new NexusError('REPLAY_INVALID', `event ${seq}: ${message}`, { seq });
}

/**
 * The request and its policy are what every later decision rests on (who may execute, with
 * how many approvals), so a log whose request or policy has values of the wrong kind (say,
 * stored by a release that did not check imports) fails to replay rather than being acted
 * on. Only kinds and ranges that make sense are checked, not today's size limits, so
 * decisions written under older limits stay readable. Once per log: replay stays as fast.
 */
function checkPayload(seq: number, type: 'DECISION_CREATED' | 'POLICY_ATTACHED', p: JsonObject): void {
  const problem = type === 'DECISION_CREATED' ? requestProblem(p) : policyProblem(p);
  if (problem !== undefined) throw replayError(seq, `${type} could not have been written by a command: ${problem}`);
}

const isStringList = (value: unknown): boolean => Array.isArray(value) && value.every((item) => typeof item === 'string');
const isCount = (value: unknown): boolean => typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;

function requestProblem(p: JsonObject): string | undefined {
  if (typeof p['goal'] !== 'string') return 'goal is not a string';
  if (p['plan'] !== null && p['plan'] !== undefined && typeof p['plan'] !== 'string') return 'plan is not a string';
  if (!MODES.includes(p['requested_mode'] as Mode)) return 'requested_mode is not dry_run or apply';
  if (p['labels'] !== undefined && !isStringList(p['labels'])) return 'labels is not a list of strings';
  return undefined;
}

function policyProblem(p: JsonObject): string | undefined {
  if (!isCount(p['min_approvals'])) return 'min_approvals is not an integer of at least 1';
  const modes = p['allowed_modes'];
  if (!Array.isArray(modes) || modes.length === 0 || !modes.every((mode) => MODES.includes(mode as Mode)))
    return 'allowed_modes is not a non-empty list of modes';
  for (const key of ['require_adapter_capabilities', 'labels']) {
    if (p[key] !== undefined && !isStringList(p[key])) return `${key} is not a list of strings`;
  }
  if (p['max_steps'] !== null && p['max_steps'] !== undefined && !isCount(p['max_steps']))
    return 'max_steps is not null or an integer of at least 1';
  return undefined;
}

export function emptyFold(decisionId: string): DecisionFold {
  return {
    decisionId,
    createdAt: '',
    updatedAt: '',
    requester: { type: 'human', id: '' },
    goal: '',
    plan: null,
    requestedMode: 'dry_run',
    labels: [],
    phase: 'draft',
    policy: null,
    approvals: new Map(),
    executions: [],
    generation: 0,
    eventCount: 0,
    lastTs: '',
  };
}

function latestExecution(fold: DecisionFold, seq: number, type: string): ExecutionRecord {
  const execution = fold.executions[fold.executions.length - 1];
  if (!execution) throw replayError(seq, `${type} without a preceding EXECUTION_REQUESTED`);
  return execution;
}

/**
 * Applies one event. Events already applied (seq below `eventCount`) are skipped, so
 * concurrent refreshes of a shared fold cannot apply an event twice; a gap is an error.
 */
export function applyEvent(fold: DecisionFold, event: ReplayableEvent): void {
  const { seq, type, ts, actor } = event;
  if (seq < fold.eventCount) return;
  if (seq !== fold.eventCount) throw replayError(seq, `expected seq ${fold.eventCount} (the log has a gap)`);
  if (seq === 0 && type !== 'DECISION_CREATED') throw replayError(seq, 'the first event must be DECISION_CREATED');
  const p = event.payload;
  switch (type) {
    case 'DECISION_CREATED': {
      if (seq !== 0) throw replayError(seq, 'DECISION_CREATED may only be the first event');
      checkPayload(seq, type, p);
      const created = p as unknown as DecisionCreatedPayload;
      fold.createdAt = ts;
      fold.requester = actor;
      fold.goal = created.goal;
      fold.plan = created.plan ?? null;
      fold.requestedMode = created.requested_mode;
      fold.labels = Array.isArray(created.labels) ? created.labels : [];
      fold.phase = 'draft';
      break;
    }
    case 'POLICY_ATTACHED': {
      checkPayload(seq, type, p);
      const policy = p as unknown as PolicyAttachedPayload;
      fold.policy = {
        minApprovals: policy.min_approvals,
        allowedModes: policy.allowed_modes,
        requireAdapterCapabilities: policy.require_adapter_capabilities ?? [],
        maxSteps: policy.max_steps ?? null,
        labels: policy.labels ?? [],
        ...(policy.template_name === undefined
          ? {}
          : {
              template: {
                name: policy.template_name,
                digest: policy.template_digest ?? '',
                snapshot: policy.template_snapshot ?? {},
                overridesApplied: policy.overrides_applied ?? {},
              },
            }),
      };
      fold.phase = 'gathering';
      break;
    }
    case 'APPROVAL_GRANTED': {
      const granted = p as unknown as ApprovalGrantedPayload;
      const expiresAt = granted.expires_at ?? null;
      const expiresAtMicros = expiresAt === null ? null : parseTimestamp(expiresAt);
      const comment = typeof granted.comment === 'string' ? granted.comment : undefined;
      // A record never leaves the fold (views copy it), so a re-grant rewrites the actor's
      // old one instead of allocating another: long logs re-grant over and over.
      let record = fold.approvals.get(actor.id);
      if (record === undefined) {
        record = { actor, grantedAt: ts, expiresAt, expiresAtMicros, comment, revokedAt: undefined, revokedReason: undefined };
      } else {
        record.actor = actor;
        record.grantedAt = ts;
        record.expiresAt = expiresAt;
        record.expiresAtMicros = expiresAtMicros;
        record.comment = comment;
        record.revokedAt = undefined;
        record.revokedReason = undefined;
        fold.approvals.delete(actor.id);
      }
      // (Re)placed: the latest grant moves to the end, so approvals list in grant order.
      fold.approvals.set(actor.id, record);
      break;
    }
    case 'APPROVAL_REVOKED': {
      const record = fold.approvals.get(actor.id);
      if (!record) throw replayError(seq, `APPROVAL_REVOKED by '${actor.id}', who holds no approval`);
      record.revokedAt = ts;
      record.revokedReason = (p as unknown as ApprovalRevokedPayload).reason ?? '';
      break;
    }
    case 'EXECUTION_REQUESTED': {
      const requested = p as unknown as ExecutionRequestedPayload;
      fold.executions.push({
        requestedSeq: seq,
        actor,
        adapterId: requested.adapter_id,
        dryRun: requested.dry_run,
        requestedAt: ts,
        status: 'requested',
      });
      break;
    }
    case 'EXECUTION_STARTED': {
      const execution = latestExecution(fold, seq, type);
      execution.startedAt = ts;
      execution.routerRequestDigest = (p as unknown as ExecutionStartedPayload).router_request_digest;
      execution.status = 'running';
      fold.phase = 'executing';
      break;
    }
    case 'EXECUTION_COMPLETED': {
      const completed = p as unknown as ExecutionCompletedPayload;
      const execution = latestExecution(fold, seq, type);
      execution.completedAt = ts;
      execution.runId = completed.run_id;
      execution.responseDigest = completed.response_digest;
      execution.stepsExecuted = completed.steps_executed;
      execution.status = 'completed';
      fold.phase = 'completed';
      break;
    }
    case 'EXECUTION_FAILED': {
      const failed = p as unknown as ExecutionFailedPayload;
      const execution = latestExecution(fold, seq, type);
      execution.completedAt = ts;
      execution.errorCode = failed.error_code;
      execution.errorMessage = failed.error_message;
      execution.runId = failed.run_id ?? null;
      execution.status = 'failed';
      fold.phase = 'failed';
      break;
    }
    default:
      throw replayError(seq, `unknown event type '${type}'`);
  }
  fold.eventCount = seq + 1;
  fold.updatedAt = ts;
  fold.lastTs = ts;
  fold.generation = event.generation ?? 0;
}

function isActive(record: ApprovalRecord, asOfMicros: number): boolean {
  return record.revokedAt === undefined && !isExpired(record, asOfMicros);
}

function isExpired(record: ApprovalRecord, asOfMicros: number): boolean {
  return record.expiresAtMicros !== null && record.expiresAtMicros <= asOfMicros;
}

export function activeApprovalCount(fold: DecisionFold, asOfMicros: number): number {
  let count = 0;
  for (const record of fold.approvals.values()) if (isActive(record, asOfMicros)) count++;
  return count;
}

/** Whether `actorId` holds an approval that is neither revoked nor expired. */
export function hasActiveApproval(fold: DecisionFold, actorId: string, asOfMicros: number): boolean {
  const record = fold.approvals.get(actorId);
  return record !== undefined && isActive(record, asOfMicros);
}

export function hasUnrevokedApproval(fold: DecisionFold, actorId: string): boolean {
  const record = fold.approvals.get(actorId);
  return record !== undefined && record.revokedAt === undefined;
}

/** SPEC §2: while gathering, the state is `approved` exactly when active approvals meet the policy. */
export function statusAt(fold: DecisionFold, asOfMicros: number): DecisionStatus {
  switch (fold.phase) {
    case 'gathering':
      return fold.policy !== null && activeApprovalCount(fold, asOfMicros) >= fold.policy.minApprovals ? 'approved' : 'pending_approval';
    default:
      return fold.phase;
  }
}

/** The instant a fold is evaluated at when the caller gives none: its last event's ts. */
export function lastEventMicros(fold: DecisionFold): number {
  return fold.lastTs === '' ? 0 : parseTimestamp(fold.lastTs);
}

/** An immutable snapshot of the fold evaluated at `asOfMicros`. */
export function viewOf(fold: DecisionFold, asOfMicros: number): DecisionView {
  const approvals: ApprovalView[] = [];
  let active = 0;
  for (const record of fold.approvals.values()) {
    const expired = isExpired(record, asOfMicros);
    const isOn = record.revokedAt === undefined && !expired;
    if (isOn) active++;
    approvals.push({
      actor: record.actor,
      grantedAt: record.grantedAt,
      expiresAt: record.expiresAt,
      ...(record.comment === undefined ? {} : { comment: record.comment }),
      ...(record.revokedAt === undefined ? {} : { revokedAt: record.revokedAt, revokedReason: record.revokedReason ?? '' }),
      active: isOn,
      expired,
    });
  }
  return {
    decisionId: fold.decisionId,
    createdAt: fold.createdAt,
    updatedAt: fold.updatedAt,
    requester: fold.requester,
    goal: fold.goal,
    plan: fold.plan,
    requestedMode: fold.requestedMode,
    labels: [...fold.labels],
    status: statusAt(fold, asOfMicros),
    policy: fold.policy,
    approvals,
    activeApprovals: active,
    executions: fold.executions.map((e): ExecutionView => ({ ...e })),
    eventCount: fold.eventCount,
    asOf: formatTimestamp(asOfMicros),
  };
}

/** An independent copy: applying events to it leaves `fold` as it was. */
export function cloneFold(fold: DecisionFold): DecisionFold {
  const approvals = new Map<string, ApprovalRecord>();
  for (const [actorId, record] of fold.approvals) approvals.set(actorId, { ...record });
  return { ...fold, labels: [...fold.labels], approvals, executions: fold.executions.map((e) => ({ ...e })) };
}
