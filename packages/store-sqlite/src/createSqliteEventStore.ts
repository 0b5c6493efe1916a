import type Database from 'better-sqlite3';
import {
  assertExpectedVersion,
  ConcurrencyConflictError,
  DECISION_EVENT_TYPES,
  NexusError,
  parsePayload,
  canonicalJson,
  checkAppendRequest,
  checkImportRequest,
  checkLeaseOwner,
  checkLeaseTakeover,
  checkLeaseTime,
  leaseListLimit,
  checkReadEventsOptions,
  checkReadFeedOptions,
  decodeDecisionCursor,
  encodeDecisionCursor,
  invalidCheckpoint,
  pageSizeOf,
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
  type LogVersion,
  type Mode,
  type NewEvent,
  type ReadEventsOptions,
  type ReadFeedOptions,
  type RouterResultRecord,
  type StoredEvent,
  type TemplateRecord,
} from '@nexus-control/core';
import { checkpointOf, parseCheckpoint } from './checkpoint.js';
import { createExclusiveGate } from './exclusiveGate.js';
import { createLeaseStatements } from './leaseStatements.js';
import { openDatabase, type SynchronousMode } from './openDatabase.js';
import { isUniqueViolation, toStoreError } from './sqliteErrors.js';
import { assertStorableText } from './storedText.js';

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
   * Test seam (see `BeforeCommitHook`): every append then runs as an asynchronous transaction
   * that awaits it right before its commit. Writers on one SQLite file serialize on its write
   * lock, so another connection's append waits (blocking its thread) until this one commits.
   */
  readonly beforeCommit?: BeforeCommitHook;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5000;

type EventRow = [
  position: number,
  generation: number,
  seq: number,
  /** Index into DECISION_EVENT_TYPES, or the stored text of an unknown type. */
  type: number | string,
  ts: string,
  /** Index into ACTOR_TYPES, or the stored text of an unknown actor type. */
  actorType: number | string,
  actorId: string,
  payload: string,
  digest: string,
];
const DIGEST = 8;
const DECISION_ID = 9;
type FeedRow = [...EventRow, decisionId: string];

/** A header joined with its decision's last event, which carries the status, count and update time. */
const SUMMARY_SELECT =
  'SELECT d.list_position, d.decision_id, d.created_at, d.goal, d.requested_mode, d.labels, e.status, e.seq, e.ts, e.generation';
// The newest generation is the current log, so its last event is the decision's last event.
const LAST_EVENT_JOIN =
  'JOIN events e ON e.position = (SELECT position FROM events WHERE decision_id = d.decision_id ORDER BY generation DESC, seq DESC LIMIT 1)';
type DecisionRow = [
  listPosition: number,
  decisionId: string,
  createdAt: string,
  goal: string,
  requestedMode: string,
  labels: string,
  status: string,
  lastSeq: number,
  updatedAt: string,
  generation: number,
];

/*
 * Reading a long log allocates a lot, and what survives young-generation collections costs
 * copying. The read statements hand back event and actor types as small integers for the
 * known names (no fresh string per row from the driver); they are swapped for one shared
 * string each. An unknown name still comes back as its text.
 */
const ACTOR_TYPES = ['human', 'system'] as const;
const codeOf = (column: string, names: readonly string[]): string =>
  `CASE ${column} ${names.map((name, i) => `WHEN '${name}' THEN ${i}`).join(' ')} ELSE ${column} END`;
const EVENT_READ_COLUMNS =
  `position, generation, seq, ${codeOf('type', DECISION_EVENT_TYPES)}, ts, ` +
  `${codeOf('actor_type', ACTOR_TYPES)}, actor_id, payload, digest`;

function eventFromRow(decisionId: string, row: EventRow | FeedRow): StoredEvent {
  const payloadJson = row[7];
  const type = row[3];
  const actorType = row[5];
  return {
    decisionId,
    seq: row[2],
    generation: row[1],
    checkpoint: checkpointOf(row[0]),
    type: (typeof type === 'number' ? DECISION_EVENT_TYPES[type] : type) as DecisionEventType,
    ts: row[4],
    actor: { type: (typeof actorType === 'number' ? ACTOR_TYPES[actorType] : actorType) as ActorType, id: row[6] },
    payload: parsePayload(payloadJson),
    payloadJson,
    digest: row[DIGEST],
  };
}

/**
 * Converts the driver's rows, dropping each as soon as it is used so a collection during the
 * loop need not copy it. Feed rows carry their decision id; a decision's own rows do not.
 */
function eventsFromRows(rows: (EventRow | FeedRow)[], decisionId: string | undefined): StoredEvent[] {
  const n = rows.length;
  const events = new Array<StoredEvent>(n);
  for (let i = 0; i < n; i++) {
    const row = rows[i]!;
    (rows as unknown[])[i] = undefined;
    events[i] = eventFromRow(decisionId ?? (row as FeedRow)[DECISION_ID], row);
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

function storedEvent(decisionId: string, generation: number, seq: number, position: number, event: NewEvent): StoredEvent {
  return {
    decisionId,
    seq,
    generation,
    checkpoint: checkpointOf(position),
    type: event.type,
    ts: event.ts,
    actor: { type: event.actor.type, id: event.actor.id },
    payload: event.payload,
    payloadJson: event.payloadJson,
    digest: event.digest,
  };
}

function checkEvents(events: readonly NewEvent[]): void {
  for (const event of events) {
    assertStorableText(event.type, 'event type');
    assertStorableText(event.ts, 'event ts');
    assertStorableText(event.actor.type, 'actor type');
    assertStorableText(event.actor.id, 'actor id');
    assertStorableText(event.payloadJson, 'event payload');
    assertStorableText(event.digest, 'event digest');
  }
}

function checkHeader(header: DecisionHeader): void {
  assertStorableText(header.decisionId, 'decision id');
  assertStorableText(header.createdAt, 'createdAt');
  assertStorableText(header.goal, 'goal');
  assertStorableText(header.requestedMode, 'requestedMode');
  for (const label of header.labels) assertStorableText(label, 'label');
}

/**
 * An EventStore on one SQLite database (better-sqlite3, WAL mode). Several processes may
 * share the file: every write is one `BEGIN IMMEDIATE` transaction that re-checks the
 * expected seq under the write lock.
 */
export function createSqliteEventStore(options: SqliteEventStoreOptions): EventStore {
  const location = options.path;
  const db = openDatabase({
    path: options.path,
    synchronous: options.synchronous ?? 'full',
    busyTimeoutMs: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
  });
  const gate = createExclusiveGate();
  const listeners = new Set<() => void>();
  let closed = false;

  const statement = (sql: string) => db.prepare(sql);
  const sql = {
    // The newest generation is the current log; its highest seq is the log's last event.
    version: statement(
      'SELECT generation, seq FROM events WHERE decision_id = ? ORDER BY generation DESC, seq DESC LIMIT 1',
    ).raw(),
    insertDecision: statement(
      'INSERT INTO decisions (decision_id, created_at, goal, requested_mode, labels) VALUES (?, ?, ?, ?, ?)',
    ),
    insertLabel: statement('INSERT OR IGNORE INTO decision_labels (label, list_position) VALUES (?, ?)'),
    insertEvent: statement(
      'INSERT INTO events (decision_id, generation, seq, type, ts, actor_type, actor_id, payload, digest, status) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    insertIdempotency: statement(
      'INSERT INTO idempotency_keys (key, fingerprint, decision_id, generation, seq) VALUES (?, ?, ?, ?, ?)',
    ),
    upsertRouterResult: statement(
      'INSERT INTO router_results (decision_id, generation, run_id, response_json) VALUES (?, ?, ?, ?) ' +
        'ON CONFLICT (decision_id, generation, run_id) DO UPDATE SET response_json = excluded.response_json',
    ),
    readCurrent: statement(
      `SELECT ${EVENT_READ_COLUMNS} FROM events WHERE decision_id = ? ` +
        'AND generation = (SELECT generation FROM decisions WHERE decision_id = ?) AND seq BETWEEN ? AND ? ORDER BY seq',
    ).raw(),
    readGeneration: statement(
      `SELECT ${EVENT_READ_COLUMNS} FROM events WHERE decision_id = ? AND generation = ? AND seq BETWEEN ? AND ? ORDER BY seq`,
    ).raw(),
    feedAll: statement(
      `SELECT ${EVENT_READ_COLUMNS}, decision_id FROM events WHERE position > ? AND position <= ? ORDER BY position LIMIT ?`,
    ).raw(),
    // Within one decision positions grow with (generation, seq), so its unique index serves this in order.
    feedOne: statement(
      `SELECT ${EVENT_READ_COLUMNS}, decision_id FROM events ` +
        'WHERE decision_id = ? AND position > ? AND position <= ? ORDER BY generation, seq LIMIT ?',
    ).raw(),
    head: statement('SELECT MAX(position) FROM events').pluck(),
    getDecision: statement(`${SUMMARY_SELECT} FROM decisions d ${LAST_EVENT_JOIN} WHERE d.decision_id = ?`).raw(),
    getIdempotency: statement(
      'SELECT key, fingerprint, decision_id, generation, seq FROM idempotency_keys WHERE key = ?',
    ).raw(),
    getRouterResult: statement(
      'SELECT response_json FROM router_results WHERE decision_id = ? AND run_id = ? ' +
        'AND generation = (SELECT generation FROM decisions WHERE decision_id = ?)',
    ).pluck(),
    insertTemplate: statement(
      'INSERT INTO templates (name, snapshot, digest, created_at, created_by_type, created_by_id) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    getTemplate: statement(
      'SELECT name, snapshot, digest, created_at, created_by_type, created_by_id FROM templates WHERE name = ?',
    ).raw(),
    listTemplates: statement(
      'SELECT name, snapshot, digest, created_at, created_by_type, created_by_id FROM templates ORDER BY name',
    ).raw(),
    importTarget: statement('SELECT list_position, labels FROM decisions WHERE decision_id = ?').raw(),
    replaceDecision: statement(
      'UPDATE decisions SET created_at = ?, goal = ?, requested_mode = ?, labels = ?, generation = ? WHERE list_position = ?',
    ),
    deleteLabel: statement('DELETE FROM decision_labels WHERE label = ? AND list_position = ?'),
    begin: statement('BEGIN IMMEDIATE'),
    commit: statement('COMMIT'),
    rollback: statement('ROLLBACK'),
  };
  const listingStatements = new Map<string, Database.Statement>();
  const leases = createLeaseStatements(db);

  function readStored(decisionId: string, generation: number | undefined, fromSeq: number, toSeq: number | undefined): StoredEvent[] {
    const last = toSeq ?? Number.MAX_SAFE_INTEGER;
    const rows = (
      generation === undefined
        ? sql.readCurrent.all(decisionId, decisionId, fromSeq, last)
        : sql.readGeneration.all(decisionId, generation, fromSeq, last)
    ) as EventRow[];
    return eventsFromRows(rows, decisionId);
  }

  function currentVersion(decisionId: string): LogVersion | undefined {
    const row = sql.version.get(decisionId) as [number, number] | undefined;
    return row === undefined ? undefined : { generation: row[0], length: row[1] + 1 };
  }

  function insertHeader(header: DecisionHeader): number {
    let listPosition: number;
    try {
      listPosition = Number(
        sql.insertDecision.run(
          header.decisionId,
          header.createdAt,
          header.goal,
          header.requestedMode,
          JSON.stringify(header.labels),
        ).lastInsertRowid,
      );
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new NexusError('DECISION_EXISTS', `decision ${header.decisionId} already exists`, {
          decisionId: header.decisionId,
        });
      }
      throw error;
    }
    for (const label of header.labels) sql.insertLabel.run(label, listPosition);
    return listPosition;
  }

  function insertEvents(
    decisionId: string,
    generation: number,
    firstSeq: number,
    events: readonly NewEvent[],
    status: DecisionStatus,
  ): StoredEvent[] {
    const stored = new Array<StoredEvent>(events.length);
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const seq = firstSeq + i;
      let position: number;
      try {
        position = Number(
          sql.insertEvent.run(
            decisionId,
            generation,
            seq,
            event.type,
            event.ts,
            event.actor.type,
            event.actor.id,
            event.payloadJson,
            event.digest,
            status,
          ).lastInsertRowid,
        );
      } catch (error) {
        // Unreachable while the version check holds the write lock; still a lost race, never a raw error.
        if (isUniqueViolation(error)) {
          throw new ConcurrencyConflictError(decisionId, { generation, length: firstSeq }, undefined);
        }
        throw error;
      }
      stored[i] = storedEvent(decisionId, generation, seq, position, event);
    }
    return stored;
  }

  /**
   * The writes of one append, run under the write lock so the check and the inserts see and
   * change the same state. The idempotency key goes first: a key that exists fails the append
   * as IDEMPOTENCY_KEY_REUSED whatever else is wrong with it.
   */
  function writeAppend(request: AppendRequest): StoredEvent[] {
    const { decisionId, expectedVersion, events, header, status, idempotency, routerResult } = request;
    if (idempotency !== undefined) {
      // The store records the log it appends to: the one the writer expected (checked below).
      try {
        sql.insertIdempotency.run(
          idempotency.key,
          idempotency.fingerprint,
          decisionId,
          expectedVersion.generation,
          expectedVersion.length,
        );
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw new NexusError('IDEMPOTENCY_KEY_REUSED', 'this idempotency key was used already', {
            idempotencyKey: idempotency.key,
          });
        }
        throw error;
      }
    }
    if (header !== undefined) {
      insertHeader(header);
    } else {
      // Every log has at least one event, so no version means no decision.
      const actual = currentVersion(decisionId);
      if (actual === undefined) {
        throw new NexusError('DECISION_NOT_FOUND', `decision ${decisionId} does not exist`, { decisionId });
      }
      assertExpectedVersion(decisionId, expectedVersion, actual);
    }
    const stored = insertEvents(decisionId, expectedVersion.generation, expectedVersion.length, events, status);
    if (routerResult !== undefined) {
      sql.upsertRouterResult.run(decisionId, expectedVersion.generation, routerResult.runId, routerResult.responseJson);
    }
    if (request.lease !== undefined) leases.applyInAppend(decisionId, expectedVersion.generation, expectedVersion.length, request.lease);
    return stored;
  }
  const appendInTransaction = db.transaction(writeAppend);

  function notify(): void {
    for (const listener of listeners) {
      try {
        listener();
      } catch {
        // A listener's failure is its own; the append has committed.
      }
    }
  }

  function assertOpen(): void {
    if (closed) throw new NexusError('STORE_UNAVAILABLE', `${location}: the store is closed`, { location });
  }

  /** Runs synchronous work on the connection once no asynchronous transaction holds it, mapping driver errors. */
  async function run<T>(work: () => T): Promise<T> {
    if (gate.isOpen) await gate.whenClear();
    assertOpen();
    try {
      return work();
    } catch (error) {
      throw toStoreError(error, location);
    }
  }

  /** A write transaction that may await (an import's `verify`, the `beforeCommit` seam); the gate keeps other calls out. */
  function asyncTransaction<T>(work: () => Promise<T>): Promise<T> {
    return gate.exclusive(async () => {
      assertOpen();
      try {
        sql.begin.run();
      } catch (error) {
        throw toStoreError(error, location);
      }
      try {
        const result = await work();
        sql.commit.run();
        return result;
      } catch (error) {
        if (db.inTransaction) sql.rollback.run();
        throw toStoreError(error, location);
      }
    });
  }

  const { beforeCommit } = options;

  return {
    async append(request) {
      checkAppendRequest(request);
      if (request.header !== undefined) checkHeader(request.header);
      assertStorableText(request.decisionId, 'decision id');
      assertStorableText(request.status, 'status');
      checkEvents(request.events);
      if (request.idempotency !== undefined) {
        assertStorableText(request.idempotency.key, 'idempotency key');
        assertStorableText(request.idempotency.fingerprint, 'idempotency fingerprint');
      }
      if (request.routerResult !== undefined) {
        assertStorableText(request.routerResult.runId, 'run id');
        assertStorableText(request.routerResult.responseJson, 'router response');
      }
      let events: StoredEvent[];
      if (beforeCommit !== undefined) {
        events = await asyncTransaction(async () => {
          const stored = writeAppend(request);
          await beforeCommit(request.decisionId);
          return stored;
        });
      } else {
        // Inlined rather than through run(): one promise less on the hottest path.
        if (gate.isOpen) await gate.whenClear();
        assertOpen();
        try {
          events = appendInTransaction.immediate(request);
        } catch (error) {
          throw toStoreError(error, location);
        }
      }
      if (listeners.size > 0) notify();
      return { events };
    },

    async readEvents(decisionId, options: ReadEventsOptions = {}) {
      const { fromSeq, toSeq, generation } = checkReadEventsOptions(options);
      return run(() => readStored(decisionId, generation, fromSeq, toSeq));
    },

    async getDecision(decisionId) {
      return run(() => {
        const row = sql.getDecision.get(decisionId) as DecisionRow | undefined;
        return row === undefined ? undefined : summaryFromRow(row);
      });
    },

    async listDecisions(options: ListDecisionsOptions = {}): Promise<DecisionPage> {
      const limit = pageSizeOf(options.limit);
      const before = options.cursor === undefined ? undefined : decodeDecisionCursor(options.cursor);
      const { label, status } = options;
      return run(() => {
        const key = `${label === undefined ? '' : 'l'}${status === undefined ? '' : 's'}${before === undefined ? '' : 'c'}`;
        let listing = listingStatements.get(key);
        if (listing === undefined) {
          const order = label === undefined ? 'd.list_position' : 'l.list_position';
          const conditions: string[] = [];
          if (label !== undefined) conditions.push('l.label = @label');
          // Without an index on the current status, a status filter walks the listing newest
          // first and checks each decision's last event (one index seek each) until the page is full.
          if (status !== undefined) conditions.push('e.status = @status');
          if (before !== undefined) conditions.push(`${order} < @before`);
          listing = db
            .prepare(
              `${SUMMARY_SELECT} FROM ` +
                (label === undefined
                  ? 'decisions d'
                  : 'decision_labels l JOIN decisions d ON d.list_position = l.list_position') +
                ` ${LAST_EVENT_JOIN}` +
                (conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`) +
                ` ORDER BY ${order} DESC LIMIT @limit`,
            )
            .raw();
          listingStatements.set(key, listing);
        }
        const parameters: Record<string, unknown> = { limit: limit + 1 };
        if (label !== undefined) parameters.label = label;
        if (status !== undefined) parameters.status = status;
        if (before !== undefined) parameters.before = before;
        const rows = listing.all(parameters) as DecisionRow[];
        const items = rows.slice(0, limit).map(summaryFromRow);
        const last = rows.length > limit ? rows[limit - 1] : undefined;
        return last === undefined ? { items } : { items, nextCursor: encodeDecisionCursor(last[0]) };
      });
    },

    async readFeed(options: ReadFeedOptions = {}): Promise<FeedPage> {
      const checked = checkReadFeedOptions(options);
      const after = parseCheckpoint(checked.after);
      const { decisionId, limit } = checked;
      return run((): FeedPage => {
        // The head first, then only events at or below it: writers commit one at a time in
        // position order, so everything up to the head is visible and the page's checkpoint
        // covers exactly what was read, whatever commits in between.
        const head = (sql.head.get() as number | null) ?? 0;
        // Positions are never taken back, so a position above the head was never issued here.
        if (after > head) throw invalidCheckpoint(checked.after);
        const rows = (
          decisionId === undefined
            ? sql.feedAll.all(after, head, limit)
            : sql.feedOne.all(decisionId, after, head, limit)
        ) as FeedRow[];
        const lastPosition = rows.length === 0 ? after : rows[rows.length - 1]![0];
        const caughtUp = rows.length < limit || lastPosition >= head;
        const checkpoint: Checkpoint = checkpointOf(caughtUp ? head : lastPosition);
        return { events: eventsFromRows(rows, undefined), checkpoint, caughtUp };
      });
    },

    async headCheckpoint() {
      return run(() => checkpointOf((sql.head.get() as number | null) ?? 0));
    },

    async getIdempotency(key) {
      return run((): IdempotencyRecord | undefined => {
        const row = sql.getIdempotency.get(key) as [string, string, string, number, number] | undefined;
        return row === undefined
          ? undefined
          : { key: row[0], fingerprint: row[1], decisionId: row[2], generation: row[3], seq: row[4] };
      });
    },

    async getRouterResult(decisionId, runId) {
      return run((): RouterResultRecord | undefined => {
        const responseJson = sql.getRouterResult.get(decisionId, runId, decisionId) as string | undefined;
        return responseJson === undefined ? undefined : { runId, responseJson };
      });
    },

    async importDecision(request: ImportRequest): Promise<AppendResult> {
      checkImportRequest(request);
      const { header, events, status, conflictMode, expectedVersion, verify } = request;
      checkHeader(header);
      assertStorableText(status, 'status');
      checkEvents(events);
      const decisionId = header.decisionId;
      const stored = await asyncTransaction(async () => {
        const existing = sql.importTarget.get(decisionId) as [number, string] | undefined;
        let generation = 0;
        if (existing === undefined) {
          if (expectedVersion !== undefined) {
            throw new ConcurrencyConflictError(decisionId, expectedVersion, undefined);
          }
          insertHeader(header);
        } else if (conflictMode === 'reject') {
          throw new NexusError('DECISION_EXISTS', `decision ${decisionId} already exists`, { decisionId });
        } else {
          const actual = currentVersion(decisionId)!;
          if (expectedVersion !== undefined) assertExpectedVersion(decisionId, expectedVersion, actual);
          // The replaced log stays as it is, superseded; the listing row keeps its place.
          generation = actual.generation + 1;
          const [listPosition, oldLabels] = existing;
          for (const label of JSON.parse(oldLabels) as string[]) sql.deleteLabel.run(label, listPosition);
          sql.replaceDecision.run(
            header.createdAt,
            header.goal,
            header.requestedMode,
            JSON.stringify(header.labels),
            generation,
            listPosition,
          );
          for (const label of header.labels) sql.insertLabel.run(label, listPosition);
          leases.drop(decisionId);
        }
        const written = insertEvents(decisionId, generation, 0, events, status);
        if (verify !== undefined) await verify(written);
        return written;
      });
      if (listeners.size > 0) notify();
      return { events: stored };
    },

    async createTemplate(template: TemplateRecord) {
      assertStorableText(template.name, 'template name');
      assertStorableText(template.digest, 'template digest');
      assertStorableText(template.createdAt, 'template createdAt');
      assertStorableText(template.createdBy.type, 'template creator type');
      assertStorableText(template.createdBy.id, 'template creator id');
      const snapshot = canonicalJson(template.snapshot);
      assertStorableText(snapshot, 'template snapshot');
      await run(() => {
        try {
          sql.insertTemplate.run(
            template.name,
            snapshot,
            template.digest,
            template.createdAt,
            template.createdBy.type,
            template.createdBy.id,
          );
        } catch (error) {
          if (isUniqueViolation(error)) {
            throw new NexusError('TEMPLATE_EXISTS', `template ${template.name} already exists`, { name: template.name });
          }
          throw error;
        }
      });
    },

    async getTemplate(name) {
      return run(() => {
        const row = sql.getTemplate.get(name) as TemplateRow | undefined;
        return row === undefined ? undefined : templateFromRow(row);
      });
    },

    async listTemplates() {
      return run(() => (sql.listTemplates.all() as TemplateRow[]).map(templateFromRow));
    },

    async renewLease(decisionId, owner, expiresAt) {
      checkLeaseOwner(owner);
      checkLeaseTime(expiresAt, 'expiresAt');
      return run(() => leases.renew(decisionId, owner, expiresAt));
    },

    async listExpiredLeases(now, limit) {
      checkLeaseTime(now, 'now');
      const size = leaseListLimit(limit);
      return run(() => leases.listExpired(now, size));
    },

    async takeOverLease(takeover) {
      const checked = checkLeaseTakeover(takeover);
      return run(() => leases.takeOver(checked));
    },

    async releaseLease(decisionId, owner) {
      checkLeaseOwner(owner);
      return run(() => leases.release(decisionId, owner));
    },

    onAppend(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    async close() {
      if (closed) return;
      await gate.whenClear();
      if (closed) return;
      closed = true;
      listeners.clear();
      db.close();
    },
  };
}

type TemplateRow = [name: string, snapshot: string, digest: string, createdAt: string, createdByType: string, createdById: string];

function templateFromRow(row: TemplateRow): TemplateRecord {
  return {
    name: row[0],
    snapshot: parsePayload(row[1]),
    digest: row[2],
    createdAt: row[3],
    createdBy: { type: row[4] as ActorType, id: row[5] },
  };
}
