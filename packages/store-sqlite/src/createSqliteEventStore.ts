import {
  assertStorableEvent,
  assertStorableHeader,
  assertStorableText,
  checkAppendRequest,
  checkImportRequest,
  checkReadEventsOptions,
  checkReadFeedOptions,
  checkLeaseOwner,
  checkLeaseTakeover,
  checkLeaseTime,
  leaseListLimit,
  canonicalJson,
  decodeDecisionCursor,
  encodeDecisionCursor,
  invalidCheckpoint,
  DECISION_EVENT_TYPES,
  NexusError,
  pageSizeOf,
  parsePayload,
  callListeners,
  storedEventOf,
  type ActorType,
  type AppendRequest,
  type AppendResult,
  type BeforeCommitHook,
  type Checkpoint,
  type DecisionEventType,
  type DecisionHeader,
  type DecisionPage,
  type DecisionStatus,
  type DecisionSummary,
  type EventStore,
  type FeedPage,
  type IdempotencyRecord,
  type ImportRequest,
  type ListDecisionsOptions,
  type Mode,
  type NewEvent,
  type ReadEventsOptions,
  type ReadFeedOptions,
  type RouterResultRecord,
  type StoredEvent,
  type TemplateRecord,
} from '@nexus-control/core';
import { checkpointOf, parseCheckpoint } from './checkpoint.js';
import { ACTOR_TYPE_CODES, EVENT_TYPE_CODES } from './createWorkerStore.js';
import { faultToError } from './faultToError.js';
import { openDatabase, type SynchronousMode } from './openDatabase.js';
import type { AppendArgs, DecisionRow, EventRow, FeedRow, TemplateRow } from './protocol.js';
import { startWorker } from './startWorker.js';
import { StoreFault } from './storeFault.js';

export interface SqliteEventStoreOptions {
  /** A database file (created when absent), or `':memory:'` for a private in-memory database. */
  readonly path: string;
  /**
   * `'full'` (default): an acknowledged write survives a power loss (the WAL is synced at
   * every commit). `'normal'`: faster; an acknowledged write survives a crash of the
   * process but may be lost with the machine (the WAL is synced at checkpoints only).
   */
  readonly synchronous?: SynchronousMode;
  /** How long a write waits for another connection's write lock before STORE_UNAVAILABLE; default 5000 ms. */
  readonly busyTimeoutMs?: number;
  /**
   * Test seam (see `BeforeCommitHook`): every append then runs in its own transaction, which
   * stays open until the hook settles. Writers on one SQLite file serialize on its write
   * lock, so another handle's append waits until this one commits.
   */
  readonly beforeCommit?: BeforeCommitHook;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5000;

if (EVENT_TYPE_CODES.some((name, i) => DECISION_EVENT_TYPES[i] !== name) || EVENT_TYPE_CODES.length !== DECISION_EVENT_TYPES.length) {
  throw new Error('the SQLite store codes event types in another order than the domain lists them');
}

function eventFromRow(decisionId: string, row: EventRow | FeedRow): StoredEvent {
  const payloadJson = row[7];
  const type = row[3];
  const actorType = row[5];
  return {
    decisionId,
    seq: row[2],
    generation: row[1],
    checkpoint: checkpointOf(row[0]),
    type: (typeof type === 'number' ? EVENT_TYPE_CODES[type] : type) as DecisionEventType,
    ts: row[4],
    actor: { type: (typeof actorType === 'number' ? ACTOR_TYPE_CODES[actorType] : actorType) as ActorType, id: row[6] },
    payload: parsePayload(payloadJson),
    payloadJson,
    digest: row[8],
  };
}

/**
 * Converts the rows, dropping each as soon as it is used so a collection during the loop
 * need not copy it. Feed rows carry their decision id; a decision's own rows do not.
 */
function eventsFromRows(rows: (EventRow | FeedRow)[], decisionId: string | undefined): StoredEvent[] {
  const n = rows.length;
  const events = new Array<StoredEvent>(n);
  for (let i = 0; i < n; i++) {
    const row = rows[i]!;
    (rows as unknown[])[i] = undefined;
    events[i] = eventFromRow(decisionId ?? (row as FeedRow)[9], row);
  }
  return events;
}

function summaryFromRow(row: DecisionRow): DecisionSummary {
  return {
    decisionId: row[1],
    createdAt: row[2],
    goal: row[3],
    requestedMode: row[4] as Mode,
    labels: JSON.parse(row[5]) as string[],
    status: row[6] as DecisionStatus,
    eventCount: row[7] + 1,
    generation: row[9],
    updatedAt: row[8],
  };
}

function templateFromRow(row: TemplateRow): TemplateRecord {
  return {
    name: row[0],
    snapshot: parsePayload(row[1]),
    digest: row[2],
    createdAt: row[3],
    createdBy: { type: row[4] as ActorType, id: row[5] },
  };
}

/** The stored events of a write: the caller's own events, with the positions the worker gave them. */
function storedEvents(
  decisionId: string,
  generation: number,
  firstSeq: number,
  positions: readonly number[],
  events: readonly NewEvent[],
): StoredEvent[] {
  const stored = new Array<StoredEvent>(events.length);
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    stored[i] = storedEventOf(event, decisionId, firstSeq + i, generation, checkpointOf(positions[i]!));
  }
  return stored;
}

/** Checks every string SQLite must hold and flattens the events to their six stored strings each. */
function eventStrings(events: readonly NewEvent[]): string[] {
  const flat = new Array<string>(events.length * 6);
  let at = 0;
  for (const event of events) {
    assertStorableEvent(event);
    flat[at++] = event.type;
    flat[at++] = event.ts;
    flat[at++] = event.actor.type;
    flat[at++] = event.actor.id;
    flat[at++] = event.payloadJson;
    flat[at++] = event.digest;
  }
  return flat;
}

function headerStrings(header: DecisionHeader): [string, string, string, string, string] {
  assertStorableHeader(header);
  return [header.decisionId, header.createdAt, header.goal, header.requestedMode, JSON.stringify(header.labels)];
}

function appendArgs(request: AppendRequest): AppendArgs {
  checkAppendRequest(request);
  const { decisionId, expectedVersion, header, status, idempotency, routerResult, lease } = request;
  const headerRow = header === undefined ? undefined : headerStrings(header);
  assertStorableText(decisionId, 'decision id');
  assertStorableText(status, 'status');
  const events = eventStrings(request.events);
  if (idempotency !== undefined) {
    assertStorableText(idempotency.key, 'idempotency key');
    assertStorableText(idempotency.fingerprint, 'idempotency fingerprint');
  }
  if (routerResult !== undefined) {
    assertStorableText(routerResult.runId, 'run id');
    assertStorableText(routerResult.responseJson, 'router response');
  }
  if (lease !== undefined && lease !== 'release') assertStorableText(lease.owner, 'lease owner');
  return {
    decisionId,
    generation: expectedVersion.generation,
    length: expectedVersion.length,
    status,
    events,
    ...(headerRow === undefined ? {} : { header: headerRow }),
    ...(idempotency === undefined ? {} : { idempotency: [idempotency.key, idempotency.fingerprint] as const }),
    ...(routerResult === undefined ? {} : { routerResult: [routerResult.runId, routerResult.responseJson] as const }),
    ...(lease === undefined ? {} : { lease: lease === 'release' ? 'release' : ([lease.owner, lease.expiresAt] as const) }),
  };
}

/**
 * An EventStore on one SQLite database (better-sqlite3, WAL mode). The connections live in a
 * worker thread, so no query, lock wait or sync of the log ever runs on the caller's event
 * loop; appends that arrive while a commit flushes are committed together. Several processes
 * may share the file: every write re-checks the expected version under the write lock.
 *
 * Opening checks the file on the calling thread first (it is ours, its schema is current or
 * is brought up to date), so a file that cannot be used fails right here.
 */
export function createSqliteEventStore(options: SqliteEventStoreOptions): EventStore {
  const location = options.path;
  const settings = {
    path: location,
    synchronous: options.synchronous ?? 'full',
    busyTimeoutMs: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
  };
  // A private in-memory database exists only in the worker: nothing to check here.
  let checked: { close(): unknown } | undefined;
  if (location !== ':memory:') {
    try {
      checked = openDatabase(settings);
    } catch (error) {
      throw error instanceof StoreFault ? faultToError(error) : error;
    }
  }
  const { beforeCommit } = options;
  let connection;
  try {
    connection = startWorker({ ...settings, hooked: beforeCommit !== undefined });
  } finally {
    // Kept open until the worker's connections are: the last connection to close syncs and removes the WAL.
    if (checked !== undefined && connection === undefined) checked.close();
  }
  const worker = connection;
  void worker.opened.then(() => checked?.close());
  const listeners = new Set<() => void>();
  let closed = false;
  let closing: Promise<void> | undefined;

  function notify(): void {
    callListeners(listeners);
  }

  function assertOpen(): void {
    if (closed) throw new NexusError('STORE_UNAVAILABLE', `${location}: the store is closed`, { location });
  }

  return {
    async append(request) {
      assertOpen();
      const args = appendArgs(request);
      const { decisionId, expectedVersion } = request;
      const positions = await worker.call('append', args, beforeCommit === undefined ? undefined : () => beforeCommit(decisionId));
      if (listeners.size > 0) notify();
      return { events: storedEvents(decisionId, expectedVersion.generation, expectedVersion.length, positions, request.events) };
    },

    async readEvents(decisionId, options: ReadEventsOptions = {}) {
      const { fromSeq, toSeq, generation } = checkReadEventsOptions(options);
      assertOpen();
      // A long log arrives in parts: each is converted (its payloads parsed) while the worker reads the next.
      const parts: StoredEvent[][] = [];
      let unreadable: { error: unknown } | undefined;
      const last = await worker.call(
        'readEvents',
        { decisionId, ...(generation === undefined ? {} : { generation }), fromSeq, toSeq: toSeq ?? Number.MAX_SAFE_INTEGER },
        undefined,
        (rows) => {
          if (unreadable !== undefined) return;
          try {
            parts.push(eventsFromRows(JSON.parse(rows) as EventRow[], decisionId));
          } catch (error) {
            unreadable = { error };
          }
        },
      );
      if (unreadable !== undefined) throw unreadable.error;
      const tail = eventsFromRows(JSON.parse(last) as EventRow[], decisionId);
      if (parts.length === 0) return tail;
      parts.push(tail);
      return parts.flat();
    },

    async getDecision(decisionId) {
      assertOpen();
      const row = await worker.call('getDecision', { decisionId });
      return row === undefined ? undefined : summaryFromRow(row);
    },

    async listDecisions(options: ListDecisionsOptions = {}): Promise<DecisionPage> {
      const limit = pageSizeOf(options.limit);
      const before = options.cursor === undefined ? undefined : decodeDecisionCursor(options.cursor);
      const { label, status } = options;
      assertOpen();
      const rows = await worker.call('listDecisions', {
        limit,
        ...(label === undefined ? {} : { label }),
        ...(status === undefined ? {} : { status }),
        ...(before === undefined ? {} : { before }),
      });
      const items = rows.slice(0, limit).map(summaryFromRow);
      const last = rows.length > limit ? rows[limit - 1] : undefined;
      return last === undefined ? { items } : { items, nextCursor: encodeDecisionCursor(last[0]) };
    },

    async readFeed(options: ReadFeedOptions = {}): Promise<FeedPage> {
      const checked = checkReadFeedOptions(options);
      const after = parseCheckpoint(checked.after);
      const { decisionId, limit } = checked;
      assertOpen();
      const page = await worker.call('readFeed', { after, limit, ...(decisionId === undefined ? {} : { decisionId }) });
      if (page === 'beyond-head') throw invalidCheckpoint(checked.after);
      const { head } = page;
      const rows = JSON.parse(page.rows) as FeedRow[];
      const lastPosition = rows.length === 0 ? after : rows[rows.length - 1]![0];
      const caughtUp = (rows.length < limit && !page.cut) || lastPosition >= head;
      const checkpoint: Checkpoint = checkpointOf(caughtUp ? head : lastPosition);
      return { events: eventsFromRows(rows, undefined), checkpoint, caughtUp };
    },

    async headCheckpoint() {
      assertOpen();
      return checkpointOf(await worker.call('head', {}));
    },

    async getIdempotency(key): Promise<IdempotencyRecord | undefined> {
      assertOpen();
      const row = await worker.call('getIdempotency', { key });
      return row === undefined ? undefined : { key: row[0], fingerprint: row[1], decisionId: row[2], generation: row[3], seq: row[4] };
    },

    async getRouterResult(decisionId, runId): Promise<RouterResultRecord | undefined> {
      assertOpen();
      const responseJson = await worker.call('getRouterResult', { decisionId, runId });
      return responseJson === undefined ? undefined : { runId, responseJson };
    },

    async importDecision(request: ImportRequest): Promise<AppendResult> {
      checkImportRequest(request);
      const { header, events, status, conflictMode, expectedVersion, verify } = request;
      const headerRow = headerStrings(header);
      assertStorableText(status, 'status');
      const flat = eventStrings(events);
      assertOpen();
      const decisionId = header.decisionId;
      const { generation, positions } = await worker.call(
        'importDecision',
        {
          header: headerRow,
          labels: header.labels,
          status,
          events: flat,
          overwrite: conflictMode !== 'reject',
          verify: verify !== undefined,
          ...(expectedVersion === undefined
            ? {}
            : { expected: { generation: expectedVersion.generation, length: expectedVersion.length } }),
        },
        // The domain's check of what was written runs here, while the worker holds the transaction open.
        verify === undefined
          ? undefined
          : async (ask) => verify(storedEvents(decisionId, ask.generation ?? 0, 0, ask.positions ?? [], events)),
      );
      if (listeners.size > 0) notify();
      return { events: storedEvents(decisionId, generation, 0, positions, events) };
    },

    async createTemplate(template: TemplateRecord) {
      assertStorableText(template.name, 'template name');
      assertStorableText(template.digest, 'template digest');
      assertStorableText(template.createdAt, 'template createdAt');
      assertStorableText(template.createdBy.type, 'template creator type');
      assertStorableText(template.createdBy.id, 'template creator id');
      const snapshot = canonicalJson(template.snapshot);
      assertStorableText(snapshot, 'template snapshot');
      assertOpen();
      await worker.call('createTemplate', {
        row: [template.name, snapshot, template.digest, template.createdAt, template.createdBy.type, template.createdBy.id],
      });
    },

    async getTemplate(name) {
      assertOpen();
      const row = await worker.call('getTemplate', { name });
      return row === undefined ? undefined : templateFromRow(row);
    },

    async listTemplates() {
      assertOpen();
      return (await worker.call('listTemplates', {})).map(templateFromRow);
    },

    async renewLease(decisionId, owner, expiresAt) {
      checkLeaseOwner(owner);
      checkLeaseTime(expiresAt, 'expiresAt');
      assertStorableText(owner, 'lease owner');
      assertOpen();
      return worker.call('renewLease', { decisionId, owner, expiresAt });
    },

    async listExpiredLeases(now, limit) {
      checkLeaseTime(now, 'now');
      const size = leaseListLimit(limit);
      assertOpen();
      const rows = await worker.call('listExpiredLeases', { now, limit: size });
      return rows.map(([decisionId, generation, requestedSeq, owner, expiresAt]) => ({
        decisionId,
        generation,
        requestedSeq,
        owner,
        expiresAt,
      }));
    },

    async takeOverLease(takeover) {
      const { decisionId, fromOwner, now, grant } = checkLeaseTakeover(takeover);
      assertStorableText(grant.owner, 'lease owner');
      assertOpen();
      return worker.call('takeOverLease', { decisionId, fromOwner, now, owner: grant.owner, expiresAt: grant.expiresAt });
    },

    async releaseLease(decisionId, owner) {
      checkLeaseOwner(owner);
      assertOpen();
      return worker.call('releaseLease', { decisionId, owner });
    },

    onAppend(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    close() {
      closed = true;
      listeners.clear();
      closing ??= worker.close().then(() => {
        checked?.close();
      });
      return closing;
    },
  };
}
