import {
  assertExpectedVersion,
  checkAppendRequest,
  checkReadFeedOptions,
  copyStoredEvent,
  FEED_START,
  NexusError,
  type BeforeCommitHook,
  type EventStore,
  type FeedPage,
  type StoredEvent,
} from '@nexus-control/core';

/** The data several handles of the broken store share. */
export interface InsertOrderDatabase {
  readonly logs: Map<string, StoredEvent[]>;
  /** Committed events, ascending by position. */
  readonly visible: StoredEvent[];
  nextPosition: number;
}

export function createInsertOrderDatabase(): InsertOrderDatabase {
  return { logs: new Map(), visible: [], nextPosition: 1 };
}

const positionOf = (event: StoredEvent) => Number(event.checkpoint);

/**
 * A deliberately broken store: it takes feed positions when an append inserts its rows (as a
 * database sequence does), before the append commits, and calls the highest committed
 * position its head. An append that commits after a later-numbered one lands behind readers
 * that already moved past it. Only what the out-of-order case uses is implemented.
 */
export function createInsertOrderStore(database: InsertOrderDatabase, beforeCommit?: BeforeCommitHook): EventStore {
  const head = () => {
    const last = database.visible[database.visible.length - 1];
    return last === undefined ? FEED_START : last.checkpoint;
  };
  const unsupported = async (): Promise<never> => {
    throw new NexusError('INTERNAL', 'not implemented by this broken store');
  };
  return {
    async append(request) {
      checkAppendRequest(request);
      const { decisionId, expectedVersion } = request;
      const current = () => {
        const log = database.logs.get(decisionId);
        return log === undefined ? undefined : { generation: 0, length: log.length };
      };
      if (request.header === undefined && current() === undefined) {
        throw new NexusError('DECISION_NOT_FOUND', `decision ${decisionId} does not exist`);
      }
      assertExpectedVersion(decisionId, expectedVersion, current() ?? { generation: 0, length: 0 });
      // The bug: positions are taken at insert, before the commit.
      const stored = request.events.map((event, i): StoredEvent => ({
        ...event,
        decisionId,
        seq: expectedVersion.length + i,
        generation: 0,
        checkpoint: String(database.nextPosition++),
      }));
      await beforeCommit?.(decisionId);
      assertExpectedVersion(decisionId, expectedVersion, current() ?? { generation: 0, length: 0 });
      const log = database.logs.get(decisionId) ?? [];
      database.logs.set(decisionId, log);
      for (const event of stored) {
        log.push(event);
        const at = database.visible.findIndex((e) => positionOf(e) > positionOf(event));
        database.visible.splice(at === -1 ? database.visible.length : at, 0, event);
      }
      return { events: stored.map((event) => copyStoredEvent(event)) };
    },
    async readEvents(decisionId) {
      return (database.logs.get(decisionId) ?? []).map((event) => copyStoredEvent(event));
    },
    async readFeed(options): Promise<FeedPage> {
      const { after, decisionId, limit } = checkReadFeedOptions(options);
      const afterPosition = after === FEED_START ? 0 : Number(after);
      const matching = database.visible.filter(
        (e) => positionOf(e) > afterPosition && (decisionId === undefined || e.decisionId === decisionId),
      );
      const events = matching.slice(0, limit);
      const caughtUp = matching.length <= limit;
      const last = events[events.length - 1];
      return {
        events: events.map((event) => copyStoredEvent(event)),
        checkpoint: caughtUp ? head() : (last as StoredEvent).checkpoint,
        caughtUp,
      };
    },
    async headCheckpoint() {
      return head();
    },
    getDecision: unsupported,
    listDecisions: unsupported,
    getIdempotency: unsupported,
    getRouterResult: unsupported,
    importDecision: unsupported,
    createTemplate: unsupported,
    renewLease: unsupported,
    listExpiredLeases: unsupported,
    takeOverLease: unsupported,
    releaseLease: unsupported,
    getTemplate: unsupported,
    listTemplates: unsupported,
    async close() {},
  };
}
