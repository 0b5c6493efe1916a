import { openMongoStore } from '@nexus-control/store-mongo';
import { compareReplay } from '../fixtures/compareReplay.js';
import { EVENTS } from '../fixtures/decisionLog.js';
import { describeComparison } from '../measure.js';
import type { Scenario } from '../scenario.js';
import { benchDatabase, benchMongoServer } from './mongoServer.js';

export const mongoReplay: Scenario = {
  name: 'mongo-replay',
  description: `reading and replaying a ${EVENTS.toLocaleString('en-US')}-event decision vs a raw find + JSON.parse of the same documents`,
  target: 0.7,
  async run({ seconds, log }) {
    const { url, client, serverLine } = await benchMongoServer();
    const database = benchDatabase('replay');
    const store = await openMongoStore(url, { client, database });
    try {
      const collection = client.db(database).collection<{ _id: number; j: string }>('events');
      const comparison = await compareReplay(store, {
        seconds,
        log,
        // Batches small enough that no single command holds the emulator (one lock) for long.
        batch: 100,
        baseline: (decisionId) => ({
          name: 'driver find (sorted by seq) + JSON.parse of each payload',
          operation: async () => {
            const docs = await collection.find({ d: decisionId, g: 0 }, { sort: { s: 1 } }).toArray();
            return docs.map((doc) => JSON.parse(doc.j) as unknown);
          },
        }),
      });
      return { ratio: comparison.ratio, lines: [serverLine, ...describeComparison('replay', comparison, 'replays')] };
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
