import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL database the pg-* scenarios use (a schema of their own, dropped afterwards). */
export const BENCH_POSTGRES_ENV = 'NEXUS_TEST_POSTGRES_URL';

export interface BenchSchema {
  readonly name: string;
  /** The connection string with `schema=` set, for the store and the server. */
  readonly storeUrl: string;
  /** A new connection with the schema on its search path (the caller ends it). */
  connect(): Promise<pg.Client>;
}

/** Runs `use` with a fresh schema on the benchmark database, dropped afterwards. */
export async function withPostgresSchema<T>(use: (schema: BenchSchema) => Promise<T>): Promise<T> {
  const base = process.env[BENCH_POSTGRES_ENV];
  if (base === undefined || base === '') {
    throw new Error(`set ${BENCH_POSTGRES_ENV} to a PostgreSQL database the benchmark may create a schema in`);
  }
  const name = `nx_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  const schema: BenchSchema = {
    name,
    storeUrl: `${base}${base.includes('?') ? '&' : '?'}schema=${name}`,
    async connect() {
      const client = new pg.Client({ connectionString: base, options: `-c search_path=${name}` });
      await client.connect();
      return client;
    },
  };
  try {
    return await use(schema);
  } finally {
    const client = new pg.Client({ connectionString: base });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    await client.end();
  }
}

/** `synchronous_commit` and `fsync` of the server, so the output says what durability both sides ran with. */
export async function durabilityLine(client: pg.Client): Promise<string> {
  const settings = await client.query<{ name: string; setting: string }>(
    "SELECT name, setting FROM pg_settings WHERE name IN ('synchronous_commit', 'fsync', 'server_version') ORDER BY name",
  );
  return `PostgreSQL ${settings.rows.map((row) => `${row.name}=${row.setting}`).join(', ')} (both sides)`;
}
