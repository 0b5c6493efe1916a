import type { StoredEvent } from '../events/DecisionEvent.js';
import type {
  DecisionHeader,
  ExecutionLease,
  DecisionStatus,
  IdempotencyRecord,
  RouterResultRecord,
  TemplateRecord,
} from './EventStore.js';

/**
 * The data behind one or more memory store handles. Opaque to callers: pass it to
 * `createMemoryEventStore({ database })` to open another handle on the same data (as a second
 * connection to a shared database would be).
 */
export interface MemoryDatabase {
  readonly kind: 'nexus-control-memory-database';
}

/** One decision: its header and listing row, and every log it has had (index = generation). */
export interface MemoryDecision {
  /** Insertion order of the decision; the listing's keyset. Kept when the log is replaced. */
  readonly listPosition: number;
  header: DecisionHeader;
  /** Its logs by generation; the last one is current, the others are superseded. */
  readonly logs: StoredEvent[][];
  /** Its events of every generation, in feed order, and their feed positions. */
  readonly feed: StoredEvent[];
  readonly feedPositions: number[];
  status: DecisionStatus;
}

export interface MemoryState {
  readonly decisions: Map<string, MemoryDecision>;
  /** Ascending by listPosition. */
  readonly listing: MemoryDecision[];
  /** Every event ever committed; the event at index i has feed position i + 1. */
  readonly feed: StoredEvent[];
  readonly idempotency: Map<string, IdempotencyRecord>;
  /** decisionId → runId → result. */
  readonly routerResults: Map<string, Map<string, RouterResultRecord>>;
  readonly templates: Map<string, TemplateRecord>;
  /** decisionId → its execution lease. */
  readonly leases: Map<string, ExecutionLease>;
  /** Listeners of every handle: an append through any handle notifies them all. */
  readonly listeners: Set<{ readonly listener: () => void }>;
  lastListPosition: number;
  /**
   * Serializes commit sections only (never an append's wait before its commit), so feed
   * positions are taken in commit order.
   */
  readonly commitSection: <T>(task: () => T | Promise<T>) => Promise<T>;
}

const states = new WeakMap<MemoryDatabase, MemoryState>();

export function createMemoryDatabase(): MemoryDatabase {
  const database: MemoryDatabase = Object.freeze({ kind: 'nexus-control-memory-database' });
  states.set(database, {
    decisions: new Map(),
    listing: [],
    feed: [],
    idempotency: new Map(),
    routerResults: new Map(),
    templates: new Map(),
    leases: new Map(),
    listeners: new Set(),
    lastListPosition: 0,
    commitSection: createSerialQueue(),
  });
  return database;
}

/** The state behind a database handle (internal to the memory store). */
export function memoryStateOf(database: MemoryDatabase): MemoryState {
  const state = states.get(database);
  if (state === undefined) throw new TypeError('not a database made by createMemoryDatabase');
  return state;
}

/** Runs tasks one at a time in call order; a failed task does not block the next. */
function createSerialQueue(): <T>(task: () => T | Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (task) => {
    const run = tail.then(task);
    tail = run.catch(() => undefined);
    return run;
  };
}
