import type { FaultData } from './storeFault.js';
import type { SynchronousMode } from './openDatabase.js';

/*
 * The messages between the store (on the caller's thread) and the worker thread that owns
 * the connections. Requests carry only strings and numbers — an event travels as its six
 * stored strings (its payload as the canonical JSON text), never as a parsed payload — and
 * replies carry rows as arrays, so a structured clone copies little.
 *
 * To add an operation: its arguments in `Requests` and its result in `Results` (a write
 * also in `WRITE_OPS`); the worker handles it in `createWorkerStore` (a read in `reads`,
 * run on the read connection; a write in `writes`, run in its own transaction through the
 * write queue) and the store calls `worker.call(name, args)`.
 */

export interface WorkerOptions {
  readonly path: string;
  readonly synchronous: SynchronousMode;
  readonly busyTimeoutMs: number;
  /** Appends wait for the caller's `beforeCommit` hook before they commit, one transaction each. */
  readonly hooked: boolean;
}

/** An event as stored: type, ts, actor type, actor id, payload JSON, digest. */
export type EventStrings = readonly [string, string, string, string, string, string];

export interface AppendArgs {
  readonly decisionId: string;
  readonly generation: number;
  readonly length: number;
  readonly status: string;
  /** Six strings per event (see `EventStrings`), flattened. */
  readonly events: readonly string[];
  /** decisionId, createdAt, goal, requestedMode, labels (JSON array). */
  readonly header?: readonly [string, string, string, string, string];
  /** key, fingerprint. */
  readonly idempotency?: readonly [string, string];
  /** runId, responseJson. */
  readonly routerResult?: readonly [string, string];
  /** The decision's execution lease, changed inside this append's transaction (its savepoint in a group). */
  readonly lease?: LeaseArg;
}

/** A lease grant (owner, expires at in epoch ms), or 'release' to drop the decision's lease. */
export type LeaseArg = readonly [string, number] | 'release';
/** decision id, generation, requested seq, owner, expires at. */
export type LeaseRow = [string, number, number, string, number];

export interface ImportArgs {
  readonly header: readonly [string, string, string, string, string];
  readonly labels: readonly string[];
  readonly status: string;
  readonly events: readonly string[];
  readonly overwrite: boolean;
  readonly expected?: { readonly generation: number; readonly length: number };
  /** The caller gives a verdict on the written events before the worker commits. */
  readonly verify: boolean;
}

/** position, generation, seq, type (index or text), ts, actor type (index or text), actor id, payload, digest[, decision id]. */
export type EventRow = [number, number, number, number | string, string, number | string, string, string, string];
export type FeedRow = [...EventRow, string];
/** list position, decision id, created at, goal, requested mode, labels JSON, status, last seq, updated at, generation. */
export type DecisionRow = [number, string, string, string, string, string, string, number, string, number];
export type TemplateRow = [string, string, string, string, string, string];

export interface Requests {
  append: AppendArgs;
  importDecision: ImportArgs;
  readEvents: { readonly decisionId: string; readonly generation?: number; readonly fromSeq: number; readonly toSeq: number };
  getDecision: { readonly decisionId: string };
  listDecisions: { readonly label?: string; readonly status?: string; readonly before?: number; readonly limit: number };
  readFeed: { readonly after: number; readonly decisionId?: string; readonly limit: number };
  head: Record<string, never>;
  getIdempotency: { readonly key: string };
  getRouterResult: { readonly decisionId: string; readonly runId: string };
  createTemplate: { readonly row: TemplateRow };
  getTemplate: { readonly name: string };
  listTemplates: Record<string, never>;
  renewLease: { readonly decisionId: string; readonly owner: string; readonly expiresAt: number };
  listExpiredLeases: { readonly now: number; readonly limit: number };
  takeOverLease: {
    readonly decisionId: string;
    readonly fromOwner: string;
    readonly now: number;
    readonly owner: string;
    readonly expiresAt: number;
  };
  releaseLease: { readonly decisionId: string; readonly owner: string };
}

/**
 * Rows of a long read as the JSON text of an array of rows, written by SQLite itself: a thread
 * boundary copies one string far faster than the structured clone of thousands of small arrays,
 * and the caller's single JSON.parse is faster than the clone's rebuild (see the store's README).
 */
export type RowsText = string;

export interface Results {
  /** The positions of the appended events, in order. */
  append: number[];
  importDecision: { readonly generation: number; readonly positions: number[] };
  /** The last rows as JSON text (see `RowsText`); the ones before arrive as parts (see `part`). */
  readEvents: RowsText;
  getDecision: DecisionRow | undefined;
  listDecisions: DecisionRow[];
  /** `after` beyond the head: the token was never issued. */
  /** `rows`: FeedRows as JSON text (see `RowsText`); `cut`: the page ended early for its size, more rows follow. */
  readFeed: { readonly head: number; readonly rows: RowsText; readonly cut: boolean } | 'beyond-head';
  head: number;
  getIdempotency: [string, string, string, number, number] | undefined;
  getRouterResult: string | undefined;
  createTemplate: null;
  getTemplate: TemplateRow | undefined;
  listTemplates: TemplateRow[];
  /** Whether the owner still held the lease and it was extended. */
  renewLease: boolean;
  listExpiredLeases: LeaseRow[];
  /** Whether the lease passed to the taker. */
  takeOverLease: boolean;
  releaseLease: boolean;
}

export type Op = keyof Requests;

/** The operations that write: they go through the write queue, one transaction at a time. */
export const WRITE_OPS = ['append', 'importDecision', 'createTemplate', 'renewLease', 'takeOverLease', 'releaseLease'] as const;
export type WriteOp = (typeof WRITE_OPS)[number];
export type ReadOp = Exclude<Op, WriteOp>;
export const isWriteOp = (op: Op): op is WriteOp => (WRITE_OPS as readonly Op[]).includes(op);

/** Caller → worker. */
export type ToWorker =
  | { readonly kind: 'call'; readonly id: number; readonly op: Op; readonly args: unknown }
  /** The answer to an `ask`: go on and commit, or roll back. */
  | { readonly kind: 'verdict'; readonly id: number; readonly commit: boolean }
  | { readonly kind: 'close' }
  /** Serve a newly opened store (a thread whose store closed is reused). */
  | { readonly kind: 'open'; readonly options: WorkerOptions };

/** Worker → caller. */
export type FromWorker =
  | { readonly kind: 'ready' }
  /** The database could not be opened: every call fails with this. */
  | { readonly kind: 'broken'; readonly fault: FaultData }
  | { readonly kind: 'done'; readonly id: number; readonly result: unknown }
  /** Rows of a long read ahead of its `done`, which carries the last ones. */
  | { readonly kind: 'part'; readonly id: number; readonly rows: RowsText }
  | { readonly kind: 'failed'; readonly id: number; readonly fault: FaultData }
  /** A write holds its transaction open and waits for a verdict: the hook ran, or the import's written events (their positions and generation) were verified. */
  | { readonly kind: 'ask'; readonly id: number; readonly positions?: readonly number[]; readonly generation?: number }
  | { readonly kind: 'closed' };

/** The fault a write gets when the caller's verdict rolled it back (the caller keeps the reason). */
export const REFUSED = 'REFUSED_BY_CALLER';
