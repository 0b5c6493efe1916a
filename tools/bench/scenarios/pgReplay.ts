import { replayDecision } from '@nexus-control/core';
import { openPostgresStore } from '@nexus-control/store-postgres';
import { compareThroughput, describeComparison } from '../measure.js';
import { withPostgresSchema } from '../postgresBench.js';
import type { Scenario } from '../scenario.js';
import { decisionLog, EVENTS, ts as replayTs } from './sqliteReplay.js';

export const pgReplay: Scenario = {
  name: 'pg-replay',
  description: `reading and replaying a ${EVENTS.toLocaleString('en-US')}-event decision on PostgreSQL vs a raw pg SELECT + JSON.parse of the same rows`,
  target: 0.7,
  async run({ seconds, log }) {
    return withPostgresSchema(async (schema) => {
      const store = await openPostgresStore(schema.storeUrl);
      const raw = await schema.connect();
      try {
        const setupStart = Date.now();
        const decisionId = 'dec_bench_replay';
        const events = decisionLog();
        const first = events[0]!;
        const batch = 500;
        for (let seq = 0; seq < events.length; seq += batch) {
          await store.append({
            decisionId,
            expectedVersion: { generation: 0, length: seq },
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
        const asOf = replayTs(EVENTS + 1);
        const view = replayDecision(await store.readEvents(decisionId), { asOf });
        log(`wrote ${view.eventCount} events in ${Date.now() - setupStart} ms; replayed status ${view.status}, ${view.activeApprovals} active approvals`);

        const ours = async () => replayDecision(await store.readEvents(decisionId), { asOf });
        const baseline = async () => {
          const result = await raw.query<unknown[]>({
            name: 'bench_raw_select',
            text:
              'SELECT generation, seq, tx_id::text, position::text, type, ts, actor_type, actor_id, payload, digest FROM events ' +
              'WHERE decision_id = $1 AND generation = 0 ORDER BY seq',
            values: [decisionId],
            rowMode: 'array',
          });
          for (const row of result.rows) row[8] = JSON.parse(row[8] as string);
          return result.rows;
        };
        const budgetMs = Math.max(1000, seconds * 1000 * 0.9 - (Date.now() - setupStart));
        const comparison = await compareThroughput(
          { name: 'store.readEvents + replayDecision', operation: ours },
          { name: 'pg SELECT (array rows) + JSON.parse of each payload', operation: baseline },
          { budgetMs },
        );
        return { ratio: comparison.ratio, lines: describeComparison('replay', comparison, 'replays') };
      } finally {
        await raw.end();
        await store.close();
      }
    });
  },
};
