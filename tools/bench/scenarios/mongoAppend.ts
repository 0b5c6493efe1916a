import { openMongoStore } from '@nexus-control/store-mongo';
import { benchApproval, createBenchDecision } from '../fixtures/benchDecision.js';
import { compareThroughput, describeComparison } from '../measure.js';
import type { Scenario } from '../scenario.js';
import { benchDatabase, benchMongoServer } from './mongoServer.js';

export const mongoAppend: Scenario = {
  name: 'mongo-append',
  description:
    'single-event append (transaction: version check, decision update, feed counter) vs a raw insertOne of the same document in its own transaction',
  target: 0.7,
  async run({ seconds }) {
    const { url, client, serverLine } = await benchMongoServer();
    const database = benchDatabase('append');
    const store = await openMongoStore(url, { client, database });
    try {
      const decisionId = 'dec_bench_append';
      await createBenchDecision(store, decisionId);
      const event = benchApproval();

      let length = 1;
      const ours = async () => {
        await store.append({ decisionId, expectedVersion: { generation: 0, length }, events: [event], status: 'approved' });
        length++;
      };

      // The same event document, in a collection of the same database, one transaction each.
      const raw = client.db(database).collection('raw_events');
      await raw.insertOne({ _id: 0 as never });
      let rawId = 1;
      const baseline = async () => {
        const id = rawId++;
        const session = client.startSession();
        try {
          await session.withTransaction(async (s) => {
            const doc = {
              _id: id,
              d: 'dec_bench_raw',
              g: 0,
              s: id,
              t: event.type,
              ts: event.ts,
              at: event.actor.type,
              ai: event.actor.id,
              j: event.payloadJson,
              h: event.digest,
            };
            await raw.insertOne(doc as never, { session: s });
          });
        } finally {
          await session.endSession();
        }
      };

      const comparison = await compareThroughput(
        { name: 'store.append, 1 event with expectedVersion', operation: ours },
        { name: 'driver withTransaction { insertOne }', operation: baseline },
        { budgetMs: seconds * 1000 * 0.9 },
      );
      return { ratio: comparison.ratio, lines: [serverLine, ...describeComparison('append', comparison, 'appends')] };
    } finally {
      await store.close();
      await client
        .db(database)
        .dropDatabase()
        .catch(() => undefined);
      await client.close();
    }
  },
};
