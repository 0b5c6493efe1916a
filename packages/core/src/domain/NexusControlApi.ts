import type { RecoveryReport } from './commands/recoverExecutions.js';
import type { Actor, Mode, StoredEvent } from '../events/DecisionEvent.js';
import type { JsonObject } from '../json/JsonValue.js';
import type { RouterResponse } from '../router/Router.js';
import type { Checkpoint, DecisionPage, DecisionStatus, ListDecisionsOptions, TemplateRecord } from '../store/EventStore.js';

/** Who issues a command, and the optional key that makes repeating it safe. */
export interface CommandContext {
  readonly actor: Actor;
  /** Repeating a command with the same key returns the first result and writes nothing new. */
  readonly idempotencyKey?: string;
}

/** Policy fields a request or template may set; absent fields take defaults or the template's. */
export interface PolicyInput {
  readonly minApprovals?: number;
  readonly allowedModes?: readonly Mode[];
  readonly requireAdapterCapabilities?: readonly string[];
  readonly maxSteps?: number | null;
  readonly labels?: readonly string[];
}

export interface RequestInput {
  readonly goal: string;
  readonly plan?: string | null;
  /** Default `dry_run`. */
  readonly mode?: Mode;
  readonly policy?: PolicyInput;
  /** Start from this template; explicit policy fields override it. */
  readonly templateName?: string;
}

export interface ApproveInput {
  /** Timestamp with a time zone, in the future. */
  readonly expiresAt?: string | null;
  readonly comment?: string;
}

export interface RevokeInput {
  readonly reason?: string;
}

export interface ExecuteInput {
  readonly adapterId: string;
  /** Overrides the requested mode. */
  readonly mode?: Mode;
  readonly signal?: AbortSignal;
}

export interface FailExecutionInput {
  /** Why the operator ends the run; recorded in the EXECUTION_FAILED error message. */
  readonly reason: string;
}

export interface TemplateInput {
  readonly name: string;
  readonly description?: string;
  readonly policy: PolicyInput;
}

export interface Policy {
  readonly minApprovals: number;
  readonly allowedModes: readonly Mode[];
  readonly requireAdapterCapabilities: readonly string[];
  readonly maxSteps: number | null;
  readonly labels: readonly string[];
  readonly template?: {
    readonly name: string;
    readonly digest: string;
    readonly snapshot: JsonObject;
    readonly overridesApplied: JsonObject;
  };
}

export interface ApprovalView {
  readonly actor: Actor;
  readonly grantedAt: string;
  readonly expiresAt: string | null;
  readonly comment?: string;
  readonly revokedAt?: string;
  readonly revokedReason?: string;
  /** Not revoked and not expired at the view's `asOf`. */
  readonly active: boolean;
  readonly expired: boolean;
}

export type ExecutionOutcomeStatus = 'requested' | 'running' | 'completed' | 'failed';

export interface ExecutionView {
  /** Seq of its EXECUTION_REQUESTED event. */
  readonly requestedSeq: number;
  readonly actor: Actor;
  readonly adapterId: string;
  readonly dryRun: boolean;
  readonly requestedAt: string;
  readonly status: ExecutionOutcomeStatus;
  readonly startedAt?: string;
  readonly routerRequestDigest?: string;
  readonly completedAt?: string;
  readonly runId?: string | null;
  readonly responseDigest?: string;
  readonly stepsExecuted?: number;
  readonly errorCode?: string;
  readonly errorMessage?: string;
}

/** A decision's state, replayed from its log and evaluated at `asOf`. */
export interface DecisionView {
  readonly decisionId: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly requester: Actor;
  readonly goal: string;
  readonly plan: string | null;
  readonly requestedMode: Mode;
  readonly labels: readonly string[];
  readonly status: DecisionStatus;
  readonly policy: Policy | null;
  readonly approvals: readonly ApprovalView[];
  readonly activeApprovals: number;
  readonly executions: readonly ExecutionView[];
  /** Events replayed; the seq the next event gets. */
  readonly eventCount: number;
  /** The instant approvals were evaluated at. */
  readonly asOf: string;
}

export interface BlockingReason {
  readonly code: string;
  readonly message: string;
}

export interface TimelineEntry {
  readonly seq: number;
  readonly ts: string;
  readonly type: string;
  readonly actor: Actor;
  readonly summary: string;
}

export interface Lifecycle {
  readonly decision: DecisionView;
  /** Why the decision cannot execute now; empty when it can. */
  readonly blockingReasons: readonly BlockingReason[];
  readonly progress: {
    readonly activeApprovals: number;
    readonly requiredApprovals: number;
    /** 0..1: approvals gathered, capped at 1; 1 once executed. */
    readonly fraction: number;
  };
  readonly timeline: readonly TimelineEntry[];
}

/** Lifecycle plus the raw log and a re-check of every event digest. */
export interface Inspection extends Lifecycle {
  readonly events: readonly StoredEvent[];
  readonly integrity: {
    readonly eventDigestsValid: boolean;
    /** Seqs whose stored digest does not match the recomputed one. */
    readonly invalidEventSeqs: readonly number[];
  };
}

export interface ExecutionResult {
  readonly decision: DecisionView;
  readonly execution: ExecutionView;
  /** The router's response when the run completed (absent on failure or idempotent replay). */
  readonly response?: RouterResponse;
}

/** Point in time for reads: the state up to a seq, or as of an instant (events with ts ≤ it). */
export type PointInTime = { readonly atSeq: number } | { readonly asOf: string } | Record<string, never>;

export interface WatchOptions {
  /** Only this decision's events (of every generation). */
  readonly decisionId?: string;
  /**
   * Resume strictly after this checkpoint (`FEED_START` = from the beginning). Absent: from the
   * head watermark, i.e. only what is committed from now on.
   */
  readonly after?: Checkpoint;
  readonly signal?: AbortSignal;
  /**
   * How often, at most, a `checkpoint` item reports progress made without a matching event
   * (milliseconds; default 5000).
   */
  readonly checkpointIntervalMs?: number;
}

/**
 * One item of a watch. Every item carries a checkpoint to resume after: an event its own, a
 * `caught_up` (sent once, when the watch first reaches the live head) and a `checkpoint`
 * (periodic, while the feed moves on without a matching event) the position read so far.
 */
export type WatchItem =
  | { readonly type: 'event'; readonly event: StoredEvent }
  | { readonly type: 'caught_up'; readonly checkpoint: Checkpoint }
  | { readonly type: 'checkpoint'; readonly checkpoint: Checkpoint };

export interface NexusControl {
  request(input: RequestInput, ctx: CommandContext): Promise<DecisionView>;
  approve(decisionId: string, input: ApproveInput, ctx: CommandContext): Promise<DecisionView>;
  revoke(decisionId: string, input: RevokeInput, ctx: CommandContext): Promise<DecisionView>;
  execute(decisionId: string, input: ExecuteInput, ctx: CommandContext): Promise<ExecutionResult>;
  /** Ends the run of an executing decision now with EXECUTION_FAILED, the caller as its actor. */
  failExecution(decisionId: string, input: FailExecutionInput, ctx: CommandContext): Promise<DecisionView>;
  /**
   * One recovery sweep: closes the runs whose lease lapsed (their process died) with
   * EXECUTION_FAILED / EXECUTION_INTERRUPTED. A server runs it at start-up and periodically.
   */
  recoverExecutions(): Promise<RecoveryReport>;

  createTemplate(input: TemplateInput, ctx: CommandContext): Promise<TemplateRecord>;
  getTemplate(name: string): Promise<TemplateRecord>;
  listTemplates(): Promise<TemplateRecord[]>;

  getDecision(decisionId: string, at?: PointInTime): Promise<DecisionView>;
  lifecycle(decisionId: string, at?: PointInTime): Promise<Lifecycle>;
  inspect(decisionId: string, at?: PointInTime): Promise<Inspection>;
  events(decisionId: string, at?: PointInTime): Promise<StoredEvent[]>;
  listDecisions(options?: ListDecisionsOptions): Promise<DecisionPage>;
  watch(options?: WatchOptions): AsyncIterable<WatchItem>;
}
