import type { Mode, NewEvent, StoredEvent } from '../events/DecisionEvent.js';
import type { JsonObject } from '../json/JsonValue.js';
import type { LogVersion } from './expectedVersion.js';

/**
 * The lifecycle states of a decision. `approved` versus `pending_approval` depends on the
 * instant it is evaluated at (approvals expire), so stores only keep the state as of the
 * last append, for listing.
 */
export type DecisionStatus = 'draft' | 'pending_approval' | 'approved' | 'executing' | 'completed' | 'failed';

/** The immutable facts about a decision, written once with its first events. */
export interface DecisionHeader {
  readonly decisionId: string;
  /** `ts` of the first event. */
  readonly createdAt: string;
  readonly goal: string;
  readonly requestedMode: Mode;
  readonly labels: readonly string[];
}

/** One row of a decision listing. */
export interface DecisionSummary extends DecisionHeader {
  /** The state as of the last append (see `DecisionStatus`). */
  readonly status: DecisionStatus;
  /** Number of events in the current log; the next event gets this seq. */
  readonly eventCount: number;
  /** The current log's generation: 0 unless an overwrite import replaced the log (see `LogVersion`). */
  readonly generation: number;
  /** `ts` of the last event. */
  readonly updatedAt: string;
}

/** A client-supplied idempotency key and what the command it guarded produced. */
export interface IdempotencyRecord {
  readonly key: string;
  /** Digest of the command and its arguments: the same key with other arguments is an error. */
  readonly fingerprint: string;
  readonly decisionId: string;
  /** Generation of the log the command appended to. */
  readonly generation: number;
  /** Seq of the first event the command appended. */
  readonly seq: number;
}

export interface AppendRequest {
  readonly decisionId: string;
  /**
   * The log the writer decided on: its generation and length (the seq the first new event
   * gets). The append fails with `ConcurrencyConflictError` when the decision's current log is
   * not exactly that one — it grew, or an overwrite import replaced it — so it never acts on a
   * log its writer did not see. `NEW_DECISION` when creating.
   */
  readonly expectedVersion: LogVersion;
  /** One or more events, appended all or nothing with consecutive seqs. */
  readonly events: readonly NewEvent[];
  /** Present exactly when the decision is being created (`expectedVersion` is then `NEW_DECISION`). */
  readonly header?: DecisionHeader;
  /** The decision's state after these events, kept for listing filters. */
  readonly status: DecisionStatus;
  /**
   * Recorded in the same transaction (the store adds the decision, generation and seq). A key recorded already fails the append with
   * IDEMPOTENCY_KEY_REUSED, so a writer that lost a race for the key can read the winner's
   * record with `getIdempotency` and answer with its result. (A writer racing the key's owner
   * may see a conflict first, and then find the key on its retry.)
   */
  readonly idempotency?: Omit<IdempotencyRecord, 'decisionId' | 'generation' | 'seq'>;
  /** The full router response of a completed run, kept for embedded audit packages. */
  readonly routerResult?: RouterResultRecord;
  /**
   * The decision's execution lease, changed in this append's transaction. A `LeaseGrant`
   * takes it for the run these events start (the lease's `generation` and `requestedSeq` are
   * `expectedVersion`'s), replacing any lease the decision had: a run never exists without
   * its lease. `'release'` drops it (these events end the run); without a lease it is a no-op.
   */
  readonly lease?: LeaseGrant | 'release';
}

/**
 * Who runs a decision's execution and until when they are presumed alive. At most one per
 * decision: a row (document) keyed by decision id, changed only by conditional updates, so
 * the store, not a process, decides which of two contenders holds it.
 */
export interface ExecutionLease {
  readonly decisionId: string;
  /** The log the run was started on. */
  readonly generation: number;
  /** Seq of the run's EXECUTION_REQUESTED event. */
  readonly requestedSeq: number;
  /** Opaque id of the process that holds it (non-empty, at most 256 characters). */
  readonly owner: string;
  /** Epoch milliseconds by the holder's clock; at or before a reader's "now" it has lapsed. */
  readonly expiresAt: number;
}

export interface LeaseGrant {
  readonly owner: string;
  readonly expiresAt: number;
}

export interface LeaseTakeover {
  readonly decisionId: string;
  /** The holder the taker saw lapse; the takeover fails if someone else holds it by now. */
  readonly fromOwner: string;
  /** The taker's clock (epoch ms): the lease must expire at or before it. */
  readonly now: number;
  readonly grant: LeaseGrant;
}

export interface RouterResultRecord {
  readonly runId: string;
  /** Canonical JSON text of the router response; its SHA-256 is the recorded response digest. */
  readonly responseJson: string;
}

export interface AppendResult {
  readonly events: readonly StoredEvent[];
}

export interface ReadEventsOptions {
  /** First seq to return (inclusive); default 0. */
  readonly fromSeq?: number;
  /** Last seq to return (inclusive); default: the last event. */
  readonly toSeq?: number;
  /**
   * Which log to read: default the current one. A lower generation reads a superseded log (the
   * audit and admin view of what an overwrite import replaced); `[]` for one that never existed.
   */
  readonly generation?: number;
}

export interface ListDecisionsOptions {
  /** Page size; stores cap it (see `MAX_PAGE_SIZE`). */
  readonly limit?: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  readonly cursor?: string;
  /** Only decisions carrying this label. */
  readonly label?: string;
  /** Only decisions whose stored state is this. */
  readonly status?: DecisionStatus;
}

export interface DecisionPage {
  /** Newest first. */
  readonly items: readonly DecisionSummary[];
  /** Absent on the last page. Pages stay stable while new decisions arrive. */
  readonly nextCursor?: string;
}

/**
 * A place in the change feed, as the store that issued it spells it: an ordered, opaque token
 * (SQLite: its integer position; PostgreSQL: a transaction id and a sequence; …). Only the
 * issuing store parses or compares it; anything it did not issue is INVALID_ARGUMENT.
 */
export type Checkpoint = string;

/** The checkpoint before the first event: reading after it reads the whole feed. */
export const FEED_START: Checkpoint = '';

export interface ReadFeedOptions {
  /** Return events strictly after this checkpoint; default `FEED_START`. */
  readonly after?: Checkpoint;
  /** Only this decision's events (of every generation, in feed order). */
  readonly decisionId?: string;
  /** Maximum number of events; default 1000. */
  readonly limit?: number;
}

/**
 * One read of the feed. The feed has a total order that is stable once visible: a reader that
 * resumes from any `checkpoint` it was handed never misses an event and never sees one twice,
 * whatever order concurrent transactions commit in.
 */
export interface FeedPage {
  /** In feed order. Each carries its own checkpoint. */
  readonly events: StoredEvent[];
  /**
   * Where to resume: the last event's checkpoint, or, when the read reached the visible head,
   * the head watermark itself (so a reader of one decision advances while nothing matching
   * arrives). Never before `after`.
   */
  readonly checkpoint: Checkpoint;
  /** True when the read reached the visible head: nothing more is readable now. */
  readonly caughtUp: boolean;
}

export type ImportConflictMode = 'reject' | 'overwrite';

export interface ImportRequest {
  readonly header: DecisionHeader;
  /** The full log, seq 0..n-1 in order. */
  readonly events: readonly NewEvent[];
  readonly status: DecisionStatus;
  /**
   * `reject`: fail with DECISION_EXISTS if the id exists. `overwrite`: replace its log atomically
   * with a new generation; the replaced events are kept as a superseded log (readable with
   * `readEvents(id, { generation })`), never deleted, and the new log enters the feed as new
   * entries (seq 0 of a generation above 0 tells a reader it is a replacement). An overwrite
   * also drops the decision's execution lease: it belonged to a run on the replaced log.
   */
  readonly conflictMode: ImportConflictMode;
  /**
   * `overwrite` only: the version of the current log the importer decided to replace; the
   * import fails with `ConcurrencyConflictError` when the log is another one by then. Absent:
   * replace whatever log is current.
   */
  readonly expectedVersion?: LogVersion;
  /**
   * Runs inside the same atomic unit after the events are written, on the events as the
   * store now holds them; throwing undoes the whole import. It may run more than once (a store
   * may retry its transaction), so it must have no effect but its verdict.
   */
  readonly verify?: (stored: readonly StoredEvent[]) => void | Promise<void>;
}

export interface TemplateRecord {
  readonly name: string;
  /** The template's policy fields and description, as created. */
  readonly snapshot: JsonObject;
  /** Raw hex digest of the canonical snapshot. */
  readonly digest: string;
  readonly createdAt: string;
  readonly createdBy: { readonly type: 'human' | 'system'; readonly id: string };
}

/**
 * The storage contract: an immutable header per decision plus an append-only event log,
 * with optimistic concurrency enforced by the store itself (so it holds across processes
 * sharing one database). Every method either completes or changes nothing. Appends to
 * different decisions may commit in parallel (a store may serialize them, but nothing in the
 * contract requires it).
 *
 * Errors: `ConcurrencyConflictError` for a lost race; `NexusError` with `DECISION_EXISTS`,
 * `TEMPLATE_EXISTS`, `IDEMPOTENCY_KEY_REUSED` for uniqueness; never a raw driver error for
 * these cases.
 */
export interface EventStore {
  /** Appends events to a decision (creating it when `header` is given) in one transaction. */
  append(request: AppendRequest): Promise<AppendResult>;

  /** A decision's events in seq order; `[]` for an unknown decision. One indexed range read. */
  readEvents(decisionId: string, options?: ReadEventsOptions): Promise<StoredEvent[]>;

  /** The listing row of one decision, or undefined. */
  getDecision(decisionId: string): Promise<DecisionSummary | undefined>;

  listDecisions(options?: ListDecisionsOptions): Promise<DecisionPage>;

  /** The global change feed in feed order, strictly after a checkpoint. */
  readFeed(options?: ReadFeedOptions): Promise<FeedPage>;

  /**
   * A stable watermark: every event at or before it is committed and visible, and no event
   * committed later will be ordered at or before it. `FEED_START` when the feed is empty.
   */
  headCheckpoint(): Promise<Checkpoint>;

  getIdempotency(key: string): Promise<IdempotencyRecord | undefined>;

  /** The router response stored with a decision's completed run, or undefined. */
  getRouterResult(decisionId: string, runId: string): Promise<RouterResultRecord | undefined>;

  /** Writes a whole decision at once (bundle import), all or nothing, including `verify`. */
  importDecision(request: ImportRequest): Promise<AppendResult>;

  /** Fails with TEMPLATE_EXISTS when the name is taken; templates are immutable. */
  createTemplate(template: TemplateRecord): Promise<void>;
  getTemplate(name: string): Promise<TemplateRecord | undefined>;
  /** Sorted by name. */
  listTemplates(): Promise<TemplateRecord[]>;

  /**
   * Extends the decision's lease to `expiresAt` if `owner` still holds it (lapsed or not, as
   * long as nobody took it over). False when the lease is gone or held by another: the run
   * was ended or taken over, and its owner should stop.
   */
  renewLease(decisionId: string, owner: string, expiresAt: number): Promise<boolean>;

  /**
   * Leases that expired at or before `now` (epoch ms), earliest expiry first, at most `limit`
   * (default 100). A listing only: act on one through `takeOverLease`.
   */
  listExpiredLeases(now: number, limit?: number): Promise<ExecutionLease[]>;

  /**
   * One conditional update: the lease passes to `grant` only if it is still held by
   * `fromOwner` and expired at or before `now`. Of any number of concurrent takers (on any
   * handle or process) exactly one gets true.
   */
  takeOverLease(takeover: LeaseTakeover): Promise<boolean>;

  /** Drops the decision's lease if `owner` holds it (a lease whose run already ended); true when dropped. */
  releaseLease(decisionId: string, owner: string): Promise<boolean>;

  /**
   * Optional push notification that new events may exist (the feed is still read with
   * `readFeed`). Stores without it are polled.
   */
  onAppend?(listener: () => void): () => void;

  close(): Promise<void>;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;
export const DEFAULT_FEED_LIMIT = 1000;

/**
 * A test seam every store accepts in its options: awaited inside an append's transaction after
 * its writes and right before its commit. The conformance suite uses it to hold one commit open
 * while another commits first. Never set in production.
 */
export type BeforeCommitHook = (decisionId: string) => Promise<void>;
