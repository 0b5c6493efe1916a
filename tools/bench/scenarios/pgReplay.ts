import { openPostgresStore } from '@nexus-control/store-postgres';
import { compareReplay } from '../fixtures/compareReplay.js';
import { EVENTS } from '../fixtures/decisionLog.js';
import { describeComparison } from '../measure.js';
import { withPostgresSchema } from '../postgresBench.js';
import type { Scenario } from '../scenario.js';

export const pgReplay: Scenario = {
  name: 'pg-replay',
  description: `reading and replaying a ${EVENTS.toLocaleString('en-US')}-event decision on PostgreSQL vs a raw pg SELECT + JSON.parse of the same rows`,
  target: 0.7,
  async run({ seconds, log }) {
    return withPostgresSchema(async (schema) => {
      const store = await openPostgresStore(schema.storeUrl);
      const raw = await schema.connect();
      try {
        const comparison = await compareReplay(store, {
          seconds,
          log,
          batch: 500,
          baseline: (decisionId) => ({
            name: 'pg SELECT (array rows) + JSON.parse of each payload',
            operation: async () => {
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
            },
          }),
        });
        return { ratio: comparison.ratio, lines: describeComparison('replay', comparison, 'replays') };
      } finally {
        await raw.end();
        await store.close();
      }
    });
  },
};
