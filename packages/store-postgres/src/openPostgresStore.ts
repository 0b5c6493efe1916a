import type { BeforeCommitHook, EventStore } from '@nexus-control/core';
import { createPostgresEventStore } from './createPostgresEventStore.js';
import { applyMigrations, assertSchemaCurrent, LATEST_SCHEMA_VERSION, type SchemaState } from './migrations.js';
import { toStoreError } from './pgErrors.js';
import { createPool, parsePostgresUrl, type PostgresConnection, type PostgresPoolSettings } from './postgresConnection.js';

export interface OpenPostgresStoreOptions extends PostgresPoolSettings {
  /** Apply pending migrations before use (default true); false: refuse a schema that is not current. */
  readonly migrate?: boolean;
  /** LISTEN for appends made by other processes (default true). */
  readonly listen?: boolean;
  /** See `PostgresEventStoreOptions.feedSettleMs`. */
  readonly feedSettleMs?: number;
  /** Test seam (see `BeforeCommitHook`); never set in production. */
  readonly beforeCommit?: BeforeCommitHook;
}

async function withClient<T>(connection: PostgresConnection, work: (client: import('pg').PoolClient) => Promise<T>): Promise<T> {
  const pool = createPool({ ...connection, poolSize: 1 });
  try {
    const client = await pool.connect();
    try {
      return await work(client);
    } finally {
      client.release();
    }
  } catch (error) {
    throw toStoreError(error, connection.location, connection.secrets);
  } finally {
    await pool.end().catch(() => undefined);
  }
}

/** Applies pending migrations to the schema named by the URL (or `settings.schema`). */
export async function migratePostgresStore(
  url: string,
  settings: PostgresPoolSettings = {},
): Promise<SchemaState & { location: string; schema: string }> {
  const connection = parsePostgresUrl(url, settings);
  const state = await withClient(connection, (client) => applyMigrations(client, connection.schema, connection.location));
  return { ...state, location: connection.location, schema: connection.schema };
}

/**
 * Opens the PostgreSQL store a `postgres://` URL names: migrates (or checks) the schema,
 * then hands back a store on a connection pool. The one entry point the server calls.
 */
export async function openPostgresStore(url: string, options: OpenPostgresStoreOptions = {}): Promise<EventStore> {
  const connection = parsePostgresUrl(url, options);
  await withClient(connection, async (client) => {
    if (options.migrate === false) await assertSchemaCurrent(client, connection.schema, connection.location, LATEST_SCHEMA_VERSION);
    else await applyMigrations(client, connection.schema, connection.location);
  });
  return createPostgresEventStore({
    pool: createPool(connection),
    schema: connection.schema,
    location: connection.location,
    secrets: connection.secrets,
    ...(options.listen === false ? {} : { listenConfig: connection.clientConfig }),
    ...(options.feedSettleMs === undefined ? {} : { feedSettleMs: options.feedSettleMs }),
    ...(options.beforeCommit === undefined ? {} : { beforeCommit: options.beforeCommit }),
  });
}
