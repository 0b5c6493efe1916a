import type { Mode, NewEvent, StoredEvent } from '../events/DecisionEvent.js';
import type { JsonObject } from '../json/JsonValue.js';

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
  /** Number of events; the next event gets this seq. */
  readonly eventCount: number;
  /** `ts` of the last event. */
  readonly updatedAt: string;
}

/** A client-supplied idempotency key and what the command it guarded produced. */
export interface IdempotencyRecord {
  readonly key: string;
  /** Digest of the command and its arguments: the same key with other arguments is an error. */
  readonly fingerprint: string;
  readonly decisionId: string;
  /** Seq of the first event the command appended. */
  readonly seq: number;
}

export interface AppendRequest {
  readonly decisionId: string;
  /**
   * The seq the first new event must get (the current event count). The append fails with
   * `ConcurrencyConflictError` when the log has moved on, so it never overwrites.
   */
  readonly expectedSeq: number;
  /** One or more events, appended all or nothing with consecutive seqs. */
  readonly events: readonly NewEvent[];
  /** Present exactly when the decision is being created (`expectedSeq` is then 0). */
  readonly header?: DecisionHeader;
  /** The decision's state after these events, kept for listing filters. */
  readonly status: DecisionStatus;
  /** Recorded in the same transaction; a key that exists already fails the append. */
  readonly idempotency?: Omit<IdempotencyRecord, 'decisionId' | 'seq'>;
  /** The full router response of a completed run, kept for embedded audit packages. */
  readonly routerResult?: RouterResultRecord;
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

export interface ReadFeedOptions {
  /** Return events with a position strictly greater than this; default 0 (from the start). */
  readonly afterPosition?: number;
  /** Only this decision's events. */
  readonly decisionId?: string;
  /** Maximum number of events; default 1000. */
  readonly limit?: number;
}

export type ImportConflictMode = 'reject' | 'overwrite';

export interface ImportRequest {
  readonly header: DecisionHeader;
  /** The full log, seq 0..n-1 in order. */
  readonly events: readonly NewEvent[];
  readonly status: DecisionStatus;
  /** `reject`: fail with DECISION_EXISTS if the id exists; `overwrite`: replace it atomically. */
  readonly conflictMode: ImportConflictMode;
  /**
   * Runs inside the same atomic unit after the events are written, on the events as the
   * store now holds them; throwing undoes the whole import.
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
 * sharing one database). Every method either completes or changes nothing.
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

  /** The global change feed in position order, from after a position. */
  readFeed(options?: ReadFeedOptions): Promise<StoredEvent[]>;

  /** The highest position written so far (0 when empty). */
  headPosition(): Promise<number>;

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
   * Optional push notification that new events may exist (the feed is still read with
   * `readFeed`). Stores without it are polled.
   */
  onAppend?(listener: () => void): () => void;

  close(): Promise<void>;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;
export const DEFAULT_FEED_LIMIT = 1000;
