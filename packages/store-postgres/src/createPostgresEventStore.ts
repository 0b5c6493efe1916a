import pg from 'pg';
import {
  ConcurrencyConflictError,
  NexusError,
  canonicalJson,
  compareCodePoints,
  checkAppendRequest,
  checkImportRequest,
  checkLeaseGrant,
  checkLeaseOwner,
  checkLeaseTakeover,
  checkLeaseTime,
  leaseListLimit,
  checkReadEventsOptions,
  checkReadFeedOptions,
  invalidCheckpoint,
  decodeDecisionCursor,
  encodeDecisionCursor,
  pageSizeOf,
  parsePayload,
  callListeners,
  storedEventOf,
  type ActorType,
  type AppendRequest,
  type AppendResult,
  type BeforeCommitHook,
  type DecisionEventType,
  type DecisionHeader,
  type DecisionPage,
  type DecisionStatus,
  type DecisionSummary,
  type EventStore,
  type ExecutionLease,
  type FeedPage,
  type IdempotencyRecord,
  type ImportRequest,
  type LeaseGrant,
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
import { comparePlaces, decodeCheckpoint, encodeCheckpoint, START_PLACE, type FeedPlace } from './feedCheckpoint.js';
import { createNotifier, type Notifier } from './createNotifier.js';
import { isRaceLost, isUniqueViolation, toStoreError } from './pgErrors.js';
import { assertStorableText, decodeFreeText, decodeText, encodeFreeText, encodeText, lookupText } from './storedText.js';

export interface PostgresEventStoreOptions {
  /** The pool every call runs on; the store owns it and ends it on `close()`. */
  readonly pool: pg.Pool;
  /** The schema holding the tables (the pool's connections must have it on their search_path). */
  readonly schema: string;
  /** How the database is named in messages: the connection string without its password. */
  readonly location: string;
  /** Strings never to appear in an error message (the password). */
  readonly secrets?: readonly string[];
  /** Connection settings for the LISTEN connection; absent: no cross-process wake-ups (readers poll). */
  readonly listenConfig?: pg.ClientConfig;
  /**
   * How long a feed read that reached the visible head waits for committed events hidden
   * behind a transaction still running elsewhere before answering without them; default 500 ms.
   */
  readonly feedSettleMs?: number;
  /** Test seam (see `BeforeCommitHook`); never set in production. */
  readonly beforeCommit?: BeforeCommitHook;
}

const DEFAULT_FEED_SETTLE_MS = 500;

type EventRow = [
  seq: number,
  txId: string,
  position: string,
  type: string,
  ts: string,
  actorType: string,
  actorId: string,
  payload: string,
  digest: string,
];
type FeedRow = [...EventRow, decisionId: string, generation: number];

const EVENT_COLUMNS = 'e.seq, e.tx_id::text, e.position::text, e.type, e.ts, e.actor_type, e.actor_id, e.payload, e.digest';

function eventFromRow(decisionId: string, generation: number, row: EventRow | FeedRow): StoredEvent {
  const payloadJson = row[7];
  return {
    decisionId,
    seq: row[0],
    generation,
    checkpoint: `${row[1]}.${row[2]}`,
    type: decodeText(row[3]) as DecisionEventType,
    ts: decodeText(row[4]),
    actor: { type: decodeText(row[5]) as ActorType, id: decodeText(row[6]) },
    payload: parsePayload(payloadJson),
    payloadJson,
    digest: decodeText(row[8]),
  };
}

type SummaryRow = [
  listPosition: string,
  decisionId: string,
  createdAt: string,
  goalJson: string,
  requestedMode: string,
  labels: string[],
  status: string,
  length: number,
  generation: number,
  updatedAt: string,
];
const SUMMARY_COLUMNS =
  'd.list_position::text, d.decision_id, d.created_at, d.goal_json, d.requested_mode, d.labels, d.status, d.length, d.generation, d.updated_at';

function summaryFromRow(row: SummaryRow): DecisionSummary {
  return {
    decisionId: decodeText(row[1]),
    createdAt: decodeText(row[2]),
    goal: decodeFreeText(row[3]),
    requestedMode: decodeText(row[4]) as Mode,
    labels: row[5].map(decodeText),
    status: decodeText(row[6]) as DecisionStatus,
    eventCount: row[7],
    generation: row[8],
    updatedAt: decodeText(row[9]),
  };
}

function checkEvents(events: readonly NewEvent[]): void {
  for (const event of events) {
    encodeText(event.type, 'event type');
    encodeText(event.ts, 'event ts');
    if (typeof event.actor !== 'object' || event.actor === null) {
      throw new NexusError('INVALID_ARGUMENT', 'an event needs an actor', {});
    }
    encodeText(event.actor.type, 'actor type');
    encodeText(event.actor.id, 'actor id');
    // Canonical JSON escapes U+0000 and never holds a lone surrogate: it is storable text.
    assertStorableText(event.payloadJson, 'event payload');
    encodeText(event.digest, 'event digest');
  }
}

function checkHeader(header: DecisionHeader): void {
  encodeText(header.decisionId, 'decision id');
  encodeText(header.createdAt, 'createdAt');
  if (typeof header.goal !== 'string') throw new NexusError('INVALID_ARGUMENT', 'goal must be a string', {});
  encodeText(header.requestedMode, 'requestedMode');
  if (!Array.isArray(header.labels)) throw new NexusError('INVALID_ARGUMENT', 'labels must be a list', {});
  for (const label of header.labels) encodeText(label, 'label');
}

/** The columns of events, one array each, for an `unnest` insert of a whole batch in one statement. */
function eventArrays(events: readonly NewEvent[], firstSeq: number): unknown[] {
  const n = events.length;
  const seqs = new Array<number>(n);
  const types = new Array<string>(n);
  const tss = new Array<string>(n);
  const actorTypes = new Array<string>(n);
  const actorIds = new Array<string>(n);
  const payloads = new Array<string>(n);
  const digests = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const event = events[i]!;
    seqs[i] = firstSeq + i;
    types[i] = encodeText(event.type, 'event type');
    tss[i] = encodeText(event.ts, 'event ts');
    actorTypes[i] = encodeText(event.actor.type, 'actor type');
    actorIds[i] = encodeText(event.actor.id, 'actor id');
    payloads[i] = event.payloadJson;
    digests[i] = encodeText(event.digest, 'event digest');
  }
  return [seqs, types, tss, actorTypes, actorIds, payloads, digests];
}

/** One event's columns, in the order of `eventArrays`. */
function eventScalars(event: NewEvent, seq: number): unknown[] {
  return [
    seq,
    encodeText(event.type, 'event type'),
    encodeText(event.ts, 'event ts'),
    encodeText(event.actor.type, 'actor type'),
    encodeText(event.actor.id, 'actor id'),
    event.payloadJson,
    encodeText(event.digest, 'event digest'),
  ];
}

/** Inserts the batch in seq order, so positions grow with seq within it. Parameters $1 decision, $2 generation, $3..$9 arrays. */
const INSERT_EVENTS = `INSERT INTO events (decision_id, generation, seq, type, ts, actor_type, actor_id, payload, digest)
  SELECT $1, $2, b.seq, b.type, b.ts, b.actor_type, b.actor_id, b.payload, b.digest
  FROM unnest($3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
    AS b(seq, type, ts, actor_type, actor_id, payload, digest)
  ORDER BY b.seq`;

/*
 * An append is one statement (so one round trip and one implicit transaction without the
 * test hook): the conditional write of the decision row is the optimistic check, and every
 * other write hangs off its result, so a lost race writes nothing and returns no rows.
 * Parameters: $1 decision, $2 generation, $3..$9 event arrays, $10 expected length,
 * $11 status, $12 updated_at; then, numbered in this order where the statement has them,
 * the idempotency key and fingerprint, the router result, the lease grant, and the header fields.
 */
const KEY_CTE = `,
  k AS (
    INSERT INTO idempotency_keys (key, fingerprint, decision_id, generation, seq)
    SELECT :key::text, :fingerprint::text, $1, $2, $10 FROM d
  )`;

const RESULT_CTE = `,
  r AS (
    INSERT INTO router_results (decision_id, run_id, response_json)
    SELECT $1, :run::text, :response::text FROM d
    ON CONFLICT (decision_id, run_id) DO UPDATE SET response_json = excluded.response_json
  )`;

/* The run these events start takes the decision's lease, replacing any other (a run never exists without its lease). */
const GRANT_CTE = `,
  g AS (
    INSERT INTO execution_leases (decision_id, generation, requested_seq, owner, expires_at)
    SELECT $1, $2, $10, :owner::text, :expires::bigint FROM d
    ON CONFLICT (decision_id) DO UPDATE SET generation = excluded.generation, requested_seq = excluded.requested_seq,
      owner = excluded.owner, expires_at = excluded.expires_at
  )`;

/* The run these events end drops its lease; only when the version check wrote the decision row. */
const RELEASE_CTE = `,
  g AS (
    DELETE FROM execution_leases WHERE decision_id = $1 AND EXISTS (SELECT 1 FROM d)
  )`;

const EVENTS_CTE = `,
  e AS (
    INSERT INTO events (decision_id, generation, seq, type, ts, actor_type, actor_id, payload, digest)
    SELECT $1, $2, b.seq, b.type, b.ts, b.actor_type, b.actor_id, b.payload, b.digest
    FROM d, unnest($3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
      AS b(seq, type, ts, actor_type, actor_id, payload, digest)
    ORDER BY b.seq
    RETURNING seq, tx_id::text AS tx, position::text AS pos
  )
  SELECT seq, tx, pos FROM e ORDER BY seq`;

/*
 * A single event (the common append) is passed as scalars, sparing the arrays' encoding and
 * unnest: the same statement with $3..$9 the event's columns.
 */
const ONE_EVENT_CTE = `,
  e AS (
    INSERT INTO events (decision_id, generation, seq, type, ts, actor_type, actor_id, payload, digest)
    SELECT $1, $2, $3::int, $4::text, $5::text, $6::text, $7::text, $8::text, $9::text FROM d
    RETURNING seq, tx_id::text AS tx, position::text AS pos
  )
  SELECT seq, tx, pos FROM e`;

const UPDATE_CTE = `WITH d AS (
    UPDATE decisions SET length = length + :count, status = $11, updated_at = $12
    WHERE decision_id = $1 AND generation = $2 AND length = $10
    RETURNING list_position
  )`;

const CREATE_CTE = `WITH d AS (
    INSERT INTO decisions (decision_id, created_at, goal_json, requested_mode, labels, generation, length, status, updated_at)
    SELECT $1, :created::text, :goal::text, :mode::text, :labels::text[], $2, :count, $11, $12 WHERE $10::int = 0
    ON CONFLICT (decision_id) DO NOTHING
    RETURNING list_position
  ),
  l AS (
    INSERT INTO decision_labels (label, list_position)
    SELECT DISTINCT label, d.list_position FROM d, unnest(:labels::text[]) AS label
  )`;

/**
 * The append statement for one shape of request, and its prepared-statement name. Only the
 * writes a request needs are in it, so the common append is the decision row and the events.
 */
function appendStatement(
  create: boolean,
  key: boolean,
  result: boolean,
  lease: 'grant' | 'release' | undefined,
  one: boolean,
): { name: string; text: string } {
  const leaseTag = lease === undefined ? '' : lease === 'grant' ? '_g' : '_x';
  const name = `nx_${create ? 'create' : 'append'}${key ? '_k' : ''}${result ? '_r' : ''}${leaseTag}${one ? '_1' : ''}`;
  const text = (
    (create ? CREATE_CTE : UPDATE_CTE) +
    (key ? KEY_CTE : '') +
    (result ? RESULT_CTE : '') +
    (lease === 'grant' ? GRANT_CTE : lease === 'release' ? RELEASE_CTE : '') +
    (one ? ONE_EVENT_CTE : EVENTS_CTE)
  ).replace(/:count/g, one ? '1' : 'cardinality($3::int[])');
  const optional = [
    ...(key ? ['key', 'fingerprint'] : []),
    ...(result ? ['run', 'response'] : []),
    ...(lease === 'grant' ? ['owner', 'expires'] : []),
    ...(create ? ['created', 'goal', 'mode', 'labels'] : []),
  ];
  return { name, text: text.replace(/:([a-z]+)::/g, (_, field: string) => `$${13 + optional.indexOf(field)}::`) };
}

const FEED_HEAD = `(SELECT h.tx_id::text || '.' || h.position::text FROM events h
    WHERE h.tx_id < (SELECT xmin FROM s) ORDER BY h.tx_id DESC, h.position DESC LIMIT 1)`;

/*
 * One statement, so the page, the head watermark and the hidden-rows check come from one
 * snapshot. Rows at or above the snapshot's xmin are left for a later read: their
 * transaction, or one before it, may still be running. A caught-up read answers with the
 * head from the same snapshot, so no event of another decision is skipped by it either.
 */
function feedSql(oneDecision: boolean): string {
  const filter = oneDecision ? 'AND e.decision_id = $4' : '';
  return `WITH s AS MATERIALIZED (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin),
    p AS (
      SELECT ${EVENT_COLUMNS}, e.decision_id, e.generation, e.tx_id AS ord_tx, e.position AS ord_pos
      FROM events e
      WHERE (e.tx_id, e.position) > ($1::xid8, $2::bigint) AND e.tx_id < (SELECT xmin FROM s) ${filter}
      ORDER BY e.tx_id, e.position
      LIMIT $3
    )
    SELECT ${FEED_HEAD} AS head,
      ($1::xid8 = '0'::xid8 OR EXISTS (SELECT 1 FROM events k WHERE k.tx_id = $1::xid8 AND k.position = $2::bigint)) AS known,
      EXISTS (SELECT 1 FROM events x WHERE x.tx_id >= (SELECT xmin FROM s)) AS hidden,
      COALESCE((SELECT json_agg(json_build_array(seq, tx_id, position, type, ts, actor_type, actor_id, payload, digest, decision_id, generation)
        ORDER BY ord_tx, ord_pos) FROM p), '[]')::text AS page`;
}

const HEAD_SQL = `WITH s AS MATERIALIZED (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)
  SELECT ${FEED_HEAD} AS head, EXISTS (SELECT 1 FROM events x WHERE x.tx_id >= (SELECT xmin FROM s)) AS hidden`;

/** Carries what an import's `verify` threw through the transaction, to be rethrown unchanged. */
class VerifyRejected {
  constructor(readonly reason: unknown) {}
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function conflictOrMissing(
  decisionId: string,
  expected: LogVersion,
  actual: { generation: number; length: number } | undefined,
): NexusError {
  if (actual === undefined) {
    return new NexusError('DECISION_NOT_FOUND', `decision ${decisionId} does not exist`, { decisionId });
  }
  return new ConcurrencyConflictError(decisionId, expected, actual);
}

/**
 * An EventStore on one PostgreSQL schema. Every write is one transaction whose optimistic
 * check is a conditional write of the decision's row, so the database, not this process,
 * decides races between any number of processes; appends to different decisions never wait
 * for each other. See the package README for the feed's design.
 */
export function createPostgresEventStore(options: PostgresEventStoreOptions): EventStore {
  const { pool, location, beforeCommit } = options;
  const secrets = options.secrets ?? [];
  const settleMs = options.feedSettleMs ?? DEFAULT_FEED_SETTLE_MS;
  const listeners = new Set<() => void>();
  const notifier: Notifier | undefined =
    options.listenConfig === undefined
      ? undefined
      : createNotifier({ clientConfig: options.listenConfig, channel: `nexus_control.${options.schema}`, wake: wakeLocal });
  let closed = false;

  function wakeLocal(): void {
    callListeners(listeners);
  }

  function assertOpen(): void {
    if (closed) throw new NexusError('STORE_UNAVAILABLE', `${location}: the store is closed`, { location });
  }

  function mapError(error: unknown): NexusError {
    return toStoreError(error, location, secrets);
  }

  async function rows<R extends unknown[]>(name: string, text: string, values: unknown[]): Promise<R[]> {
    assertOpen();
    try {
      return (await pool.query<R>({ name, text, values, rowMode: 'array' })).rows;
    } catch (error) {
      throw mapError(error);
    }
  }

  /** Runs `work` in one transaction on a dedicated connection, retrying lost serialization races. */
  async function transaction<T>(work: (client: pg.PoolClient) => Promise<T>, retryOn: (error: unknown) => boolean): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      assertOpen();
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw mapError(error);
      }
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        if (error instanceof VerifyRejected) throw error.reason;
        if (attempt < 5 && retryOn(error)) continue;
        throw mapError(error);
      } finally {
        client.release(broken);
      }
    }
  }

  async function currentVersion(decisionId: string): Promise<{ generation: number; length: number } | undefined> {
    const found = await rows<[number, number]>('nx_version', 'SELECT generation, length FROM decisions WHERE decision_id = $1', [
      encodeText(decisionId, 'decision id'),
    ]);
    const row = found[0];
    return row === undefined ? undefined : { generation: row[0], length: row[1] };
  }

  async function idempotencyKeyTaken(key: string): Promise<boolean> {
    const found = await rows('nx_key_taken', 'SELECT 1 FROM idempotency_keys WHERE key = $1', [encodeText(key, 'idempotency key')]);
    return found.length > 0;
  }

  function keyReused(key: string): NexusError {
    return new NexusError('IDEMPOTENCY_KEY_REUSED', 'this idempotency key was used already', { idempotencyKey: key });
  }

  /** Why an append wrote nothing: the key (which wins over anything else), the decision's existence, or its version. */
  async function explainEmptyAppend(request: AppendRequest): Promise<NexusError> {
    const { decisionId, expectedVersion, idempotency, header } = request;
    if (idempotency !== undefined && (await idempotencyKeyTaken(idempotency.key))) return keyReused(idempotency.key);
    const actual = await currentVersion(decisionId);
    if (header !== undefined) {
      if (actual !== undefined) {
        return new NexusError('DECISION_EXISTS', `decision ${decisionId} already exists`, { decisionId });
      }
      return new ConcurrencyConflictError(decisionId, expectedVersion, undefined);
    }
    return conflictOrMissing(decisionId, expectedVersion, actual);
  }

  function appendValues(request: AppendRequest, lease: LeaseGrant | 'release' | undefined): unknown[] {
    const { decisionId, expectedVersion, events, status, idempotency, routerResult, header } = request;
    const values: unknown[] = [
      encodeText(decisionId, 'decision id'),
      expectedVersion.generation,
      ...(events.length === 1 ? eventScalars(events[0]!, expectedVersion.length) : eventArrays(events, expectedVersion.length)),
      expectedVersion.length,
      encodeText(status, 'status'),
      encodeText(events[events.length - 1]!.ts, 'event ts'),
    ];
    if (idempotency !== undefined) {
      values.push(encodeText(idempotency.key, 'idempotency key'), encodeText(idempotency.fingerprint, 'idempotency fingerprint'));
    }
    if (routerResult !== undefined) {
      values.push(encodeText(routerResult.runId, 'router run id'), encodeText(routerResult.responseJson, 'router response'));
    }
    if (lease !== undefined && lease !== 'release') {
      values.push(encodeText(lease.owner, 'lease owner'), lease.expiresAt);
    }
    if (header !== undefined) {
      values.push(
        encodeText(header.createdAt, 'createdAt'),
        encodeFreeText(header.goal),
        encodeText(header.requestedMode, 'requestedMode'),
        header.labels.map((label) => encodeText(label, 'label')),
      );
    }
    return values;
  }

  async function runAppend(request: AppendRequest, lease: LeaseGrant | 'release' | undefined): Promise<[number, string, string][]> {
    const statement: pg.QueryArrayConfig = {
      ...appendStatement(
        request.header !== undefined,
        request.idempotency !== undefined,
        request.routerResult !== undefined,
        lease === undefined ? undefined : lease === 'release' ? 'release' : 'grant',
        request.events.length === 1,
      ),
      values: appendValues(request, lease),
      rowMode: 'array',
    };
    if (beforeCommit === undefined) {
      assertOpen();
      return (await pool.query<[number, string, string]>(statement)).rows;
    }
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = (await client.query<[number, string, string]>(statement)).rows;
      if (result.length > 0) await beforeCommit(request.decisionId);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }

  function checkIdempotency(request: AppendRequest): void {
    const { idempotency } = request;
    if (idempotency === undefined) return;
    encodeText(idempotency.key, 'idempotency key');
    encodeText(idempotency.fingerprint, 'idempotency fingerprint');
  }

  async function readFeedOnce(
    after: FeedPlace,
    limit: number,
    decisionId: string | undefined,
  ): Promise<{ head: string | null; known: boolean; hidden: boolean; page: FeedRow[] }> {
    const values: unknown[] = [after.xid.toString(), after.position.toString(), limit];
    if (decisionId !== undefined) values.push(encodeText(decisionId, 'decision id'));
    const [row] = await rows<[string | null, boolean, boolean, string]>(
      decisionId === undefined ? 'nx_feed_all' : 'nx_feed_one',
      feedSql(decisionId !== undefined),
      values,
    );
    return { head: row![0], known: row![1], hidden: row![2], page: JSON.parse(row![3]) as FeedRow[] };
  }

  function notifyAppended(): void {
    if (listeners.size > 0) wakeLocal();
    notifier?.announce();
  }

  return {
    async append(request) {
      checkAppendRequest(request);
      if (request.header !== undefined) checkHeader(request.header);
      encodeText(request.decisionId, 'decision id');
      encodeText(request.status, 'status');
      checkEvents(request.events);
      checkIdempotency(request);
      if (request.routerResult !== undefined) {
        encodeText(request.routerResult.runId, 'router run id');
        encodeText(request.routerResult.responseJson, 'router response');
      }
      const lease = request.lease === undefined ? undefined : checkLeaseGrant(request.lease);
      if (lease !== undefined && lease !== 'release') encodeText(lease.owner, 'lease owner');
      const { decisionId, expectedVersion, events } = request;
      let written: [number, string, string][];
      try {
        written = await runAppend(request, lease);
      } catch (error) {
        if (request.idempotency !== undefined && isUniqueViolation(error, 'idempotency_keys_pkey')) {
          throw keyReused(request.idempotency.key);
        }
        if (isUniqueViolation(error) || isRaceLost(error)) {
          if (request.idempotency !== undefined && (await idempotencyKeyTaken(request.idempotency.key))) {
            throw keyReused(request.idempotency.key);
          }
          throw new ConcurrencyConflictError(decisionId, expectedVersion, await currentVersion(decisionId));
        }
        throw mapError(error);
      }
      if (written.length !== events.length) throw await explainEmptyAppend(request);
      const stored = events.map((event, i) =>
        storedEventOf(event, decisionId, written[i]![0], expectedVersion.generation, `${written[i]![1]}.${written[i]![2]}`),
      );
      notifyAppended();
      return { events: stored };
    },

    async readEvents(decisionId, options: ReadEventsOptions = {}) {
      const { fromSeq, toSeq, generation } = checkReadEventsOptions(options);
      const key = lookupText(decisionId, 'decision id');
      if (key === undefined) return [];
      const found = await rows<[number, ...EventRow]>(
        'nx_read_events',
        `SELECT e.generation, ${EVENT_COLUMNS} FROM events e
         WHERE e.decision_id = $1
           AND e.generation = COALESCE($2::int, (SELECT generation FROM decisions WHERE decision_id = $1))
           AND e.seq >= $3 AND ($4::int IS NULL OR e.seq <= $4)
         ORDER BY e.seq`,
        [key, generation ?? null, fromSeq, toSeq ?? null],
      );
      const n = found.length;
      const events = new Array<StoredEvent>(n);
      for (let i = 0; i < n; i++) {
        const row = found[i]!;
        (found as unknown[])[i] = undefined;
        events[i] = eventFromRow(decisionId, row[0], row.slice(1) as unknown as EventRow);
      }
      return events;
    },

    async getDecision(decisionId) {
      const key = lookupText(decisionId, 'decision id');
      if (key === undefined) return undefined;
      const found = await rows<SummaryRow>('nx_get_decision', `SELECT ${SUMMARY_COLUMNS} FROM decisions d WHERE d.decision_id = $1`, [key]);
      return found[0] === undefined ? undefined : summaryFromRow(found[0]);
    },

    async listDecisions(options: ListDecisionsOptions = {}): Promise<DecisionPage> {
      const limit = pageSizeOf(options.limit);
      const before = options.cursor === undefined ? undefined : decodeDecisionCursor(options.cursor);
      const { label, status } = options;
      const values: unknown[] = [limit + 1];
      const conditions: string[] = [];
      let from = 'decisions d';
      if (label !== undefined) {
        values.push(encodeText(label, 'label'));
        from = `decision_labels l JOIN decisions d ON d.list_position = l.list_position AND l.label = $${values.length}`;
      }
      if (status !== undefined) {
        values.push(encodeText(status, 'status'));
        conditions.push(`d.status = $${values.length}`);
      }
      if (before !== undefined) {
        values.push(before);
        conditions.push(`d.list_position < $${values.length}`);
      }
      const text =
        `SELECT ${SUMMARY_COLUMNS} FROM ${from}` +
        (conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`) +
        ' ORDER BY d.list_position DESC LIMIT $1';
      const key = `nx_list_${label === undefined ? '' : 'l'}${status === undefined ? '' : 's'}${before === undefined ? '' : 'c'}`;
      const found = await rows<SummaryRow>(key, text, values);
      const items = found.slice(0, limit).map(summaryFromRow);
      const last = found.length > limit ? found[limit - 1] : undefined;
      return last === undefined ? { items } : { items, nextCursor: encodeDecisionCursor(Number(last[0])) };
    },

    async readFeed(options: ReadFeedOptions = {}): Promise<FeedPage> {
      const checked = checkReadFeedOptions(options);
      const after = decodeCheckpoint(checked.after);
      const { decisionId, limit } = checked;
      const deadline = Date.now() + settleMs;
      for (let wait = 2; ; wait = Math.min(wait * 2, 20)) {
        const { head, known, hidden, page } = await readFeedOnce(after, limit, decisionId);
        // Every checkpoint this store hands out is the place of one of its events (the head
        // is the last visible event's), and events are never deleted: anything else is foreign.
        if (!known) throw invalidCheckpoint(checked.after);
        const caughtUp = page.length < limit;
        // Committed events wait behind a transaction still open elsewhere: give it a moment,
        // so a reader normally sees what was acknowledged before it asked.
        if (caughtUp && hidden && Date.now() < deadline) {
          await sleep(wait);
          continue;
        }
        const events = page.map((row) => eventFromRow(decodeText(row[9]), row[10], row));
        let checkpoint: string;
        if (!caughtUp) {
          checkpoint = events[events.length - 1]!.checkpoint;
        } else {
          const headPlace = head === null ? START_PLACE : decodeCheckpoint(head);
          const lastPlace = events.length === 0 ? after : decodeCheckpoint(events[events.length - 1]!.checkpoint);
          let place = comparePlaces(headPlace, after) > 0 ? headPlace : after;
          if (comparePlaces(lastPlace, place) > 0) place = lastPlace;
          checkpoint = encodeCheckpoint(place);
        }
        return { events, checkpoint, caughtUp };
      }
    },

    async headCheckpoint() {
      const deadline = Date.now() + settleMs;
      for (let wait = 2; ; wait = Math.min(wait * 2, 20)) {
        const [row] = await rows<[string | null, boolean]>('nx_head', HEAD_SQL, []);
        if (row![1] && Date.now() < deadline) {
          await sleep(wait);
          continue;
        }
        return row![0] === null ? encodeCheckpoint(START_PLACE) : row![0];
      }
    },

    async getIdempotency(key): Promise<IdempotencyRecord | undefined> {
      const stored = lookupText(key, 'idempotency key');
      if (stored === undefined) return undefined;
      const found = await rows<[string, string, string, number, number]>(
        'nx_get_idempotency',
        'SELECT key, fingerprint, decision_id, generation, seq FROM idempotency_keys WHERE key = $1',
        [stored],
      );
      const row = found[0];
      return row === undefined
        ? undefined
        : { key: decodeText(row[0]), fingerprint: decodeText(row[1]), decisionId: decodeText(row[2]), generation: row[3], seq: row[4] };
    },

    async getRouterResult(decisionId, runId): Promise<RouterResultRecord | undefined> {
      const storedId = lookupText(decisionId, 'decision id');
      const storedRun = lookupText(runId, 'run id');
      if (storedId === undefined || storedRun === undefined) return undefined;
      const found = await rows<[string]>(
        'nx_get_router_result',
        'SELECT response_json FROM router_results WHERE decision_id = $1 AND run_id = $2',
        [storedId, storedRun],
      );
      return found[0] === undefined ? undefined : { runId, responseJson: decodeText(found[0][0]) };
    },

    async importDecision(request: ImportRequest): Promise<AppendResult> {
      checkImportRequest(request);
      const { header, events, status, conflictMode, verify, expectedVersion } = request;
      checkHeader(header);
      checkEvents(events);
      const decisionId = header.decisionId;
      const storedId = encodeText(decisionId, 'decision id');
      const storedHeader = [
        encodeText(header.createdAt, 'createdAt'),
        encodeFreeText(header.goal),
        encodeText(header.requestedMode, 'requestedMode'),
        header.labels.map((label) => encodeText(label, 'label')),
      ];
      const storedStatus = encodeText(status, 'status');
      const stored = await transaction(
        async (client) => {
          const existing = await client.query<{ list_position: string; generation: number; length: number }>({
            name: 'nx_import_target',
            text: 'SELECT list_position::text, generation, length FROM decisions WHERE decision_id = $1 FOR UPDATE',
            values: [storedId],
          });
          const current = existing.rows[0];
          const updatedAt = encodeText(events[events.length - 1]!.ts, 'event ts');
          let generation = 0;
          let listPosition: string;
          if (current === undefined) {
            if (expectedVersion !== undefined && conflictMode === 'overwrite') {
              throw new ConcurrencyConflictError(decisionId, expectedVersion, undefined);
            }
            try {
              const inserted = await client.query<{ list_position: string }>({
                name: 'nx_import_insert',
                text: `INSERT INTO decisions (decision_id, created_at, goal_json, requested_mode, labels, generation, length, status, updated_at)
                       VALUES ($1, $2, $3, $4, $5::text[], 0, $6, $7, $8) RETURNING list_position::text`,
                values: [storedId, ...storedHeader, events.length, storedStatus, updatedAt],
              });
              listPosition = inserted.rows[0]!.list_position;
            } catch (error) {
              if (isUniqueViolation(error) && conflictMode === 'reject') {
                throw new NexusError('DECISION_EXISTS', `decision ${decisionId} already exists`, { decisionId });
              }
              throw error;
            }
          } else if (conflictMode === 'reject') {
            throw new NexusError('DECISION_EXISTS', `decision ${decisionId} already exists`, { decisionId });
          } else {
            const actual = { generation: current.generation, length: current.length };
            if (
              expectedVersion !== undefined &&
              (expectedVersion.generation !== actual.generation || expectedVersion.length !== actual.length)
            ) {
              throw new ConcurrencyConflictError(decisionId, expectedVersion, actual);
            }
            generation = current.generation + 1;
            listPosition = current.list_position;
            await client.query({
              name: 'nx_import_replace',
              text: `UPDATE decisions SET created_at = $2, goal_json = $3, requested_mode = $4, labels = $5::text[],
                       generation = $6, length = $7, status = $8, updated_at = $9
                     WHERE list_position = $1`,
              values: [listPosition, ...storedHeader, generation, events.length, storedStatus, updatedAt],
            });
            await client.query({
              name: 'nx_import_unlabel',
              text: 'DELETE FROM decision_labels WHERE list_position = $1',
              values: [listPosition],
            });
            // The lease belonged to a run on the replaced log.
            await client.query({
              name: 'nx_import_unlease',
              text: 'DELETE FROM execution_leases WHERE decision_id = $1',
              values: [storedId],
            });
          }
          await client.query({
            name: 'nx_import_label',
            text: 'INSERT INTO decision_labels (label, list_position) SELECT DISTINCT label, $1::bigint FROM unnest($2::text[]) AS label',
            values: [listPosition, storedHeader[3]],
          });
          const inserted = await client.query<[number, string, string]>({
            name: 'nx_import_events',
            text: `${INSERT_EVENTS} RETURNING seq, tx_id::text, position::text`,
            values: [storedId, generation, ...eventArrays(events, 0)],
            rowMode: 'array',
          });
          const written = events.map((event, i): StoredEvent => {
            const row = inserted.rows[i]!;
            return {
              decisionId,
              seq: row[0],
              generation,
              checkpoint: `${row[1]}.${row[2]}`,
              type: event.type,
              ts: event.ts,
              actor: { type: event.actor.type, id: event.actor.id },
              payload: parsePayload(event.payloadJson),
              payloadJson: event.payloadJson,
              digest: event.digest,
            };
          });
          if (verify !== undefined) {
            try {
              await verify(written);
            } catch (error) {
              throw new VerifyRejected(error);
            }
          }
          return written;
        },
        // Two imports creating one id at once: the loser retries and, overwriting, replaces the winner's log.
        (error) => isRaceLost(error) || (conflictMode === 'overwrite' && isUniqueViolation(error, 'decisions_decision_id_key')),
      );
      notifyAppended();
      return { events: stored };
    },

    async renewLease(decisionId, owner, expiresAt) {
      checkLeaseOwner(owner);
      checkLeaseTime(expiresAt, 'expiresAt');
      const storedId = lookupText(decisionId, 'decision id');
      const storedOwner = lookupText(owner, 'lease owner');
      if (storedId === undefined || storedOwner === undefined) return false;
      const changed = await rows(
        'nx_lease_renew',
        'UPDATE execution_leases SET expires_at = $3 WHERE decision_id = $1 AND owner = $2 RETURNING 1',
        [storedId, storedOwner, expiresAt],
      );
      return changed.length === 1;
    },

    async listExpiredLeases(now, limit): Promise<ExecutionLease[]> {
      checkLeaseTime(now, 'now');
      const size = leaseListLimit(limit);
      const found = await rows<LeaseRow>(
        'nx_lease_expired',
        `SELECT decision_id, generation, requested_seq, owner, expires_at::text FROM execution_leases
         WHERE expires_at <= $1 ORDER BY expires_at, decision_id COLLATE "C" LIMIT $2`,
        [now, size],
      );
      return found.map((row) => ({
        decisionId: decodeText(row[0]),
        generation: row[1],
        requestedSeq: row[2],
        owner: decodeText(row[3]),
        expiresAt: Number(row[4]),
      }));
    },

    async takeOverLease(takeover) {
      const { decisionId, fromOwner, now, grant } = checkLeaseTakeover(takeover);
      const storedId = lookupText(decisionId, 'decision id');
      const storedFrom = lookupText(fromOwner, 'fromOwner');
      if (storedId === undefined || storedFrom === undefined) return false;
      const storedOwner = encodeText(grant.owner, 'lease owner');
      // One conditional UPDATE: concurrent takers queue on the row lock, and each re-checks
      // the owner once the one before it committed, so only the first finds `fromOwner`.
      const changed = await rows(
        'nx_lease_take_over',
        `UPDATE execution_leases SET owner = $3, expires_at = $4
         WHERE decision_id = $1 AND owner = $2 AND expires_at <= $5 RETURNING 1`,
        [storedId, storedFrom, storedOwner, grant.expiresAt, now],
      );
      return changed.length === 1;
    },

    async releaseLease(decisionId, owner) {
      checkLeaseOwner(owner);
      const storedId = lookupText(decisionId, 'decision id');
      const storedOwner = lookupText(owner, 'lease owner');
      if (storedId === undefined || storedOwner === undefined) return false;
      const changed = await rows('nx_lease_release', 'DELETE FROM execution_leases WHERE decision_id = $1 AND owner = $2 RETURNING 1', [
        storedId,
        storedOwner,
      ]);
      return changed.length === 1;
    },

    async createTemplate(template: TemplateRecord) {
      const stored = [
        encodeText(template.name, 'template name'),
        null,
        encodeText(template.digest, 'template digest'),
        encodeText(template.createdAt, 'template createdAt'),
        encodeText(template.createdBy.type, 'template creator type'),
        encodeText(template.createdBy.id, 'template creator id'),
      ];
      const snapshot = canonicalJson(template.snapshot);
      assertOpen();
      try {
        await pool.query({
          name: 'nx_create_template',
          text: 'INSERT INTO templates (name, snapshot, digest, created_at, created_by_type, created_by_id) VALUES ($1, $2, $3, $4, $5, $6)',
          values: [stored[0], snapshot, ...stored.slice(2)],
        });
      } catch (error) {
        if (isUniqueViolation(error, 'templates_pkey')) {
          throw new NexusError('TEMPLATE_EXISTS', `template ${template.name} already exists`, { name: template.name });
        }
        throw mapError(error);
      }
    },

    async getTemplate(name) {
      const stored = lookupText(name, 'template name');
      if (stored === undefined) return undefined;
      const found = await rows<TemplateRow>('nx_get_template', `SELECT ${TEMPLATE_COLUMNS} FROM templates WHERE name = $1`, [stored]);
      return found[0] === undefined ? undefined : templateFromRow(found[0]);
    },

    async listTemplates() {
      const found = await rows<TemplateRow>('nx_list_templates', `SELECT ${TEMPLATE_COLUMNS} FROM templates`, []);
      // Sorted here: the stored form of a name with U+0000 does not sort like the name.
      return found.map(templateFromRow).sort((a, b) => compareCodePoints(a.name, b.name));
    },

    onAppend(listener) {
      listeners.add(listener);
      notifier?.start();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) notifier?.stop();
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      await notifier?.close();
      await pool.end().catch(() => undefined);
    },
  };
}

type LeaseRow = [decisionId: string, generation: number, requestedSeq: number, owner: string, expiresAt: string];

const TEMPLATE_COLUMNS = 'name, snapshot, digest, created_at, created_by_type, created_by_id';
type TemplateRow = [name: string, snapshot: string, digest: string, createdAt: string, createdByType: string, createdById: string];

function templateFromRow(row: TemplateRow): TemplateRecord {
  return {
    name: decodeText(row[0]),
    snapshot: parsePayload(row[1]),
    digest: decodeText(row[2]),
    createdAt: decodeText(row[3]),
    createdBy: { type: decodeText(row[4]) as ActorType, id: decodeText(row[5]) },
  };
}
