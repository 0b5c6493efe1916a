import type pg from 'pg';
import type { NewEvent } from '@nexus-control/core';
import { openPostgresStore } from '@nexus-control/store-postgres';
import { benchApproval, createBenchDecision } from '../fixtures/benchDecision.js';
import { compareThroughput, describeComparison } from '../measure.js';
import { durabilityLine, withPostgresSchema } from '../postgresBench.js';
import type { Scenario } from '../scenario.js';

/** The raw baseline: the same row into the same table (same indexes), one INSERT in its own transaction. */
export const RAW_INSERT =
  'INSERT INTO events (decision_id, generation, seq, type, ts, actor_type, actor_id, payload, digest) VALUES ($1, 0, $2, $3, $4, $5, $6, $7, $8)';

export function rawInsert(client: pg.Client, decisionId: string, seq: number, event: NewEvent): Promise<unknown> {
  return client.query({
    name: 'bench_raw_insert',
    text: RAW_INSERT,
    values: [decisionId, seq, event.type, event.ts, event.actor.type, event.actor.id, event.payloadJson, event.digest],
  });
}

export const pgAppend: Scenario = {
  name: 'pg-append',
  description: 'single-event append with the optimistic check vs a raw pg INSERT of the same row in its own transaction, sequential',
  target: 0.7,
  async run({ seconds, log }) {
    return withPostgresSchema(async (schema) => {
      const store = await openPostgresStore(schema.storeUrl);
      const raw = await schema.connect();
      try {
        const decisionId = 'dec_bench_append';
        await createBenchDecision(store, decisionId);
        const event = benchApproval();
        let seq = 1;
        const ours = async () => {
          await store.append({ decisionId, expectedVersion: { generation: 0, length: seq }, events: [event], status: 'approved' });
          seq++;
        };
        let rawSeq = 0;
        const baseline = () => rawInsert(raw, 'dec_bench_raw', rawSeq++, event);
        log('sequential appends on one connection each...');
        const comparison = await compareThroughput(
          { name: 'store.append, 1 event with expectedVersion', operation: ours },
          { name: 'pg INSERT of the same row, autocommit (its own transaction)', operation: baseline },
          { budgetMs: seconds * 1000 * 0.9 },
        );
        return { ratio: comparison.ratio, lines: [await durabilityLine(raw), ...describeComparison('append', comparison, 'appends')] };
      } finally {
        await raw.end();
        await store.close();
      }
    });
  },
};
