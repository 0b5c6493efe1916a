export { openPostgresStore, migratePostgresStore, type OpenPostgresStoreOptions } from './openPostgresStore.js';
export { createPostgresEventStore, type PostgresEventStoreOptions } from './createPostgresEventStore.js';
export { parsePostgresUrl, createPool, type PostgresPoolSettings, type PostgresConnection } from './postgresConnection.js';
export { LATEST_SCHEMA_VERSION, MIGRATIONS, applyMigrations, type Migration, type SchemaState } from './migrations.js';
export { maskUrl } from './maskUrl.js';
