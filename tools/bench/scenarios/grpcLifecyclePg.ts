import { withBenchDir } from '../benchDir.js';
import { withPostgresSchema } from '../postgresBench.js';
import type { Scenario } from '../scenario.js';
import { runLifecycle } from './grpcLifecycle.js';

export const grpcLifecyclePg: Scenario = {
  name: 'grpc-lifecycle-pg',
  description: 'full decision lifecycle over loopback gRPC on a PostgreSQL-backed server vs a unary Echo RPC, per RPC',
  target: 0.33,
  async run({ seconds, log }) {
    return withBenchDir((dir) =>
      withPostgresSchema(async (schema) => {
        const client = await schema.connect();
        const durability = await client.query<{ setting: string }>("SELECT setting FROM pg_settings WHERE name = 'synchronous_commit'");
        await client.end();
        return runLifecycle({
          seconds,
          log,
          dir,
          store: schema.storeUrl,
          storeLabel: 'PostgreSQL store, a schema of its own',
          setting: [
            `setting: nexus-control serve in its own process, PostgreSQL store (pool of 10, synchronous_commit=${durability.rows[0]!.setting}` +
              ', LISTEN/NOTIFY on), bearer-token auth,',
          ],
        });
      }),
    );
  },
};
