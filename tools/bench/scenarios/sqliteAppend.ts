import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { EventStore } from '@nexus-control/core';
import { createSqliteEventStore, type SynchronousMode } from '@nexus-control/store-sqlite';
import { withBenchDir } from '../benchDir.js';
import { benchApproval, createBenchDecision } from '../fixtures/benchDecision.js';
import { compareThroughput, describeComparison, type Comparison } from '../measure.js';
import type { Scenario } from '../scenario.js';

/**
 * One setting: our append of a single event (optimistic version check) against a
 * raw INSERT of the same row in its own transaction, on the same file, same synchronous mode.
 */
async function compareAt(dir: string, synchronous: SynchronousMode, budgetMs: number): Promise<Comparison> {
  const path = join(dir, `append-${synchronous}.db`);
  const store: EventStore = createSqliteEventStore({ path, synchronous });
  const raw = new Database(path);
  try {
    raw.pragma('journal_mode = WAL');
    raw.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);

    const decisionId = 'dec_bench_append';
    await createBenchDecision(store, decisionId);
    const event = benchApproval();

    let seq = 1;
    const ours = async () => {
      await store.append({ decisionId, expectedVersion: { generation: 0, length: seq }, events: [event], status: 'approved' });
      seq++;
    };

    const begin = raw.prepare('BEGIN IMMEDIATE');
    const insert = raw.prepare(
      'INSERT INTO events (decision_id, generation, seq, type, ts, actor_type, actor_id, payload, digest, status) ' +
        'VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const commit = raw.prepare('COMMIT');
    let rawSeq = 0;
    const baseline = () => {
      begin.run();
      insert.run(
        'dec_bench_raw',
        rawSeq++,
        event.type,
        event.ts,
        event.actor.type,
        event.actor.id,
        event.payloadJson,
        event.digest,
        'approved',
      );
      commit.run();
    };

    return await compareThroughput(
      { name: 'store.append, 1 event with expectedVersion', operation: ours },
      { name: 'better-sqlite3 BEGIN IMMEDIATE; INSERT; COMMIT', operation: baseline },
      { budgetMs },
    );
  } finally {
    raw.close();
    await store.close();
  }
}

export const sqliteAppend: Scenario = {
  name: 'sqlite-append',
  description: 'single-event append with the optimistic check vs a raw INSERT in its own transaction (synchronous FULL and NORMAL)',
  target: 0.7,
  async run({ seconds, log }) {
    return withBenchDir(async (dir) => {
      // Most of the budget to FULL: its rounds are few, slow fsyncs.
      const budgetMs = seconds * 1000 * 0.9;
      log('synchronous=FULL (default: acknowledged writes survive power loss)...');
      const full = await compareAt(dir, 'full', budgetMs * 0.6);
      log('synchronous=NORMAL (survives a process crash, not power loss)...');
      const normal = await compareAt(dir, 'normal', budgetMs * 0.4);
      return {
        ratio: full.ratio,
        lines: [
          ...describeComparison('FULL  ', full, 'appends'),
          ...describeComparison('NORMAL', normal, 'appends'),
          `ratio with synchronous=NORMAL: ${normal.ratio.toFixed(2)}; the ratio below is for the default, FULL`,
        ],
      };
    });
  },
};
