import { ReadConcern, WriteConcern, type ClientSession, type Filter, type MongoClient } from 'mongodb';
import {
  ConcurrencyConflictError,
  NEW_DECISION,
  NexusError,
  assertExpectedVersion,
  assertStorableEvent,
  assertStorableHeader,
  assertStorableText,
  canonicalJson,
  checkAppendRequest,
  checkImportRequest,
  checkLeaseOwner,
  checkLeaseTakeover,
  checkLeaseTime,
  checkReadEventsOptions,
  checkReadFeedOptions,
  compareCodePoints,
  decodeDecisionCursor,
  encodeDecisionCursor,
  invalidCheckpoint,
  leaseListLimit,
  pageSizeOf,
  parsePayload,
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
  type ListDecisionsOptions,
  type LogVersion,
  type Mode,
  type NewEvent,
  type ReadEventsOptions,
  type ReadFeedOptions,
  type StoredEvent,
  type TemplateRecord,
} from '@nexus-control/core';
import {
  routerResultId,
  storeCollections,
  type DecisionDocument,
  type EventDocument,
  type LeaseDocument,
  type TemplateDocument,
} from './collections.js';
import { createAppendNotifier } from './createAppendNotifier.js';
import { decodeFeedCheckpoint, encodeFeedCheckpoint } from './feedCheckpoint.js';
import { isDuplicateKey, toStoreError } from './mongoErrors.js';
import { runTransaction } from './runTransaction.js';

export interface MongoEventStoreOptions {
  /** A connected client; the store closes it on `close()` only when `ownsClient`. */
  readonly client: MongoClient;
  readonly ownsClient: boolean;
  /** The database holding this store's collections (set up with `ensureSchema`). */
  readonly databaseName: string;
  /** How the server is named in messages: never with credentials (see `describeMongoUrl`). */
  readonly location: string;
  /** Test seam: awaited inside each append's transaction right before its commit. */
  readonly beforeCommit?: BeforeCommitHook;
  /** How often `onAppend` listeners are woken by polling when no change stream can be opened. */
  readonly pollIntervalMs?: number;
  /** `false`: poll for wake-ups instead of opening a change stream; default true. */
  readonly changeStreams?: boolean;
  /** How long one read of the change stream waits on the server; default 1000 ms. */
  readonly changeStreamMaxAwaitMs?: number;
}

const EVENT_FIELDS = { _id: 1, d: 1, g: 1, s: 1, t: 1, ts: 1, at: 1, ai: 1, j: 1, h: 1 } as const;

function eventFromDocument(doc: EventDocument): StoredEvent {
  return {
    decisionId: doc.d,
    seq: doc.s,
    generation: doc.g,
    checkpoint: encodeFeedCheckpoint(doc._id),
    type: doc.t as DecisionEventType,
    ts: doc.ts,
    actor: { type: doc.at as ActorType, id: doc.ai },
    payload: parsePayload(doc.j),
    payloadJson: doc.j,
    digest: doc.h,
  };
}

function eventDocument(decisionId: string, generation: number, seq: number, position: number, event: NewEvent): EventDocument {
  return {
    _id: position,
    d: decisionId,
    g: generation,
    s: seq,
    t: event.type,
    ts: event.ts,
    at: event.actor.type,
    ai: event.actor.id,
    j: event.payloadJson,
    h: event.digest,
  };
}

function summaryFromDocument(doc: DecisionDocument): DecisionSummary {
  return {
    decisionId: doc._id,
    createdAt: doc.createdAt,
    goal: doc.goal,
    requestedMode: doc.requestedMode as Mode,
    labels: [...doc.labels],
    status: doc.status as DecisionStatus,
    eventCount: doc.length,
    generation: doc.generation,
    updatedAt: doc.updatedAt,
  };
}

function templateFromDocument(doc: TemplateDocument): TemplateRecord {
  return {
    name: doc._id,
    snapshot: parsePayload(doc.snapshot),
    digest: doc.digest,
    createdAt: doc.createdAt,
    createdBy: { type: doc.createdByType as ActorType, id: doc.createdById },
  };
}

function checkEvents(events: readonly NewEvent[]): void {
  for (const event of events) {
    assertStorableEvent(event);
  }
}

function leaseFromDocument(doc: LeaseDocument): ExecutionLease {
  return { decisionId: doc._id, generation: doc.generation, requestedSeq: doc.requestedSeq, owner: doc.owner, expiresAt: doc.expiresAt };
}

/** A decision id used as a query value must be a string: anything else could be an operator (`{ $ne: … }`). */
function checkDecisionIdArgument(decisionId: unknown): string {
  if (typeof decisionId !== 'string' || decisionId === '') {
    throw new NexusError('INVALID_ARGUMENT', 'a decision id must be a non-empty string', {});
  }
  return decisionId;
}

function versionOf(doc: DecisionDocument): LogVersion {
  return { generation: doc.generation, length: doc.length };
}

/**
 * An EventStore on one MongoDB database of a replica set. Every write is one multi-document
 * transaction; unique indexes and conditional updates make a lost race fail on the server, so
 * the guarantees hold across processes. Feed positions come from one counter document that
 * every append increments inside its transaction: writers serialize on it, which is what makes
 * the feed order equal the commit order (see the package README).
 */
export function createMongoEventStore(options: MongoEventStoreOptions): EventStore {
  const { client, location, beforeCommit } = options;
  // Majority on every read and write, whatever the client's defaults: a read never sees a write
  // that a failover could still roll back, and the feed head is never ahead of what survives.
  const db = client.db(options.databaseName, { readConcern: new ReadConcern('majority'), writeConcern: new WriteConcern('majority') });
  const collections = storeCollections(db);
  const { events, decisions, idempotency, routerResults, templates, meta, leases } = collections;
  const notifier = createAppendNotifier({
    meta,
    pollIntervalMs: options.pollIntervalMs ?? 1000,
    changeStreams: options.changeStreams ?? true,
    changeStreamMaxAwaitMs: options.changeStreamMaxAwaitMs ?? 1000,
    readHead: () => readHead(),
  });
  let closed = false;

  function assertOpen(): void {
    if (closed) throw new NexusError('STORE_UNAVAILABLE', `MongoDB at ${location}: the store is closed`, { location });
  }

  async function run<T>(work: () => Promise<T>): Promise<T> {
    assertOpen();
    try {
      return await work();
    } catch (error) {
      throw toStoreError(error, location);
    }
  }

  async function readHead(session?: ClientSession): Promise<number> {
    const doc = await meta.findOne({ _id: 'feed' }, session === undefined ? {} : { session });
    return doc !== null && 'position' in doc ? doc.position : 0;
  }

  /** Takes `count` feed positions inside the transaction; returns the first. */
  async function allocatePositions(count: number, session: ClientSession): Promise<number> {
    const doc = await meta.findOneAndUpdate(
      { _id: 'feed' },
      { $inc: { position: count } },
      { session, returnDocument: 'after', includeResultMetadata: false },
    );
    if (doc === null || !('position' in doc)) {
      throw new NexusError('STORE_CORRUPT', `MongoDB at ${location}: the feed counter document is missing`, { location });
    }
    return doc.position - count + 1;
  }

  async function readLog(
    decisionId: string,
    generation: number,
    fromSeq: number,
    toSeq: number | undefined,
    session?: ClientSession,
  ): Promise<StoredEvent[]> {
    const seqRange = toSeq === undefined ? { $gte: fromSeq } : { $gte: fromSeq, $lte: toSeq };
    const docs = await events
      .find({ d: decisionId, g: generation, s: seqRange }, { projection: EVENT_FIELDS, sort: { s: 1 }, ...(session ? { session } : {}) })
      .toArray();
    return docs.map(eventFromDocument);
  }

  async function insertIdempotency(request: AppendRequest, session: ClientSession): Promise<void> {
    const { idempotency: idem, decisionId, expectedVersion } = request;
    if (idem === undefined) return;
    try {
      await idempotency.insertOne(
        {
          _id: idem.key,
          fingerprint: idem.fingerprint,
          decisionId,
          generation: expectedVersion.generation,
          seq: expectedVersion.length,
        },
        { session },
      );
    } catch (error) {
      if (isDuplicateKey(error)) {
        throw new NexusError('IDEMPOTENCY_KEY_REUSED', 'this idempotency key was used already', { idempotencyKey: idem.key });
      }
      throw error;
    }
  }

  async function appendInTransaction(request: AppendRequest, session: ClientSession): Promise<StoredEvent[]> {
    const { decisionId, expectedVersion, header, status } = request;
    const newEvents = request.events;
    const count = newEvents.length;
    const updatedAt = newEvents[count - 1]!.ts;
    // First, so that a reused key fails the append whatever else is wrong with it.
    await insertIdempotency(request, session);
    let first: number;
    if (header !== undefined) {
      first = await allocatePositions(count, session);
      try {
        await decisions.insertOne(
          {
            _id: decisionId,
            listPosition: first,
            createdAt: header.createdAt,
            goal: header.goal,
            requestedMode: header.requestedMode,
            labels: [...header.labels],
            status,
            generation: 0,
            length: count,
            updatedAt,
          },
          { session },
        );
      } catch (error) {
        if (isDuplicateKey(error)) {
          throw new NexusError('DECISION_EXISTS', `decision ${decisionId} already exists`, { decisionId });
        }
        throw error;
      }
    } else {
      // One conditional update checks the version and claims it: a concurrent writer of this
      // decision makes one of the two transactions fail on this document (a write conflict,
      // then a retry that no longer matches). Only a miss reads the document, to say why.
      const updated = await decisions.updateOne(
        { _id: decisionId, generation: expectedVersion.generation, length: expectedVersion.length },
        { $set: { length: expectedVersion.length + count, status, updatedAt } },
        { session },
      );
      if (updated.matchedCount !== 1) {
        const current = await decisions.findOne({ _id: decisionId }, { session, projection: { generation: 1, length: 1 } });
        if (current === null) {
          throw new NexusError('DECISION_NOT_FOUND', `decision ${decisionId} does not exist`, { decisionId });
        }
        throw new ConcurrencyConflictError(decisionId, expectedVersion, versionOf(current));
      }
      first = await allocatePositions(count, session);
    }
    const { generation, length } = expectedVersion;
    const docs = newEvents.map((event, i) => eventDocument(decisionId, generation, length + i, first + i, event));
    try {
      await events.insertMany(docs, { session, ordered: true });
    } catch (error) {
      // Unreachable while the version check above holds; still a lost race, never a raw error.
      if (isDuplicateKey(error)) throw new ConcurrencyConflictError(decisionId, expectedVersion, undefined);
      throw error;
    }
    // The lease changes only if this transaction commits: after the version check above, so a
    // lost race takes no lease and ends none.
    const { lease } = request;
    if (lease === 'release') {
      await leases.deleteOne({ _id: decisionId }, { session });
    } else if (lease !== undefined) {
      await leases.replaceOne(
        { _id: decisionId },
        { generation, requestedSeq: length, owner: lease.owner, expiresAt: lease.expiresAt },
        { session, upsert: true },
      );
    }
    const { routerResult } = request;
    if (routerResult !== undefined) {
      await routerResults.updateOne(
        { _id: routerResultId(decisionId, routerResult.runId) },
        { $set: { decisionId, runId: routerResult.runId, responseJson: routerResult.responseJson } },
        { session, upsert: true },
      );
    }
    if (beforeCommit !== undefined) await beforeCommit(decisionId);
    return docs.map((doc, i) => storedEventOf(newEvents[i]!, doc.d, doc.s, doc.g, encodeFeedCheckpoint(doc._id)));
  }

  async function importInTransaction(request: ImportRequest, session: ClientSession): Promise<StoredEvent[]> {
    const { header, status, conflictMode, expectedVersion, verify } = request;
    const decisionId = header.decisionId;
    const newEvents = request.events;
    const count = newEvents.length;
    const updatedAt = newEvents[count - 1]!.ts;
    const current = await decisions.findOne({ _id: decisionId }, { session });
    let generation = 0;
    if (current === null) {
      if (expectedVersion !== undefined && conflictMode === 'overwrite') {
        assertExpectedVersion(decisionId, expectedVersion, NEW_DECISION);
      }
      const first = await allocatePositions(count, session);
      try {
        await decisions.insertOne(
          {
            _id: decisionId,
            listPosition: first,
            createdAt: header.createdAt,
            goal: header.goal,
            requestedMode: header.requestedMode,
            labels: [...header.labels],
            status,
            generation,
            length: count,
            updatedAt,
          },
          { session },
        );
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        if (conflictMode === 'reject') {
          throw new NexusError('DECISION_EXISTS', `decision ${decisionId} already exists`, { decisionId });
        }
        throw new ConcurrencyConflictError(decisionId, expectedVersion ?? NEW_DECISION, undefined);
      }
      await insertLog(decisionId, generation, first, newEvents, session);
    } else {
      if (conflictMode === 'reject') {
        throw new NexusError('DECISION_EXISTS', `decision ${decisionId} already exists`, { decisionId });
      }
      const replaced = versionOf(current);
      if (expectedVersion !== undefined) assertExpectedVersion(decisionId, expectedVersion, replaced);
      generation = replaced.generation + 1;
      // The listing row keeps its place; the replaced log stays, superseded, under its generation.
      const updated = await decisions.updateOne(
        { _id: decisionId, generation: replaced.generation, length: replaced.length },
        {
          $set: {
            createdAt: header.createdAt,
            goal: header.goal,
            requestedMode: header.requestedMode,
            labels: [...header.labels],
            status,
            generation,
            length: count,
            updatedAt,
          },
        },
        { session },
      );
      if (updated.matchedCount !== 1) throw new ConcurrencyConflictError(decisionId, replaced, undefined);
      // The lease belonged to a run on the replaced log.
      await leases.deleteOne({ _id: decisionId }, { session });
      const first = await allocatePositions(count, session);
      await insertLog(decisionId, generation, first, newEvents, session);
    }
    const written = await readLog(decisionId, generation, 0, undefined, session);
    if (verify !== undefined) await verify(written);
    return written;
  }

  async function insertLog(
    decisionId: string,
    generation: number,
    first: number,
    newEvents: readonly NewEvent[],
    session: ClientSession,
  ): Promise<void> {
    const docs = newEvents.map((event, seq) => eventDocument(decisionId, generation, seq, first + seq, event));
    try {
      await events.insertMany(docs, { session, ordered: true });
    } catch (error) {
      if (isDuplicateKey(error)) {
        throw new ConcurrencyConflictError(decisionId, { generation, length: 0 }, undefined);
      }
      throw error;
    }
  }

  function checkAppend(request: AppendRequest): void {
    checkAppendRequest(request);
    assertStorableText(request.decisionId, 'decision id');
    if (request.header !== undefined) assertStorableHeader(request.header);
    assertStorableText(request.status, 'status');
    checkEvents(request.events);
    if (request.idempotency !== undefined) {
      assertStorableText(request.idempotency.key, 'idempotency key');
      assertStorableText(request.idempotency.fingerprint, 'idempotency fingerprint');
    }
    if (request.lease !== undefined && request.lease !== 'release') assertStorableText(request.lease.owner, 'lease owner');
    if (request.routerResult !== undefined) {
      assertStorableText(request.routerResult.runId, 'run id');
      assertStorableText(request.routerResult.responseJson, 'router response');
    }
  }

  function checkImport(request: ImportRequest): void {
    checkImportRequest(request);
    assertStorableHeader(request.header);
    assertStorableText(request.status, 'status');
    checkEvents(request.events);
  }

  const store: EventStore = {
    async append(request) {
      checkAppend(request);
      assertOpen();
      const stored = await runTransaction(
        client,
        location,
        (session) => appendInTransaction(request, session),
        () => new ConcurrencyConflictError(request.decisionId, request.expectedVersion, undefined),
      );
      notifier.notifyLocal();
      return { events: stored };
    },

    async readEvents(decisionId, readOptions?: ReadEventsOptions) {
      const { fromSeq, toSeq, generation } = checkReadEventsOptions(readOptions);
      return run(async () => {
        let log = generation;
        if (log === undefined) {
          const current = await decisions.findOne({ _id: decisionId }, { projection: { generation: 1 } });
          if (current === null) return [];
          log = current.generation;
        }
        return readLog(decisionId, log, fromSeq, toSeq);
      });
    },

    async getDecision(decisionId) {
      return run(async () => {
        const doc = await decisions.findOne({ _id: decisionId });
        return doc === null ? undefined : summaryFromDocument(doc);
      });
    },

    async listDecisions(options: ListDecisionsOptions = {}): Promise<DecisionPage> {
      const limit = pageSizeOf(options.limit);
      const before = options.cursor === undefined ? undefined : decodeDecisionCursor(options.cursor);
      const filter: Filter<DecisionDocument> = {};
      if (options.label !== undefined) filter.labels = options.label;
      if (options.status !== undefined) filter.status = options.status;
      if (before !== undefined) filter.listPosition = { $lt: before };
      return run(async () => {
        const docs = await decisions.find(filter, { sort: { listPosition: -1 }, limit: limit + 1 }).toArray();
        const items = docs.slice(0, limit).map(summaryFromDocument);
        const last = docs.length > limit ? docs[limit - 1] : undefined;
        return last === undefined ? { items } : { items, nextCursor: encodeDecisionCursor(last.listPosition) };
      });
    },

    async readFeed(feedOptions?: ReadFeedOptions): Promise<FeedPage> {
      const { after: afterCheckpoint, decisionId, limit } = checkReadFeedOptions(feedOptions);
      const after = decodeFeedCheckpoint(afterCheckpoint);
      return run(async () => {
        // The counter commits with the events it numbered, and writers commit in counter
        // order: every position up to the head read here is committed and visible.
        const head = await readHead();
        // A position past the head was never handed out by this database.
        if (after > head) throw invalidCheckpoint(afterCheckpoint);
        if (head === after) return { events: [], checkpoint: encodeFeedCheckpoint(after), caughtUp: true };
        const range = { $gt: after, $lte: head };
        const filter: Filter<EventDocument> = decisionId === undefined ? { _id: range } : { d: decisionId, _id: range };
        const docs = await events.find(filter, { projection: EVENT_FIELDS, sort: { _id: 1 }, limit }).toArray();
        const page = docs.map(eventFromDocument);
        const last = docs[docs.length - 1];
        if (docs.length < limit || last === undefined || last._id === head) {
          return { events: page, checkpoint: encodeFeedCheckpoint(head), caughtUp: true };
        }
        return { events: page, checkpoint: encodeFeedCheckpoint(last._id), caughtUp: false };
      });
    },

    async headCheckpoint() {
      return run(async () => encodeFeedCheckpoint(await readHead()));
    },

    async getIdempotency(key) {
      return run(async (): Promise<IdempotencyRecord | undefined> => {
        const doc = await idempotency.findOne({ _id: key });
        return doc === null
          ? undefined
          : { key: doc._id, fingerprint: doc.fingerprint, decisionId: doc.decisionId, generation: doc.generation, seq: doc.seq };
      });
    },

    async getRouterResult(decisionId, runId) {
      return run(async () => {
        const doc = await routerResults.findOne({ _id: routerResultId(decisionId, runId) });
        return doc === null ? undefined : { runId, responseJson: doc.responseJson };
      });
    },

    async importDecision(request: ImportRequest): Promise<AppendResult> {
      checkImport(request);
      assertOpen();
      const decisionId = request.header.decisionId;
      const stored = await runTransaction(
        client,
        location,
        (session) => importInTransaction(request, session),
        () => new ConcurrencyConflictError(decisionId, request.expectedVersion ?? NEW_DECISION, undefined),
      );
      notifier.notifyLocal();
      return { events: stored };
    },

    async createTemplate(template: TemplateRecord) {
      assertStorableText(template.name, 'template name');
      assertStorableText(template.digest, 'template digest');
      assertStorableText(template.createdAt, 'template createdAt');
      assertStorableText(template.createdBy.type, 'template creator type');
      assertStorableText(template.createdBy.id, 'template creator id');
      const snapshot = canonicalJson(template.snapshot);
      await run(async () => {
        try {
          await templates.insertOne({
            _id: template.name,
            snapshot,
            digest: template.digest,
            createdAt: template.createdAt,
            createdByType: template.createdBy.type,
            createdById: template.createdBy.id,
          });
        } catch (error) {
          if (isDuplicateKey(error)) {
            throw new NexusError('TEMPLATE_EXISTS', `template ${template.name} already exists`, { name: template.name });
          }
          throw error;
        }
      });
    },

    async getTemplate(name) {
      return run(async () => {
        const doc = await templates.findOne({ _id: name });
        return doc === null ? undefined : templateFromDocument(doc);
      });
    },

    async listTemplates() {
      return run(async () => {
        const docs = await templates.find({}).toArray();
        // Sorted here by code points, the order every store lists templates in.
        return docs.map(templateFromDocument).sort((a, b) => compareCodePoints(a.name, b.name));
      });
    },

    async renewLease(decisionId, owner, expiresAt) {
      const id = checkDecisionIdArgument(decisionId);
      assertStorableText(checkLeaseOwner(owner), 'lease owner');
      checkLeaseTime(expiresAt, 'expiresAt');
      return run(async () => (await leases.updateOne({ _id: id, owner }, { $set: { expiresAt } })).matchedCount === 1);
    },

    async listExpiredLeases(now, limit) {
      checkLeaseTime(now, 'now');
      const size = leaseListLimit(limit);
      return run(async () => {
        const docs = await leases.find({ expiresAt: { $lte: now } }, { sort: { expiresAt: 1, _id: 1 }, limit: size }).toArray();
        return docs.map(leaseFromDocument);
      });
    },

    async takeOverLease(takeover) {
      const { decisionId, fromOwner, now, grant } = checkLeaseTakeover(takeover);
      assertStorableText(decisionId, 'decision id');
      assertStorableText(fromOwner, 'fromOwner');
      assertStorableText(grant.owner, 'lease owner');
      // One conditional update of one document: of concurrent takers, the first to write
      // changes the owner and every other no longer matches.
      return run(
        async () =>
          (
            await leases.updateOne(
              { _id: decisionId, owner: fromOwner, expiresAt: { $lte: now } },
              { $set: { owner: grant.owner, expiresAt: grant.expiresAt } },
            )
          ).matchedCount === 1,
      );
    },

    async releaseLease(decisionId, owner) {
      const id = checkDecisionIdArgument(decisionId);
      assertStorableText(checkLeaseOwner(owner), 'lease owner');
      return run(async () => (await leases.deleteOne({ _id: id, owner })).deletedCount === 1);
    },

    onAppend(listener) {
      return notifier.subscribe(listener);
    },

    async close() {
      if (closed) return;
      closed = true;
      await notifier.close();
      if (options.ownsClient) await client.close();
    },
  };
  return store;
}
