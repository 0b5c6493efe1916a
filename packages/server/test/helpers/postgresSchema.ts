import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL the tests may use (see the README's PostgreSQL section); undefined: those tests are skipped. */
export const TEST_POSTGRES_URL = process.env.NEXUS_TEST_POSTGRES_URL || undefined;

/** A fresh schema on the test database: its store URL, direct SQL on it, and its removal. */
export interface PostgresSchema {
  readonly name: string;
  /** `--store` value for this schema. */
  readonly storeUrl: string;
  sql<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

export function postgresSchema(): PostgresSchema {
  const base = TEST_POSTGRES_URL;
  if (base === undefined) throw new Error('NEXUS_TEST_POSTGRES_URL is not set');
  const name = `nxe_${process.pid}_${randomBytes(4).toString('hex')}`;
  const storeUrl = `${base}${base.includes('?') ? '&' : '?'}schema=${name}`;
  const sql = async <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) => {
    const client = new pg.Client({ connectionString: base, options: `-c search_path=${name}` });
    await client.connect();
    try {
      return (await client.query<R>(text, values)).rows;
    } finally {
      await client.end();
    }
  };
  return { name, storeUrl, sql, drop: async () => void (await sql(`DROP SCHEMA IF EXISTS "${name}" CASCADE`)) };
}
