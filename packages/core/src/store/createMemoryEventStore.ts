import { NexusError } from '../errors/NexusError.js';
import type { NewEvent, StoredEvent } from '../events/DecisionEvent.js';
import { JsonFloat, type JsonObject, type JsonValue } from '../json/JsonValue.js';
import { decodeDecisionCursor, encodeDecisionCursor, pageSizeOf } from './decisionCursor.js';
import {
  DEFAULT_FEED_LIMIT,
  type AppendRequest,
  type AppendResult,
  type DecisionHeader,
  type DecisionPage,
  type DecisionStatus,
  type DecisionSummary,
  type EventStore,
  type IdempotencyRecord,
  type ImportRequest,
  type ListDecisionsOptions,
  type ReadEventsOptions,
  type ReadFeedOptions,
  type RouterResultRecord,
  type TemplateRecord,
} from './EventStore.js';
import { assertExpectedSeq, checkAppendRequest } from './expectedSeq.js';

interface DecisionEntry {
  /** Insertion order of the decision; the listing's keyset. Kept when the decision is overwritten. */
  readonly listPosition: number;
  header: DecisionHeader;
  /** Indexed by seq. */
  events: StoredEvent[];
  status: DecisionStatus;
}

/**
 * The reference EventStore: everything in memory, for tests, embedding and as the executable
 * reading of the contract. Stored data is deep-copied and frozen on the way in and copied on
 * the way out, so no caller can reach into it. Writes run one at a time behind an async
 * lock; a write becomes visible only when it has fully succeeded (an import is staged, verified,
 * then published), so readers never see half of one.
 */
export function createMemoryEventStore(): EventStore {
  const decisions = new Map<string, DecisionEntry>();
  /** Ascending by listPosition. */
  const listing: DecisionEntry[] = [];
  /** Every live event, ascending by position. */
  let feed: StoredEvent[] = [];
  const idempotency = new Map<string, IdempotencyRecord>();
  /** decisionId → runId → result. */
  const routerResults = new Map<string, Map<string, RouterResultRecord>>();
  const templates = new Map<string, TemplateRecord>();
  const listeners = new Set<{ readonly listener: () => void }>();
  let lastPosition = 0;
  let lastListPosition = 0;
  let closed = false;
  const exclusive = createWriteLock();

  function ensureOpen(): void {
    if (closed) throw new NexusError('STORE_UNAVAILABLE', 'the event store is closed');
  }

  function notify(): void {
    for (const { listener } of [...listeners]) {
      try {
        listener();
      } catch {
        // A listener's failure is its own; the append has already succeeded.
      }
    }
  }

  /** Positions are taken only at commit, so a write that fails leaves no gap and no trace. */
  function stamp(decisionId: string, firstSeq: number, events: readonly NewEvent[]): StoredEvent[] {
    return events.map((event, i) =>
      Object.freeze({
        decisionId,
        seq: firstSeq + i,
        position: lastPosition + 1 + i,
        type: event.type,
        ts: event.ts,
        actor: event.actor,
        payload: event.payload,
        payloadJson: event.payloadJson,
        digest: event.digest,
      }),
    );
  }

  function publish(stored: readonly StoredEvent[]): void {
    for (const event of stored) feed.push(event);
    lastPosition = stored[stored.length - 1]?.position ?? lastPosition;
  }

  function addDecision(header: DecisionHeader, events: StoredEvent[], status: DecisionStatus): void {
    const entry: DecisionEntry = { listPosition: ++lastListPosition, header, events, status };
    decisions.set(header.decisionId, entry);
    listing.push(entry);
  }

  return {
    async append(request: AppendRequest): Promise<AppendResult> {
      ensureOpen();
      checkAppendRequest(request);
      // Snapshot the input now: the caller may change its objects while this waits for the lock.
      const { decisionId, expectedSeq, status } = request;
      const events = request.events.map(frozenNewEvent);
      const header = request.header === undefined ? undefined : frozenHeader(request.header);
      const idem = request.idempotency === undefined ? undefined : { ...request.idempotency };
      const routerResult = request.routerResult === undefined ? undefined : { ...request.routerResult };

      const stored = await exclusive(() => {
        ensureOpen();
        const entry = decisions.get(decisionId);
        if (header !== undefined && entry !== undefined) {
          throw new NexusError('DECISION_EXISTS', `decision ${decisionId} already exists`, { decisionId });
        }
        if (header === undefined && entry === undefined) {
          throw new NexusError('DECISION_NOT_FOUND', `decision ${decisionId} does not exist`, { decisionId });
        }
        assertExpectedSeq(decisionId, expectedSeq, entry?.events.length ?? 0);
        if (idem !== undefined && idempotency.has(idem.key)) {
          throw new NexusError('IDEMPOTENCY_KEY_REUSED', 'the idempotency key was used before', { key: idem.key });
        }

        const stored = stamp(decisionId, expectedSeq, events);
        publish(stored);
        if (entry === undefined) {
          addDecision(header as DecisionHeader, stored, status);
        } else {
          for (const event of stored) entry.events.push(event);
          entry.status = status;
        }
        if (idem !== undefined) {
          idempotency.set(
            idem.key,
            Object.freeze({ key: idem.key, fingerprint: idem.fingerprint, decisionId, seq: expectedSeq }),
          );
        }
        if (routerResult !== undefined) {
          let runs = routerResults.get(decisionId);
          if (runs === undefined) routerResults.set(decisionId, (runs = new Map()));
          runs.set(routerResult.runId, Object.freeze(routerResult));
        }
        return stored;
      });
      notify();
      return { events: stored.map(copyEvent) };
    },

    async readEvents(decisionId: string, options: ReadEventsOptions = {}): Promise<StoredEvent[]> {
      ensureOpen();
      const fromSeq = nonNegativeInteger('fromSeq', options.fromSeq ?? 0);
      const toSeq = options.toSeq === undefined ? undefined : nonNegativeInteger('toSeq', options.toSeq);
      const events = decisions.get(decisionId)?.events ?? [];
      return events.slice(fromSeq, toSeq === undefined ? undefined : toSeq + 1).map(copyEvent);
    },

    async getDecision(decisionId: string): Promise<DecisionSummary | undefined> {
      ensureOpen();
      const entry = decisions.get(decisionId);
      return entry === undefined ? undefined : summaryOf(entry);
    },

    async listDecisions(options: ListDecisionsOptions = {}): Promise<DecisionPage> {
      ensureOpen();
      const size = pageSizeOf(options.limit);
      const before = options.cursor === undefined ? Number.POSITIVE_INFINITY : decodeDecisionCursor(options.cursor);
      const { label, status } = options;
      const page: DecisionEntry[] = [];
      let more = false;
      for (let i = firstIndexAtOrAbove(listing, (e) => e.listPosition, before) - 1; i >= 0; i--) {
        const entry = listing[i] as DecisionEntry;
        if (label !== undefined && !entry.header.labels.includes(label)) continue;
        if (status !== undefined && entry.status !== status) continue;
        if (page.length === size) {
          more = true;
          break;
        }
        page.push(entry);
      }
      const last = page[page.length - 1];
      return {
        items: page.map(summaryOf),
        ...(more && last !== undefined ? { nextCursor: encodeDecisionCursor(last.listPosition) } : {}),
      };
    },

    async readFeed(options: ReadFeedOptions = {}): Promise<StoredEvent[]> {
      ensureOpen();
      const after = nonNegativeInteger('afterPosition', options.afterPosition ?? 0);
      const limit = options.limit ?? DEFAULT_FEED_LIMIT;
      if (!Number.isSafeInteger(limit) || limit < 1) {
        throw new NexusError('INVALID_ARGUMENT', 'limit must be a positive integer', { limit });
      }
      // A decision's events are in position order too, so a filtered read is a range of its own log.
      const source = options.decisionId === undefined ? feed : (decisions.get(options.decisionId)?.events ?? []);
      const start = firstIndexAtOrAbove(source, (e) => e.position, after + 1);
      return source.slice(start, start + limit).map(copyEvent);
    },

    async headPosition(): Promise<number> {
      ensureOpen();
      return lastPosition;
    },

    async getIdempotency(key: string): Promise<IdempotencyRecord | undefined> {
      ensureOpen();
      const record = idempotency.get(key);
      return record === undefined ? undefined : { ...record };
    },

    async getRouterResult(decisionId: string, runId: string): Promise<RouterResultRecord | undefined> {
      ensureOpen();
      const record = routerResults.get(decisionId)?.get(runId);
      return record === undefined ? undefined : { ...record };
    },

    async importDecision(request: ImportRequest): Promise<AppendResult> {
      ensureOpen();
      const { conflictMode, status, verify } = request;
      if (conflictMode !== 'reject' && conflictMode !== 'overwrite') {
        throw new NexusError('INVALID_ARGUMENT', 'conflictMode must be reject or overwrite', { conflictMode });
      }
      if (request.events.length === 0) {
        throw new NexusError('INVALID_ARGUMENT', 'an imported decision needs at least one event', {
          decisionId: request.header.decisionId,
        });
      }
      const header = frozenHeader(request.header);
      const events = request.events.map(frozenNewEvent);
      const decisionId = header.decisionId;

      const stored = await exclusive(async () => {
        ensureOpen();
        const existing = decisions.get(decisionId);
        if (existing !== undefined && conflictMode === 'reject') {
          throw new NexusError('DECISION_EXISTS', `decision ${decisionId} already exists`, { decisionId });
        }
        // Staged, not yet visible: verify sees the events as they will be stored, and if it
        // throws nothing was ever replaced, which is the backup-and-restore without a window.
        // verify must not write to this store: its write would wait for the lock held here.
        const stored = stamp(decisionId, 0, events);
        if (verify !== undefined) await verify(stored.map(copyEvent));

        if (existing === undefined) {
          addDecision(header, stored, status);
        } else {
          // The old log and what hung off it are replaced entirely; the listing row keeps its place.
          feed = feed.filter((event) => event.decisionId !== decisionId);
          routerResults.delete(decisionId);
          existing.header = header;
          existing.events = stored;
          existing.status = status;
        }
        publish(stored);
        return stored;
      });
      notify();
      return { events: stored.map(copyEvent) };
    },

    async createTemplate(template: TemplateRecord): Promise<void> {
      ensureOpen();
      const record = frozenTemplate(template);
      await exclusive(() => {
        ensureOpen();
        if (templates.has(record.name)) {
          throw new NexusError('TEMPLATE_EXISTS', `template ${record.name} already exists`, { name: record.name });
        }
        templates.set(record.name, record);
      });
    },

    async getTemplate(name: string): Promise<TemplateRecord | undefined> {
      ensureOpen();
      const record = templates.get(name);
      return record === undefined ? undefined : copyTemplate(record);
    },

    async listTemplates(): Promise<TemplateRecord[]> {
      ensureOpen();
      return [...templates.values()].sort((a, b) => compareCodePoints(a.name, b.name)).map(copyTemplate);
    },

    onAppend(listener: () => void): () => void {
      const subscription = { listener };
      listeners.add(subscription);
      return () => {
        listeners.delete(subscription);
      };
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      listeners.clear();
      // Let a write that already holds the lock finish; queued ones fail as closed.
      await exclusive(() => undefined);
    },
  };
}

/** Runs tasks one at a time in call order; a failed task does not block the next. */
function createWriteLock(): <T>(task: () => T | Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (task) => {
    const run = tail.then(task);
    tail = run.catch(() => undefined);
    return run;
  };
}

function nonNegativeInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new NexusError('INVALID_ARGUMENT', `${name} must be a non-negative integer`, { [name]: value });
  }
  return value;
}

/** Index of the first item whose key is >= bound, in an array sorted ascending by key. */
function firstIndexAtOrAbove<T>(items: readonly T[], key: (item: T) => number, bound: number): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (key(items[mid] as T) < bound) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Code point order, the order of UTF-8 bytes (and of SQL's binary collations). */
function compareCodePoints(a: string, b: string): number {
  const left = a[Symbol.iterator]();
  const right = b[Symbol.iterator]();
  for (;;) {
    const l = left.next();
    const r = right.next();
    if (l.done === true || r.done === true) return (l.done === true ? 0 : 1) - (r.done === true ? 0 : 1);
    const diff = (l.value.codePointAt(0) as number) - (r.value.codePointAt(0) as number);
    if (diff !== 0) return diff;
  }
}

function summaryOf(entry: DecisionEntry): DecisionSummary {
  const last = entry.events[entry.events.length - 1];
  return {
    ...entry.header,
    labels: [...entry.header.labels],
    status: entry.status,
    eventCount: entry.events.length,
    updatedAt: last?.ts ?? entry.header.createdAt,
  };
}

function frozenHeader(header: DecisionHeader): DecisionHeader {
  return Object.freeze({
    decisionId: header.decisionId,
    createdAt: header.createdAt,
    goal: header.goal,
    requestedMode: header.requestedMode,
    labels: Object.freeze([...header.labels]),
  });
}

function frozenNewEvent(event: NewEvent): NewEvent {
  return Object.freeze({
    type: event.type,
    ts: event.ts,
    actor: Object.freeze({ type: event.actor.type, id: event.actor.id }),
    payload: copyJson(event.payload, true) as JsonObject,
    payloadJson: event.payloadJson,
    digest: event.digest,
  });
}

function copyEvent(event: StoredEvent): StoredEvent {
  return {
    decisionId: event.decisionId,
    seq: event.seq,
    position: event.position,
    type: event.type,
    ts: event.ts,
    actor: { type: event.actor.type, id: event.actor.id },
    payload: copyJson(event.payload, false) as JsonObject,
    payloadJson: event.payloadJson,
    digest: event.digest,
  };
}

function frozenTemplate(template: TemplateRecord): TemplateRecord {
  return Object.freeze({
    name: template.name,
    snapshot: copyJson(template.snapshot, true) as JsonObject,
    digest: template.digest,
    createdAt: template.createdAt,
    createdBy: Object.freeze({ type: template.createdBy.type, id: template.createdBy.id }),
  });
}

function copyTemplate(template: TemplateRecord): TemplateRecord {
  return {
    name: template.name,
    snapshot: copyJson(template.snapshot, false) as JsonObject,
    digest: template.digest,
    createdAt: template.createdAt,
    createdBy: { type: template.createdBy.type, id: template.createdBy.id },
  };
}

/** A deep copy that keeps JSON identity (bigint, JsonFloat) and own `__proto__` keys. */
function copyJson(value: JsonValue, freeze: boolean): JsonValue {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
      return value;
    case 'object': {
      let copy: JsonValue;
      if (value instanceof JsonFloat) {
        copy = new JsonFloat(value.value);
      } else if (Array.isArray(value)) {
        copy = value.map((item) => copyJson(item, freeze));
      } else {
        const object: JsonObject = {};
        for (const key of Object.keys(value)) {
          const item = copyJson(value[key] as JsonValue, freeze);
          // Plain assignment to "__proto__" would set the prototype instead of a key.
          if (key === '__proto__') {
            Object.defineProperty(object, key, { value: item, enumerable: true, writable: true, configurable: true });
          } else {
            object[key] = item;
          }
        }
        copy = object;
      }
      if (freeze) Object.freeze(copy);
      return copy;
    }
    default:
      throw new NexusError('INVALID_ARGUMENT', `not a JSON value: ${typeof value}`);
  }
}
