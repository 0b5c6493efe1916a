export { openMongoStore, DEFAULT_DATABASE, type OpenMongoStoreOptions } from './openMongoStore.js';
export { createMongoEventStore, type MongoEventStoreOptions } from './createMongoEventStore.js';
export { SCHEMA_VERSION } from './ensureSchema.js';
export { describeMongoUrl } from './describeMongoUrl.js';
