import type pg from 'pg';
import { openPostgresStore } from '@nexus-control/store-postgres';
import { compareThroughput, describeComparison, formatThroughput } from '../measure.js';
import { compareConcurrentThroughput } from '../measureConcurrent.js';
import { durabilityLine, withPostgresSchema } from '../postgresBench.js';
import type { Scenario } from '../scenario.js';
import { benchApproval, createBenchDecision } from '../fixtures/benchDecision.js';
import { rawInsert } from './pgAppend.js';

const WRITERS = 8;

export const pgAppendConcurrent: Scenario = {
  name: 'pg-append-concurrent',
  description: `${WRITERS} connections appending to ${WRITERS} decisions vs raw INSERTs from ${WRITERS} connections; also the scaling over one writer`,
  target: 0.7,
  async run({ seconds, log }) {
    return withPostgresSchema(async (schema) => {
      const store = await openPostgresStore(`${schema.storeUrl}&pool_size=${WRITERS}`);
      const raws: pg.Client[] = [];
      try {
        for (let i = 0; i < WRITERS; i++) raws.push(await schema.connect());
        const event = benchApproval();
        const ids = Array.from({ length: WRITERS }, (_, i) => `dec_bench_concurrent_${i}`);
        for (const id of ids) await createBenchDecision(store, id);
        const lengths = ids.map(() => 1);
        const ours = async (worker: number) => {
          const length = lengths[worker]!;
          await store.append({ decisionId: ids[worker]!, expectedVersion: { generation: 0, length }, events: [event], status: 'approved' });
          lengths[worker] = length + 1;
        };
        const rawSeqs = ids.map(() => 0);
        const baseline = (worker: number) => rawInsert(raws[worker]!, `dec_bench_raw_${worker}`, rawSeqs[worker]!++, event);

        const budgetMs = seconds * 1000 * 0.9;
        log(`${WRITERS} writers each side, one decision and one connection per writer...`);
        const concurrent = await compareConcurrentThroughput(
          { name: `store.append from ${WRITERS} writers (pool of ${WRITERS})`, workers: WRITERS, operation: ours },
          { name: `pg INSERT autocommit from ${WRITERS} connections`, workers: WRITERS, operation: baseline },
          { budgetMs: budgetMs * 0.7 },
        );
        log('one writer each side, for the scaling...');
        const single = await compareThroughput(
          { name: 'store.append from 1 writer', operation: () => ours(0) },
          { name: 'pg INSERT autocommit from 1 connection', operation: () => baseline(0) },
          { budgetMs: budgetMs * 0.3, rounds: 5 },
        );
        const scaling = concurrent.ours.opsPerSecond / single.ours.opsPerSecond;
        const rawScaling = concurrent.baseline.opsPerSecond / single.baseline.opsPerSecond;
        return {
          ratio: concurrent.ratio,
          lines: [
            await durabilityLine(raws[0]!),
            ...describeComparison(`${WRITERS} writers`, concurrent, 'appends'),
            ...describeComparison('1 writer ', single, 'appends'),
            `scaling ${WRITERS} writers over 1: ours ${scaling.toFixed(2)}x (${formatThroughput(single.ours.opsPerSecond, 'appends')} -> ` +
              `${formatThroughput(concurrent.ours.opsPerSecond, 'appends')}), raw INSERT ${rawScaling.toFixed(2)}x`,
          ],
        };
      } finally {
        for (const raw of raws) await raw.end();
        await store.close();
      }
    });
  },
};
