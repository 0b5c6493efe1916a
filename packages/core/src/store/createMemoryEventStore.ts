import { NexusError } from '../errors/NexusError.js';
import type { NewEvent, StoredEvent } from '../events/DecisionEvent.js';
import { copyJson } from '../json/copyJson.js';
import type { JsonObject } from '../json/JsonValue.js';
import { compareCodePoints } from '../json/unicode.js';
import { callListeners } from './callListeners.js';
import { checkImportRequest } from './checkImportRequest.js';
import { checkLeaseGrant, checkLeaseOwner, checkLeaseTakeover, checkLeaseTime, leaseListLimit } from './checkLease.js';
import { checkReadEventsOptions } from './checkReadEventsOptions.js';
import { checkReadFeedOptions, invalidCheckpoint } from './checkReadFeedOptions.js';
import { copyNewEvent, copyStoredEvent } from './copyStoredEvent.js';
import { createMemoryDatabase, memoryStateOf, type MemoryDatabase, type MemoryDecision, type MemoryState } from './createMemoryDatabase.js';
import { decodeDecisionCursor, encodeDecisionCursor, pageSizeOf } from './decisionCursor.js';
import {
  FEED_START,
  type AppendRequest,
  type AppendResult,
  type BeforeCommitHook,
  type Checkpoint,
  type DecisionHeader,
  type DecisionPage,
  type DecisionStatus,
  type DecisionSummary,
  type EventStore,
  type ExecutionLease,
  type LeaseTakeover,
  type FeedPage,
  type IdempotencyRecord,
  type ImportRequest,
  type ListDecisionsOptions,
  type ReadEventsOptions,
  type ReadFeedOptions,
  type RouterResultRecord,
  type TemplateRecord,
} from './EventStore.js';
import { assertExpectedVersion, checkAppendRequest, NEW_DECISION, type LogVersion } from './expectedVersion.js';

export interface MemoryEventStoreOptions {
  /** The data to open a handle on; default a new, empty database of its own. */
  readonly database?: MemoryDatabase;
  /** Test seam: awaited by each append after its checks, right before its commit (see `BeforeCommitHook`). */
  readonly beforeCommit?: BeforeCommitHook;
}

/**
 * The reference EventStore: everything in memory, for tests, embedding and as the executable
 * reading of the contract. Stored data is deep-copied and frozen on the way in and copied on
 * the way out, so no caller can reach into it.
 *
 * Concurrency is optimistic, as on a database: an append checks the log version when it
 * starts and again in its commit section, so appends to different decisions proceed in
 * parallel (one may wait in `beforeCommit` while others commit), and the later of two racing
 * appends to one decision gets a conflict. Commit sections are synchronous except an import's
 * `verify`, and feed positions are taken inside them, so positions follow commit order and the
 * head (the last position) is a stable watermark. A checkpoint is the decimal feed position.
 */
export function createMemoryEventStore(options: MemoryEventStoreOptions = {}): EventStore {
  const state = memoryStateOf(options.database ?? createMemoryDatabase());
  const { decisions, listing, feed, idempotency, routerResults, templates, leases } = state;
  const beforeCommit = options.beforeCommit;
  const subscriptions = new Set<{ readonly listener: () => void }>();
  const inFlight = new Set<Promise<unknown>>();
  let closed = false;

  function ensureOpen(): void {
    if (closed) throw new NexusError('STORE_UNAVAILABLE', 'the event store is closed');
  }

  /** Keeps a write's promise until it settles, so `close` can wait for it. */
  async function tracked<T>(work: Promise<T>): Promise<T> {
    inFlight.add(work);
    try {
      return await work;
    } finally {
      inFlight.delete(work);
    }
  }

  function notify(): void {
    callListeners([...state.listeners].map(({ listener }) => listener));
  }

  function headCheckpointNow(): Checkpoint {
    return feed.length === 0 ? FEED_START : String(feed.length);
  }

  /** The feed position a checkpoint stands for; only tokens this database could have handed out. */
  function positionOf(checkpoint: Checkpoint): number {
    if (checkpoint === FEED_START) return 0;
    if (!/^[1-9][0-9]{0,15}$/.test(checkpoint)) throw invalidCheckpoint(checkpoint);
    const position = Number(checkpoint);
    if (position > feed.length) throw invalidCheckpoint(checkpoint);
    return position;
  }

  /** The checks an append must pass against the stored state, both when it starts and at its commit. */
  function checkAgainstState(
    decisionId: string,
    expectedVersion: LogVersion,
    creating: boolean,
    key: string | undefined,
  ): MemoryDecision | undefined {
    if (key !== undefined && idempotency.has(key)) {
      throw new NexusError('IDEMPOTENCY_KEY_REUSED', 'the idempotency key was used before', { key });
    }
    const entry = decisions.get(decisionId);
    if (creating && entry !== undefined) {
      throw new NexusError('DECISION_EXISTS', `decision ${decisionId} already exists`, { decisionId });
    }
    if (!creating && entry === undefined) {
      throw new NexusError('DECISION_NOT_FOUND', `decision ${decisionId} does not exist`, { decisionId });
    }
    assertExpectedVersion(decisionId, expectedVersion, versionOf(entry));
    return entry;
  }

  /** Stamps events with their place: called inside a commit section only. */
  function stamp(decisionId: string, generation: number, firstSeq: number, events: readonly NewEvent[]): StoredEvent[] {
    const first = feed.length + 1;
    return events.map((event, i) => Object.freeze({ decisionId, seq: firstSeq + i, generation, checkpoint: String(first + i), ...event }));
  }

  /** Makes stamped events visible: in the feed, the decision's feed and (by the caller) its log. */
  function publish(entry: MemoryDecision, stored: readonly StoredEvent[]): void {
    for (const event of stored) {
      feed.push(event);
      entry.feed.push(event);
      entry.feedPositions.push(feed.length);
    }
  }

  function addDecision(header: DecisionHeader, status: DecisionStatus): MemoryDecision {
    const entry: MemoryDecision = {
      listPosition: ++state.lastListPosition,
      header,
      logs: [[]],
      feed: [],
      feedPositions: [],
      status,
    };
    decisions.set(header.decisionId, entry);
    listing.push(entry);
    return entry;
  }

  return {
    async append(request: AppendRequest): Promise<AppendResult> {
      ensureOpen();
      checkAppendRequest(request);
      // Snapshot the input now: the caller may change its objects while this append waits.
      const { decisionId, status } = request;
      const expectedVersion: LogVersion = { generation: request.expectedVersion.generation, length: request.expectedVersion.length };
      const events = request.events.map((event) => copyNewEvent(event, true));
      const header = request.header === undefined ? undefined : frozenHeader(request.header);
      const idem = request.idempotency === undefined ? undefined : { ...request.idempotency };
      const routerResult = request.routerResult === undefined ? undefined : Object.freeze({ ...request.routerResult });
      const lease = request.lease === undefined ? undefined : checkLeaseGrant(request.lease);
      const creating = header !== undefined;

      const stored = await tracked(
        (async () => {
          checkAgainstState(decisionId, expectedVersion, creating, idem?.key);
          if (beforeCommit !== undefined) await beforeCommit(decisionId);
          return state.commitSection(() => {
            // Anything may have committed while this append waited: check again, then commit.
            const existing = checkAgainstState(decisionId, expectedVersion, creating, idem?.key);
            const entry = existing ?? addDecision(header as DecisionHeader, status);
            const log = entry.logs[entry.logs.length - 1] as StoredEvent[];
            const stored = stamp(decisionId, entry.logs.length - 1, expectedVersion.length, events);
            publish(entry, stored);
            for (const event of stored) log.push(event);
            entry.status = status;
            if (idem !== undefined) {
              idempotency.set(
                idem.key,
                Object.freeze({
                  key: idem.key,
                  fingerprint: idem.fingerprint,
                  decisionId,
                  generation: entry.logs.length - 1,
                  seq: expectedVersion.length,
                }),
              );
            }
            if (routerResult !== undefined) {
              let runs = routerResults.get(decisionId);
              if (runs === undefined) routerResults.set(decisionId, (runs = new Map()));
              runs.set(routerResult.runId, routerResult);
            }
            if (lease === 'release') leases.delete(decisionId);
            else if (lease !== undefined) {
              leases.set(
                decisionId,
                Object.freeze({ decisionId, generation: expectedVersion.generation, requestedSeq: expectedVersion.length, ...lease }),
              );
            }
            return stored;
          });
        })(),
      );
      notify();
      return { events: stored.map((event) => copyStoredEvent(event)) };
    },

    async readEvents(decisionId: string, readOptions?: ReadEventsOptions): Promise<StoredEvent[]> {
      ensureOpen();
      const { fromSeq, toSeq, generation } = checkReadEventsOptions(readOptions);
      const entry = decisions.get(decisionId);
      if (entry === undefined) return [];
      const log = entry.logs[generation ?? entry.logs.length - 1] ?? [];
      return log.slice(fromSeq, toSeq === undefined ? undefined : toSeq + 1).map((event) => copyStoredEvent(event));
    },

    async getDecision(decisionId: string): Promise<DecisionSummary | undefined> {
      ensureOpen();
      const entry = decisions.get(decisionId);
      return entry === undefined ? undefined : summaryOf(entry);
    },

    async listDecisions(listOptions: ListDecisionsOptions = {}): Promise<DecisionPage> {
      ensureOpen();
      const size = pageSizeOf(listOptions.limit);
      const before = listOptions.cursor === undefined ? Number.POSITIVE_INFINITY : decodeDecisionCursor(listOptions.cursor);
      const { label, status } = listOptions;
      const page: MemoryDecision[] = [];
      let more = false;
      for (let i = firstIndexAtOrAbove(listing, (e) => e.listPosition, before) - 1; i >= 0; i--) {
        const entry = listing[i] as MemoryDecision;
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

    async readFeed(feedOptions?: ReadFeedOptions): Promise<FeedPage> {
      ensureOpen();
      const { after, decisionId, limit } = checkReadFeedOptions(feedOptions);
      const afterPosition = positionOf(after);
      let events: StoredEvent[];
      let caughtUp: boolean;
      if (decisionId === undefined) {
        events = feed.slice(afterPosition, afterPosition + limit);
        caughtUp = afterPosition + limit >= feed.length;
      } else {
        const entry = decisions.get(decisionId);
        const positions = entry?.feedPositions ?? [];
        const start = firstIndexAtOrAbove(positions, (p) => p, afterPosition + 1);
        events = (entry?.feed ?? []).slice(start, start + limit);
        caughtUp = start + limit >= positions.length;
      }
      const last = events[events.length - 1];
      // Everything up to the head has been read (or filtered out): the head is where to resume.
      const checkpoint = caughtUp ? headCheckpointNow() : (last as StoredEvent).checkpoint;
      return { events: events.map((event) => copyStoredEvent(event)), checkpoint, caughtUp };
    },

    async headCheckpoint(): Promise<Checkpoint> {
      ensureOpen();
      return headCheckpointNow();
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
      checkImportRequest(request);
      const { conflictMode, status, verify } = request;
      const header = frozenHeader(request.header);
      const events = request.events.map((event) => copyNewEvent(event, true));
      const expectedVersion = request.expectedVersion === undefined ? undefined : { ...request.expectedVersion };
      const decisionId = header.decisionId;

      const stored = await tracked(
        state.commitSection(async () => {
          const existing = decisions.get(decisionId);
          if (existing !== undefined && conflictMode === 'reject') {
            throw new NexusError('DECISION_EXISTS', `decision ${decisionId} already exists`, { decisionId });
          }
          if (expectedVersion !== undefined) assertExpectedVersion(decisionId, expectedVersion, versionOf(existing));
          // Staged, not yet visible: verify sees the events as they will be stored, and if it
          // throws nothing was replaced. It must not write to this store: its write would wait
          // for this commit section.
          const generation = existing === undefined ? 0 : existing.logs.length;
          const stored = stamp(decisionId, generation, 0, events);
          if (verify !== undefined) await verify(stored.map((event) => copyStoredEvent(event)));

          const entry = existing ?? addDecision(header, status);
          publish(entry, stored);
          if (existing === undefined) {
            entry.logs[0] = stored;
          } else {
            // The replaced log stays, superseded; the listing row keeps its place.
            entry.logs.push(stored);
            entry.header = header;
            entry.status = status;
            leases.delete(decisionId);
          }
          return stored;
        }),
      );
      notify();
      return { events: stored.map((event) => copyStoredEvent(event)) };
    },

    async createTemplate(template: TemplateRecord): Promise<void> {
      ensureOpen();
      const record = frozenTemplate(template);
      if (templates.has(record.name)) {
        throw new NexusError('TEMPLATE_EXISTS', `template ${record.name} already exists`, { name: record.name });
      }
      templates.set(record.name, record);
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

    async renewLease(decisionId: string, owner: string, expiresAt: number): Promise<boolean> {
      ensureOpen();
      checkLeaseOwner(owner);
      checkLeaseTime(expiresAt, 'expiresAt');
      return state.commitSection(() => {
        const lease = leases.get(decisionId);
        if (lease === undefined || lease.owner !== owner) return false;
        leases.set(decisionId, Object.freeze({ ...lease, expiresAt }));
        return true;
      });
    },

    async listExpiredLeases(now: number, limit?: number): Promise<ExecutionLease[]> {
      ensureOpen();
      checkLeaseTime(now, 'now');
      const size = leaseListLimit(limit);
      return [...leases.values()]
        .filter((lease) => lease.expiresAt <= now)
        .sort((a, b) => a.expiresAt - b.expiresAt || compareCodePoints(a.decisionId, b.decisionId))
        .slice(0, size)
        .map((lease) => ({ ...lease }));
    },

    async takeOverLease(takeover: LeaseTakeover): Promise<boolean> {
      ensureOpen();
      const { decisionId, fromOwner, now, grant } = checkLeaseTakeover(takeover);
      return state.commitSection(() => {
        const lease = leases.get(decisionId);
        if (lease === undefined || lease.owner !== fromOwner || lease.expiresAt > now) return false;
        leases.set(decisionId, Object.freeze({ ...lease, owner: grant.owner, expiresAt: grant.expiresAt }));
        return true;
      });
    },

    async releaseLease(decisionId: string, owner: string): Promise<boolean> {
      ensureOpen();
      checkLeaseOwner(owner);
      return state.commitSection(() => {
        const lease = leases.get(decisionId);
        if (lease === undefined || lease.owner !== owner) return false;
        leases.delete(decisionId);
        return true;
      });
    },

    onAppend(listener: () => void): () => void {
      const subscription = { listener };
      subscriptions.add(subscription);
      state.listeners.add(subscription);
      return () => {
        subscriptions.delete(subscription);
        state.listeners.delete(subscription);
      };
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      for (const subscription of subscriptions) state.listeners.delete(subscription);
      subscriptions.clear();
      // Let the writes already under way finish (or fail) before the handle counts as closed.
      await Promise.allSettled([...inFlight]);
    },
  };
}

function versionOf(entry: MemoryDecision | undefined): LogVersion {
  if (entry === undefined) return NEW_DECISION;
  return { generation: entry.logs.length - 1, length: (entry.logs[entry.logs.length - 1] as StoredEvent[]).length };
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

function summaryOf(entry: MemoryDecision): DecisionSummary {
  const log = entry.logs[entry.logs.length - 1] as StoredEvent[];
  const last = log[log.length - 1];
  return {
    ...entry.header,
    labels: [...entry.header.labels],
    status: entry.status,
    eventCount: log.length,
    generation: entry.logs.length - 1,
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
