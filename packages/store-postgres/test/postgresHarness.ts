import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { BeforeCommitHook, EventStore } from '@nexus-control/core';
import { openPostgresStore, type OpenPostgresStoreOptions } from '../src/index.js';

/**
 * The PostgreSQL the tests run against: `NEXUS_TEST_POSTGRES_URL`, e.g.
 * `postgres:///nexus_test?host=/var/run/postgresql`. Each store gets a fresh schema on that
 * one database; `dispose` drops them.
 */
export const TEST_POSTGRES_URL = process.env.NEXUS_TEST_POSTGRES_URL;

export function requireTestUrl(): string {
  if (TEST_POSTGRES_URL === undefined || TEST_POSTGRES_URL === '') {
    throw new Error('set NEXUS_TEST_POSTGRES_URL to a PostgreSQL database the tests may create schemas in');
  }
  return TEST_POSTGRES_URL;
}

export function freshSchemaName(): string {
  return `nxt_${process.pid}_${randomBytes(5).toString('hex')}`;
}

export interface PostgresTestHarness {
  createStore(): Promise<EventStore>;
  openSecondHandle(store: EventStore): Promise<EventStore>;
  openHookedHandle(store: EventStore, hook: BeforeCommitHook): Promise<EventStore>;
  readonly parallelWriters: true;
  /** The schema a store of this harness works in. */
  schemaOf(store: EventStore): string;
  dispose(): Promise<void>;
}

export function createPostgresTestHarness(options: OpenPostgresStoreOptions = {}): PostgresTestHarness {
  const schemas = new Map<EventStore, string>();
  const created: string[] = [];
  const open = async (schema: string, extra: OpenPostgresStoreOptions = {}) => {
    const store = await openPostgresStore(requireTestUrl(), { ...options, ...extra, schema, poolSize: 4 });
    schemas.set(store, schema);
    return store;
  };
  const schemaOf = (store: EventStore) => {
    const schema = schemas.get(store);
    if (schema === undefined) throw new Error('not a store this harness opened');
    return schema;
  };
  return {
    async createStore() {
      const schema = freshSchemaName();
      created.push(schema);
      return open(schema);
    },
    openSecondHandle: (store) => open(schemaOf(store)),
    openHookedHandle: (store, hook) => open(schemaOf(store), { beforeCommit: hook }),
    parallelWriters: true,
    schemaOf,
    async dispose() {
      await dropSchemas(created.splice(0));
    },
  };
}

export async function dropSchemas(names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  const client = new pg.Client({ connectionString: requireTestUrl() });
  await client.connect();
  try {
    for (const name of names) await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  } finally {
    await client.end();
  }
}
