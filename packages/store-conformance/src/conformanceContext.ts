import { afterEach, expect } from 'vitest';
import type { ErrorCode } from '../errors/errorCodes.js';
import { ConcurrencyConflictError, NexusError } from '../errors/NexusError.js';
import type { NewEvent, StoredEvent } from '../events/DecisionEvent.js';
import type { DecisionSummary, EventStore } from '../store/EventStore.js';
import { approvalEvent } from './fixtures.js';

export interface ConformanceHarness {
  /** A new, empty store (its own database). */
  createStore(): Promise<EventStore>;
  /** Optional: a second, independent handle (another connection) on the same database as `store`, to race writers across connections. */
  openSecondHandle?(store: EventStore): Promise<EventStore>;
}

export interface ConformanceContext {
  readonly harness: ConformanceHarness;
  /** A new store, closed after the test. */
  newStore(): Promise<EventStore>;
  /** A second handle on the database of `store` (closed after the test), or undefined when the harness has none. */
  secondHandle(store: EventStore): Promise<EventStore | undefined>;
  /** Closes a store now instead of after the test. */
  closeNow(store: EventStore): Promise<void>;
}

/** Must be called inside a `describe`: registers the `afterEach` that closes what the test opened. */
export function createConformanceContext(harness: ConformanceHarness): ConformanceContext {
  let open: EventStore[] = [];
  afterEach(async () => {
    // Second handles first (they were opened last), then the stores they share a database with.
    const stores = open.reverse();
    open = [];
    for (const store of stores) await store.close();
  });
  return {
    harness,
    async newStore() {
      const store = await harness.createStore();
      open.push(store);
      return store;
    },
    async secondHandle(store) {
      if (harness.openSecondHandle === undefined) return undefined;
      const handle = await harness.openSecondHandle(store);
      open.push(handle);
      return handle;
    },
    async closeNow(store) {
      open = open.filter((s) => s !== store);
      await store.close();
    },
  };
}

/** Awaits `promise`, expecting it to reject with a NexusError of `code`; returns the error. */
export async function expectNexusError(promise: Promise<unknown>, code: ErrorCode): Promise<NexusError> {
  const outcome = await promise.then(
    (value: unknown) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  expect(outcome.ok, `expected a rejection with ${code}`).toBe(false);
  const error = (outcome as { error: unknown }).error;
  expect(error).toBeInstanceOf(NexusError);
  expect((error as NexusError).code).toBe(code);
  return error as NexusError;
}

export async function expectConflict(promise: Promise<unknown>): Promise<ConcurrencyConflictError> {
  const error = await expectNexusError(promise, 'CONCURRENCY_CONFLICT');
  expect(error).toBeInstanceOf(ConcurrencyConflictError);
  return error as ConcurrencyConflictError;
}

/** The fields of an event that the writer chose, as plain data. */
export function written(event: NewEvent): NewEvent {
  return {
    type: event.type,
    ts: event.ts,
    actor: { type: event.actor.type, id: event.actor.id },
    payload: event.payload,
    payloadJson: event.payloadJson,
    digest: event.digest,
  };
}

export interface DecisionState {
  readonly summary: DecisionSummary | undefined;
  readonly events: StoredEvent[];
  readonly feed: StoredEvent[];
  readonly head: number;
}

/** Everything a reader can observe about one decision, to assert that a failed write changed nothing. */
export async function decisionState(store: EventStore, decisionId: string): Promise<DecisionState> {
  return {
    summary: await store.getDecision(decisionId),
    events: await store.readEvents(decisionId),
    feed: await store.readFeed({ decisionId }),
    head: await store.headPosition(),
  };
}

/**
 * A writer as the service layer is one: read the event count, append one approval there,
 * and on a lost race read again and retry. Returns the number of conflicts it met.
 */
export async function approveWithRetry(store: EventStore, decisionId: string, actorId: string): Promise<number> {
  for (let conflicts = 0; conflicts < 200; conflicts++) {
    const count = (await store.readEvents(decisionId)).length;
    try {
      await store.append({ decisionId, expectedSeq: count, events: [approvalEvent(actorId)], status: 'approved' });
      return conflicts;
    } catch (error) {
      if (!(error instanceof ConcurrencyConflictError)) throw error;
    }
  }
  throw new Error(`${actorId} gave up after 200 conflicts`);
}

export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Yields to the event loop so other pending work (other writers, I/O) can run. */
export function yieldTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
