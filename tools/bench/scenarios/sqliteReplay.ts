import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteEventStore } from '@nexus-control/store-sqlite';
import { withBenchDir } from '../benchDir.js';
import { compareReplay } from '../fixtures/compareReplay.js';
import { EVENTS } from '../fixtures/decisionLog.js';
import { describeComparison } from '../measure.js';
import type { Scenario } from '../scenario.js';

export const sqliteReplay: Scenario = {
  name: 'sqlite-replay',
  description: `reading and replaying a ${EVENTS.toLocaleString('en-US')}-event decision vs a raw SELECT + JSON.parse of the same rows`,
  target: 0.7,
  async run({ seconds, log }) {
    return withBenchDir(async (dir) => {
      const path = join(dir, 'replay.db');
      const store = createSqliteEventStore({ path, synchronous: 'normal' });
      const raw = new Database(path, { readonly: true });
      try {
        const comparison = await compareReplay(store, {
          seconds,
          log,
          batch: 500,
          baseline: (decisionId) => {
            const select = raw
              .prepare(
                'SELECT position, generation, seq, type, ts, actor_type, actor_id, payload, digest FROM events WHERE decision_id = ? AND generation = 0 ORDER BY seq',
              )
              .raw();
            return {
              name: 'better-sqlite3 SELECT (raw rows) + JSON.parse of each payload',
              operation: () => {
                const rows = select.all(decisionId) as unknown[][];
                for (const row of rows) row[7] = JSON.parse(row[7] as string);
                return rows;
              },
            };
          },
        });
        return { ratio: comparison.ratio, lines: describeComparison('replay', comparison, 'replays') };
      } finally {
        raw.close();
        await store.close();
      }
    });
  },
};
