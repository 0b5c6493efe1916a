import { NEW_DECISION, replayDecision } from '@nexus-control/core';
import { openMongoStore } from '@nexus-control/store-mongo';
import { compareThroughput, describeComparison } from '../measure.js';
import type { Scenario } from '../scenario.js';
import { benchDatabase, benchMongoServer } from './mongoServer.js';
import { decisionLog, EVENTS as REPLAY_EVENTS, ts as replayTs } from './sqliteReplay.js';

export const mongoReplay: Scenario = {
  name: 'mongo-replay',
  description: `reading and replaying a ${REPLAY_EVENTS.toLocaleString('en-US')}-event decision vs a raw find + JSON.parse of the same documents`,
  target: 0.7,
  async run({ seconds, log }) {
    const { url, client, serverLine } = await benchMongoServer();
    const database = benchDatabase('replay');
    const store = await openMongoStore(url, { client, database });
    try {
      const setupStart = Date.now();
      const decisionId = 'dec_bench_replay';
      const events = decisionLog();
      const first = events[0]!;
      // Batches small enough that no single command holds the emulator (one lock) for long.
      const batch = 100;
      for (let seq = 0; seq < events.length; seq += batch) {
        await store.append({
          decisionId,
          expectedVersion: seq === 0 ? NEW_DECISION : { generation: 0, length: seq },
          events: events.slice(seq, seq + batch),
          status: 'pending_approval',
          ...(seq === 0
            ? {
                header: {
                  decisionId,
                  createdAt: first.ts,
                  goal: 'keep the payment gateway keys rotated',
                  requestedMode: 'apply' as const,
                  labels: ['prod', 'payments'],
                },
              }
            : {}),
        });
      }
      const asOf = replayTs(REPLAY_EVENTS + 1);
      const view = replayDecision(await store.readEvents(decisionId), { asOf });
      log(`wrote ${view.eventCount} events in ${Date.now() - setupStart} ms; replayed status ${view.status}, ${view.activeApprovals} active approvals`);

      const ours = async () => replayDecision(await store.readEvents(decisionId), { asOf });
      const collection = client.db(database).collection<{ _id: number; j: string }>('events');
      const baseline = async () => {
        const docs = await collection.find({ d: decisionId, g: 0 }, { sort: { s: 1 } }).toArray();
        return docs.map((doc) => JSON.parse(doc.j) as unknown);
      };
      const budgetMs = Math.max(1000, seconds * 1000 * 0.9 - (Date.now() - setupStart));
      const comparison = await compareThroughput(
        { name: 'store.readEvents + replayDecision', operation: ours },
        { name: 'driver find (sorted by seq) + JSON.parse of each payload', operation: baseline },
        { budgetMs },
      );
      return { ratio: comparison.ratio, lines: [serverLine, ...describeComparison('replay', comparison, 'replays')] };
    } finally {
      await store.close();
      await client.db(database).dropDatabase().catch(() => undefined);
      await client.close();
    }
  },
};
