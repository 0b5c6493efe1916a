import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { newEvent, type EventStore } from '@nexus-control/core';
import { createSqliteEventStore } from '@nexus-control/store-sqlite';
import { withBenchDir } from '../benchDir.js';
import { BENCH_TS, createBenchDecision } from '../fixtures/benchDecision.js';
import { describeComparison, median, type Comparison } from '../measure.js';
import type { Scenario } from '../scenario.js';

const APPENDERS = 16;
const ROUNDS = 5;

/**
 * `appenders` loops, each appending single events to its own decision until `ms` pass;
 * returns appends per second over all of them.
 */
async function round(
  store: EventStore,
  decisions: { id: string; length: number }[],
  ms: number,
): Promise<{ perSecond: number; appends: number }> {
  const event = newEvent(
    'APPROVAL_GRANTED',
    { expires_at: null, comment: 'looks good to me' },
    { type: 'human', id: 'approver-1' },
    BENCH_TS,
  );
  const start = performance.now();
  const end = start + ms;
  let appends = 0;
  await Promise.all(
    decisions.map(async (decision) => {
      while (performance.now() < end) {
        await store.append({
          decisionId: decision.id,
          expectedVersion: { generation: 0, length: decision.length },
          events: [event],
          status: 'approved',
        });
        decision.length++;
        appends++;
      }
    }),
  );
  return { appends, perSecond: (appends * 1000) / (performance.now() - start) };
}

async function createDecisions(store: EventStore, prefix: string, count: number): Promise<{ id: string; length: number }[]> {
  const decisions = [];
  for (let i = 0; i < count; i++) {
    const id = `${prefix}-${i}`;
    await createBenchDecision(store, id);
    decisions.push({ id, length: 1 });
  }
  return decisions;
}

export const sqliteAppendConcurrent: Scenario = {
  name: 'sqlite-append-concurrent',
  description: `${APPENDERS} concurrent appenders on ${APPENDERS} decisions vs one appender, appends/s on one store (synchronous FULL, the default): the scaling factor`,
  target: 4,
  async run({ seconds, log }) {
    return withBenchDir(async (dir) => {
      const store = createSqliteEventStore({ path: join(dir, 'concurrent.db') });
      try {
        const many = await createDecisions(store, 'dec_many', APPENDERS);
        const one = await createDecisions(store, 'dec_one', 1);
        const budgetMs = seconds * 1000 * 0.9;
        const warmupMs = budgetMs / 10;
        const roundMs = (budgetMs - warmupMs) / (2 * ROUNDS);
        log(`warm-up, then ${ROUNDS} alternating rounds of ${Math.round(roundMs)} ms...`);
        await round(store, many, warmupMs / 2);
        await round(store, one, warmupMs / 2);
        const samples = { ours: [] as number[], baseline: [] as number[] };
        const totals = { ours: 0, baseline: 0 };
        for (let i = 0; i < ROUNDS; i++) {
          const order = i % 2 === 0 ? (['ours', 'baseline'] as const) : (['baseline', 'ours'] as const);
          for (const who of order) {
            const result = await round(store, who === 'ours' ? many : one, roundMs);
            samples[who].push(result.perSecond);
            totals[who] += result.appends;
          }
        }
        const ours = {
          name: `${APPENDERS} appenders, one decision each`,
          opsPerSecond: median(samples.ours),
          rounds: samples.ours,
          operations: totals.ours,
        };
        const baseline = {
          name: 'one appender',
          opsPerSecond: median(samples.baseline),
          rounds: samples.baseline,
          operations: totals.baseline,
        };
        const comparison: Comparison = { ours, baseline, ratio: ours.opsPerSecond / baseline.opsPerSecond };
        return { ratio: comparison.ratio, lines: describeComparison('FULL', comparison, 'appends') };
      } finally {
        await store.close();
      }
    });
  },
};
