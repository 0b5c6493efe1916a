export { createSqliteEventStore, type SqliteEventStoreOptions } from './createSqliteEventStore.js';
export type { SynchronousMode } from './openDatabase.js';
export { APPLICATION_ID, LATEST_SCHEMA_VERSION, MIGRATIONS, type Migration } from './migrations.js';
