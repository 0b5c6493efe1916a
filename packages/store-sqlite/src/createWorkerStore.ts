import Database from 'better-sqlite3';
import { createExpiredLeaseListing, createLeaseWrites } from './leaseStatements.js';
import { openDatabase } from './openDatabase.js';
import {
  REFUSED,
  type AppendArgs,
  type DecisionRow,
  type FromWorker,
  type ImportArgs,
  isWriteOp,
  type Op,
  type ReadOp,
  type Requests,
  type Results,
  type RowsText,
  type TemplateRow,
  type WorkerOptions,
  type WriteOp,
} from './protocol.js';
import { isBusy, isUniqueViolation, toStoreFault } from './sqliteErrors.js';
import { faultDataOf, StoreFault } from './storeFault.js';

/*
 * Known event and actor type names come back from the read statements as small integers
 * (no fresh string per row); the store swaps them for one shared string each. Must match
 * the order of the domain's DECISION_EVENT_TYPES and actor types (the store checks).
 */
export const EVENT_TYPE_CODES = [
  'DECISION_CREATED',
  'POLICY_ATTACHED',
  'APPROVAL_GRANTED',
  'APPROVAL_REVOKED',
  'EXECUTION_REQUESTED',
  'EXECUTION_STARTED',
  'EXECUTION_COMPLETED',
  'EXECUTION_FAILED',
] as const;
export const ACTOR_TYPE_CODES = ['human', 'system'] as const;

const codeOf = (column: string, names: readonly string[]): string =>
  `CASE ${column} ${names.map((name, i) => `WHEN '${name}' THEN ${i}`).join(' ')} ELSE ${column} END`;
const EVENT_READ_COLUMNS =
  `position, generation, seq, ${codeOf('type', EVENT_TYPE_CODES)}, ts, ` +
  `${codeOf('actor_type', ACTOR_TYPE_CODES)}, actor_id, payload, digest`;

/** A header joined with its decision's last event, which carries the status, count and update time. */
const SUMMARY_SELECT =
  'SELECT d.list_position, d.decision_id, d.created_at, d.goal, d.requested_mode, d.labels, e.status, e.seq, e.ts, e.generation';
// The newest generation is the current log, so its last event is the decision's last event.
const LAST_EVENT_JOIN =
  'JOIN events e ON e.position = (SELECT position FROM events WHERE decision_id = d.decision_id ORDER BY generation DESC, seq DESC LIMIT 1)';

/** Appends committed together at most; more wait for the next commit. */
const MAX_GROUP = 256;
/** An import writes this many events, then lets reads on the other connection run. */
const IMPORT_CHUNK = 1000;

type Send = (message: FromWorker) => void;

/** A long read goes out in parts of this many rows, so the caller converts one while the next is read. */
const READ_PART = 1000;
/**
 * A part, or a feed page, also ends once its JSON text reaches this many characters (after
 * the row that crosses it): rows of large payloads must not build one string near the
 * engine's limit on string length (about 512 Mi characters).
 */
const READ_TEXT_LIMIT = 16 * 1024 * 1024;

/** Rows (JSON texts) as the text of one JSON array. */
const rowsText = (rows: readonly string[]): RowsText => `[${rows.join(',')}]`;

interface WriteJob {
  readonly id: number;
  readonly op: WriteOp;
  readonly args: unknown;
  /** When it was queued: it waits for another process's write lock up to the busy timeout from here. */
  readonly queuedAt: number;
}

export interface WorkerStore {
  call(id: number, op: Op, args: unknown): void;
  verdict(id: number, commit: boolean): void;
  /** Fails what waits, rolls back a transaction held open for a verdict, closes the connections. */
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The connection side of the store, run in its worker thread. Two connections on a file:
 * reads run at once on their own connection (WAL readers never wait for a writer); writes
 * go through one queue on the other, whose lock waits are timers, never a blocking busy
 * handler, so reads keep answering while another process holds the write lock. Appends
 * queued while a commit flushes commit together in the next transaction, each inside its
 * own savepoint. `:memory:` has one connection: reads wait while a write holds its
 * transaction open for the caller.
 */
export function createWorkerStore(options: WorkerOptions, send: Send, sendNow: Send): WorkerStore {
  const { path: location, busyTimeoutMs, hooked } = options;
  const writer = openDatabase(options);
  // The write connection never sleeps in SQLite's busy handler: the queue retries on timers.
  writer.pragma('busy_timeout = 0');
  const shared = location === ':memory:';
  const reader = shared ? writer : new Database(location, { timeout: busyTimeoutMs });

  const w = {
    version: writer.prepare('SELECT generation, seq FROM events WHERE decision_id = ? ORDER BY generation DESC, seq DESC LIMIT 1').raw(),
    insertDecision: writer.prepare('INSERT INTO decisions (decision_id, created_at, goal, requested_mode, labels) VALUES (?, ?, ?, ?, ?)'),
    insertLabel: writer.prepare('INSERT OR IGNORE INTO decision_labels (label, list_position) VALUES (?, ?)'),
    insertEvent: writer.prepare(
      'INSERT INTO events (decision_id, generation, seq, type, ts, actor_type, actor_id, payload, digest, status) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    insertIdempotency: writer.prepare(
      'INSERT INTO idempotency_keys (key, fingerprint, decision_id, generation, seq) VALUES (?, ?, ?, ?, ?)',
    ),
    upsertRouterResult: writer.prepare(
      'INSERT INTO router_results (decision_id, generation, run_id, response_json) VALUES (?, ?, ?, ?) ' +
        'ON CONFLICT (decision_id, generation, run_id) DO UPDATE SET response_json = excluded.response_json',
    ),
    insertTemplate: writer.prepare(
      'INSERT INTO templates (name, snapshot, digest, created_at, created_by_type, created_by_id) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    importTarget: writer.prepare('SELECT list_position, labels FROM decisions WHERE decision_id = ?').raw(),
    replaceDecision: writer.prepare(
      'UPDATE decisions SET created_at = ?, goal = ?, requested_mode = ?, labels = ?, generation = ? WHERE list_position = ?',
    ),
    deleteLabel: writer.prepare('DELETE FROM decision_labels WHERE label = ? AND list_position = ?'),
    begin: writer.prepare('BEGIN IMMEDIATE'),
    commit: writer.prepare('COMMIT'),
    rollback: writer.prepare('ROLLBACK'),
    savepoint: writer.prepare('SAVEPOINT append'),
    release: writer.prepare('RELEASE append'),
    rollbackTo: writer.prepare('ROLLBACK TO append'),
  };
  const r = {
    readCurrent: reader
      .prepare(
        `SELECT json_array(${EVENT_READ_COLUMNS}) FROM events WHERE decision_id = ? ` +
          'AND generation = (SELECT generation FROM decisions WHERE decision_id = ?) AND seq BETWEEN ? AND ? ORDER BY seq',
      )
      .pluck(),
    readGeneration: reader
      .prepare(
        `SELECT json_array(${EVENT_READ_COLUMNS}) FROM events WHERE decision_id = ? AND generation = ? AND seq BETWEEN ? AND ? ORDER BY seq`,
      )
      .pluck(),
    feedAll: reader
      .prepare(
        `SELECT json_array(${EVENT_READ_COLUMNS}, decision_id) FROM events WHERE position > ? AND position <= ? ORDER BY position LIMIT ?`,
      )
      .pluck(),
    // Within one decision positions grow with (generation, seq), so its unique index serves this in order.
    feedOne: reader
      .prepare(
        `SELECT json_array(${EVENT_READ_COLUMNS}, decision_id) FROM events ` +
          'WHERE decision_id = ? AND position > ? AND position <= ? ORDER BY generation, seq LIMIT ?',
      )
      .pluck(),
    head: reader.prepare('SELECT MAX(position) FROM events').pluck(),
    getDecision: reader.prepare(`${SUMMARY_SELECT} FROM decisions d ${LAST_EVENT_JOIN} WHERE d.decision_id = ?`).raw(),
    getIdempotency: reader.prepare('SELECT key, fingerprint, decision_id, generation, seq FROM idempotency_keys WHERE key = ?').raw(),
    getRouterResult: reader
      .prepare(
        'SELECT response_json FROM router_results WHERE decision_id = ? AND run_id = ? ' +
          'AND generation = (SELECT generation FROM decisions WHERE decision_id = ?)',
      )
      .pluck(),
    getTemplate: reader
      .prepare('SELECT name, snapshot, digest, created_at, created_by_type, created_by_id FROM templates WHERE name = ?')
      .raw(),
    listTemplates: reader
      .prepare('SELECT name, snapshot, digest, created_at, created_by_type, created_by_id FROM templates ORDER BY name')
      .raw(),
  };
  const listingStatements = new Map<string, Database.Statement>();
  const leases = createLeaseWrites(writer);
  const listExpiredLeases = createExpiredLeaseListing(reader);

  // ---- reads --------------------------------------------------------------------------

  const reads: { [K in ReadOp]: (args: Requests[K], id: number) => Results[K] } = {
    readEvents({ decisionId, generation, fromSeq, toSeq }, id) {
      const rows = (
        generation === undefined
          ? r.readCurrent.iterate(decisionId, decisionId, fromSeq, toSeq)
          : r.readGeneration.iterate(decisionId, generation, fromSeq, toSeq)
      ) as IterableIterator<string>;
      // Each row is already the JSON text of its array; a part is their list.
      let part: string[] = [];
      let characters = 0;
      for (const row of rows) {
        part.push(row);
        characters += row.length;
        if (part.length === READ_PART || characters >= READ_TEXT_LIMIT) {
          sendNow({ kind: 'part', id, rows: rowsText(part) });
          part = [];
          characters = 0;
        }
      }
      return rowsText(part);
    },
    getDecision({ decisionId }) {
      return r.getDecision.get(decisionId) as DecisionRow | undefined;
    },
    listDecisions({ label, status, before, limit }) {
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
        listing = reader
          .prepare(
            `${SUMMARY_SELECT} FROM ` +
              (label === undefined ? 'decisions d' : 'decision_labels l JOIN decisions d ON d.list_position = l.list_position') +
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
      return listing.all(parameters) as DecisionRow[];
    },
    readFeed({ after, decisionId, limit }) {
      // The head first, then only events at or below it: writers commit one transaction at a
      // time in position order, so everything up to the head is visible and the page's
      // checkpoint covers exactly what was read, whatever commits in between.
      const head = (r.head.get() as number | null) ?? 0;
      // Positions are never taken back, so a position above the head was never issued here.
      if (after > head) return 'beyond-head';
      const rows = (
        decisionId === undefined ? r.feedAll.all(after, head, limit) : r.feedOne.all(decisionId, after, head, limit)
      ) as string[];
      let characters = 0;
      for (let i = 0; i < rows.length; i++) {
        characters += rows[i]!.length;
        // The rest of the page is left for the next read, which starts after the last row sent.
        if (characters >= READ_TEXT_LIMIT && i + 1 < rows.length) return { head, rows: rowsText(rows.slice(0, i + 1)), cut: true };
      }
      return { head, rows: rowsText(rows), cut: false };
    },
    head() {
      return (r.head.get() as number | null) ?? 0;
    },
    getIdempotency({ key }) {
      return r.getIdempotency.get(key) as [string, string, string, number, number] | undefined;
    },
    getRouterResult({ decisionId, runId }) {
      return r.getRouterResult.get(decisionId, runId, decisionId) as string | undefined;
    },
    getTemplate({ name }) {
      return r.getTemplate.get(name) as TemplateRow | undefined;
    },
    listTemplates() {
      return r.listTemplates.all() as TemplateRow[];
    },
    listExpiredLeases({ now, limit }) {
      return listExpiredLeases(now, limit);
    },
  };

  // ---- writes -------------------------------------------------------------------------

  function currentVersion(decisionId: string): { generation: number; length: number } | undefined {
    const row = w.version.get(decisionId) as [number, number] | undefined;
    return row === undefined ? undefined : { generation: row[0], length: row[1] + 1 };
  }

  function conflict(decisionId: string, expected: { generation: number; length: number }, actual?: { generation: number; length: number }) {
    return new StoreFault('CONCURRENCY_CONFLICT', `decision ${decisionId} changed concurrently`, {
      decisionId,
      expected,
      ...(actual === undefined ? {} : { actual }),
    });
  }

  function insertHeader(header: readonly [string, string, string, string, string], labels: readonly string[]): number {
    let listPosition: number;
    try {
      listPosition = Number(w.insertDecision.run(...header).lastInsertRowid);
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new StoreFault('DECISION_EXISTS', `decision ${header[0]} already exists`, { decisionId: header[0] });
      }
      throw error;
    }
    for (const label of labels) w.insertLabel.run(label, listPosition);
    return listPosition;
  }

  function insertEvents(
    decisionId: string,
    generation: number,
    firstSeq: number,
    events: readonly string[],
    status: string,
    from = 0,
    to = events.length / 6,
  ): number[] {
    const positions: number[] = [];
    for (let i = from; i < to; i++) {
      const at = i * 6;
      try {
        positions.push(
          Number(
            w.insertEvent.run(
              decisionId,
              generation,
              firstSeq + i,
              events[at],
              events[at + 1],
              events[at + 2],
              events[at + 3],
              events[at + 4],
              events[at + 5],
              status,
            ).lastInsertRowid,
          ),
        );
      } catch (error) {
        // Unreachable while the version check holds the write lock; still a lost race, never a raw error.
        if (isUniqueViolation(error)) throw conflict(decisionId, { generation, length: firstSeq });
        throw error;
      }
    }
    return positions;
  }

  /**
   * The writes of one append, under the write lock so the check and the inserts see and
   * change the same state. The idempotency key goes first: a key that exists fails the
   * append as IDEMPOTENCY_KEY_REUSED whatever else is wrong with it.
   */
  function writeAppend(args: AppendArgs): number[] {
    const { decisionId, generation, length, events, header, status, idempotency, routerResult, lease } = args;
    if (idempotency !== undefined) {
      // The store records the log it appends to: the one the writer expected (checked below).
      try {
        w.insertIdempotency.run(idempotency[0], idempotency[1], decisionId, generation, length);
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw new StoreFault('IDEMPOTENCY_KEY_REUSED', 'this idempotency key was used already', { idempotencyKey: idempotency[0] });
        }
        throw error;
      }
    }
    if (header !== undefined) {
      insertHeader(header, JSON.parse(header[4]) as string[]);
    } else {
      // Every log has at least one event, so no version means no decision.
      const actual = currentVersion(decisionId);
      if (actual === undefined) throw new StoreFault('DECISION_NOT_FOUND', `decision ${decisionId} does not exist`, { decisionId });
      if (actual.generation !== generation || actual.length !== length) throw conflict(decisionId, { generation, length }, actual);
    }
    const positions = insertEvents(decisionId, generation, length, events, status);
    if (routerResult !== undefined) w.upsertRouterResult.run(decisionId, generation, routerResult[0], routerResult[1]);
    // The run and its lease start and end in the same commit: a run never exists without its lease.
    if (lease !== undefined) leases.applyInAppend(decisionId, generation, length, lease);
    return positions;
  }

  const queue: WriteJob[] = [];
  let draining: Promise<void> | undefined;
  let closing = false;
  /** A write holding its transaction open until the caller's verdict arrives. */
  let held: { readonly id: number; readonly decide: (commit: boolean) => void } | undefined;
  /** Reads of the one-connection store that arrived while a transaction was held open. */
  const deferredReads: (() => void)[] = [];

  const fail = (id: number, error: unknown) => send({ kind: 'failed', id, fault: faultDataOf(toStoreFault(error, location)) });
  const closedFault = () => new StoreFault('STORE_UNAVAILABLE', `${location}: the store is closed`, { location });

  /** A held write that will not commit: the caller said so (and keeps its reason), or the store closed. */
  const refused = (what: string) => (closing ? closedFault() : new StoreFault(REFUSED, `the caller rolled the ${what} back`));

  function rollbackQuietly(): void {
    if (writer.inTransaction) {
      try {
        w.rollback.run();
      } catch {
        // The transaction is gone either way; the caller gets the original error.
      }
    }
  }

  /** Takes the write lock without blocking the thread; fails the jobs that waited longer than the busy timeout. */
  async function begin(): Promise<boolean> {
    let delay = 1;
    for (;;) {
      if (closing) return false;
      try {
        w.begin.run();
        return true;
      } catch (error) {
        if (!isBusy(error)) {
          for (const job of queue.splice(0)) fail(job.id, error);
          return false;
        }
        const now = Date.now();
        for (let i = 0; i < queue.length;) {
          const job = queue[i]!;
          if (now - job.queuedAt >= busyTimeoutMs) {
            queue.splice(i, 1);
            fail(job.id, error);
          } else i++;
        }
        if (queue.length === 0) return false;
        const oldest = queue[0]!.queuedAt;
        await sleep(Math.max(1, Math.min(delay, oldest + busyTimeoutMs - now)));
        delay = Math.min(delay * 2, 25);
      }
    }
  }

  /** Commits every queued append that fits in one transaction: one sync of the log for all. */
  function commitGroup(): void {
    let end = 0;
    while (end < queue.length && end < MAX_GROUP && queue[end]!.op === 'append') end++;
    const group = queue.splice(0, end);
    const outcomes: ({ ok: true; positions: number[] } | { ok: false; error: unknown })[] = [];
    try {
      if (group.length === 1) {
        try {
          outcomes.push({ ok: true, positions: writeAppend(group[0]!.args as AppendArgs) });
        } catch (error) {
          rollbackQuietly();
          fail(group[0]!.id, error);
          return;
        }
      } else {
        for (const job of group) {
          w.savepoint.run();
          try {
            const positions = writeAppend(job.args as AppendArgs);
            w.release.run();
            outcomes.push({ ok: true, positions });
          } catch (error) {
            // Only this append's writes go; the others in the group still commit.
            w.rollbackTo.run();
            w.release.run();
            outcomes.push({ ok: false, error });
          }
        }
      }
      w.commit.run();
    } catch (error) {
      rollbackQuietly();
      for (const job of group) fail(job.id, error);
      return;
    }
    group.forEach((job, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) send({ kind: 'done', id: job.id, result: outcome.positions });
      else fail(job.id, outcome.error);
    });
  }

  /** Waits for the caller's verdict while the transaction stays open. */
  function ask(id: number, message: FromWorker): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      held = { id, decide: resolve };
      send(message);
    });
  }

  function release(): void {
    held = undefined;
    for (const read of deferredReads.splice(0)) read();
  }

  /**
   * The writes that run in a transaction of their own, inside which they may wait for the
   * caller (`ask`). An append runs here only when hooked; otherwise it commits in a group.
   */
  const writes: { [K in WriteOp]: (id: number, args: Requests[K]) => Results[K] | Promise<Results[K]> } = {
    async append(id, args) {
      const positions = writeAppend(args);
      if (hooked && !(await ask(id, { kind: 'ask', id }))) throw refused('append');
      return positions;
    },
    importDecision: (id, args) => writeImport(id, args),
    createTemplate(_id, { row }) {
      try {
        w.insertTemplate.run(...row);
      } catch (error) {
        if (isUniqueViolation(error)) throw new StoreFault('TEMPLATE_EXISTS', `template ${row[0]} already exists`, { name: row[0] });
        throw error;
      }
      return null;
    },
    renewLease(_id, { decisionId, owner, expiresAt }) {
      return leases.renew(decisionId, owner, expiresAt);
    },
    takeOverLease(_id, { decisionId, fromOwner, now, owner, expiresAt }) {
      return leases.takeOver(decisionId, fromOwner, now, owner, expiresAt);
    },
    releaseLease(_id, { decisionId, owner }) {
      return leases.release(decisionId, owner);
    },
  };

  /** One write in its own transaction, which may stay open across a round trip to the caller. */
  async function runAlone(job: WriteJob): Promise<void> {
    try {
      const result: unknown = await (writes[job.op] as (id: number, args: unknown) => unknown)(job.id, job.args);
      if (closing) throw closedFault();
      w.commit.run();
      send({ kind: 'done', id: job.id, result });
    } catch (error) {
      rollbackQuietly();
      fail(job.id, error);
    } finally {
      release();
    }
  }

  async function writeImport(id: number, args: ImportArgs): Promise<Results['importDecision']> {
    const { header, labels, status, events, overwrite, expected, verify } = args;
    const decisionId = header[0];
    const existing = w.importTarget.get(decisionId) as [number, string] | undefined;
    let generation = 0;
    if (existing === undefined) {
      if (expected !== undefined) throw conflict(decisionId, expected);
      insertHeader(header, labels);
    } else if (!overwrite) {
      throw new StoreFault('DECISION_EXISTS', `decision ${decisionId} already exists`, { decisionId });
    } else {
      const actual = currentVersion(decisionId)!;
      if (expected !== undefined && (expected.generation !== actual.generation || expected.length !== actual.length)) {
        throw conflict(decisionId, expected, actual);
      }
      // The replaced log stays as it is, superseded; the listing row keeps its place.
      generation = actual.generation + 1;
      const [listPosition, oldLabels] = existing;
      for (const label of JSON.parse(oldLabels) as string[]) w.deleteLabel.run(label, listPosition);
      w.replaceDecision.run(header[1], header[2], header[3], header[4], generation, listPosition);
      for (const label of labels) w.insertLabel.run(label, listPosition);
      // A run on the replaced log is gone with it.
      leases.drop(decisionId);
    }
    const count = events.length / 6;
    const positions: number[] = [];
    for (let from = 0; from < count; from += IMPORT_CHUNK) {
      if (from > 0) {
        // A long import lets the read connection answer between its chunks.
        held = { id, decide: () => undefined };
        await nextTurn();
        if (closing) throw closedFault();
      }
      for (const position of insertEvents(decisionId, generation, 0, events, status, from, Math.min(count, from + IMPORT_CHUNK))) {
        positions.push(position);
      }
    }
    if (verify && !(await ask(id, { kind: 'ask', id, positions, generation }))) throw refused('import');
    return { generation, positions };
  }

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      if (!(await begin())) continue;
      if (queue.length === 0) {
        rollbackQuietly();
        continue;
      }
      if (queue[0]!.op === 'append' && !hooked) commitGroup();
      else await runAlone(queue.shift()!);
      // Let the appends that arrived meanwhile queue up: they commit together next.
      await nextTurn();
    }
    draining = undefined;
  }

  return {
    call(id, op, args) {
      if (isWriteOp(op)) {
        if (closing) return fail(id, closedFault());
        queue.push({ id, op, args, queuedAt: Date.now() });
        draining ??= drain();
        return;
      }
      const read = () => {
        try {
          send({ kind: 'done', id, result: (reads[op] as (args: unknown, id: number) => unknown)(args, id) });
        } catch (error) {
          fail(id, error);
        }
      };
      // One connection: a read must not see a transaction held open for the caller.
      if (shared && held !== undefined) deferredReads.push(read);
      else read();
    },
    verdict(id, commit) {
      if (held?.id === id) held.decide(commit);
    },
    async close() {
      closing = true;
      for (const job of queue.splice(0)) fail(job.id, closedFault());
      held?.decide(false);
      await draining;
      for (const read of deferredReads.splice(0)) read();
      if (!shared) reader.close();
      writer.close();
    },
  };
}
