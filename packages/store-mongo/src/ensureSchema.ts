import { NexusError } from '@nexus-control/core';
import type { StoreCollections } from './collections.js';
import { isDuplicateKey } from './mongoErrors.js';

/**
 * The schema this code writes and reads. Bump it with a migration step in `ensureSchema`.
 * 1: events, decisions, idempotency keys, router results, templates, meta.
 * 2: execution leases (`execution_leases`, with its expiry index).
 */
export const SCHEMA_VERSION = 2;

async function readSchemaVersion(collections: StoreCollections): Promise<number | undefined> {
  const doc = await collections.meta.findOne({ _id: 'schema' });
  return doc !== null && 'version' in doc ? doc.version : undefined;
}

function assertKnownVersion(version: number | undefined, location: string): void {
  if (version !== undefined && version > SCHEMA_VERSION) {
    throw new NexusError(
      'STORE_SCHEMA_TOO_NEW',
      `the MongoDB database at ${location} has schema version ${version}, newer than this release knows (${SCHEMA_VERSION}): upgrade nexus-control`,
      { location, version, known: SCHEMA_VERSION },
    );
  }
}

async function collectionExists(collections: StoreCollections, name: string): Promise<boolean> {
  const found = await collections.db.listCollections({ name }, { nameOnly: true }).toArray();
  return found.some((collection) => collection.name === name);
}

/** Creating a collection that another process created meanwhile fails; finding it there is success. */
async function createCollectionOnce(collections: StoreCollections, name: string): Promise<void> {
  if (await collectionExists(collections, name)) return;
  try {
    await collections.db.createCollection(name);
  } catch (error) {
    if (!(await collectionExists(collections, name))) throw error;
  }
}

/** An upsert that lost a race to create the same document found it created: nothing to do. */
async function upsertOnce(write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
  }
}

/**
 * Creates the collections, indexes and the two meta documents when missing. Every step is
 * idempotent (same index specs, `$setOnInsert` upserts), so several processes may start on one
 * database at once. A database written by a newer schema is refused before anything is changed.
 */
export async function ensureSchema(collections: StoreCollections, location: string): Promise<void> {
  assertKnownVersion(await readSchemaVersion(collections), location);
  const { events, decisions, idempotency, templates, meta } = collections;
  await events.createIndexes([
    { key: { d: 1, g: 1, s: 1 }, name: 'log_seq', unique: true },
    { key: { d: 1, _id: 1 }, name: 'decision_feed' },
  ]);
  await decisions.createIndexes([
    { key: { listPosition: -1 }, name: 'listing', unique: true },
    { key: { labels: 1, listPosition: -1 }, name: 'listing_by_label' },
    { key: { status: 1, listPosition: -1 }, name: 'listing_by_status' },
  ]);
  // The other collections are keyed by _id alone. Transactions cannot always create a
  // collection (not under snapshot read concern), so every collection exists before the first.
  for (const collection of [idempotency, collections.routerResults, templates, meta]) {
    await createCollectionOnce(collections, collection.collectionName);
  }
  // Step 2: the lease listing reads lapsed leases earliest expiry first.
  await collections.leases.createIndexes([{ key: { expiresAt: 1, _id: 1 }, name: 'lease_expiry' }]);
  await upsertOnce(() => meta.updateOne({ _id: 'feed' }, { $setOnInsert: { position: 0 } }, { upsert: true }));
  await upsertOnce(() => meta.updateOne({ _id: 'schema' }, { $setOnInsert: { version: SCHEMA_VERSION } }, { upsert: true }));
  // A database set up by an older release: its steps are all applied above, so raise its
  // version. Conditional, so it never lowers a version another process raised meanwhile.
  await meta.updateOne({ _id: 'schema', version: { $lt: SCHEMA_VERSION } }, { $set: { version: SCHEMA_VERSION } });
  // Another process may have written a newer version between the first read and the upsert.
  assertKnownVersion(await readSchemaVersion(collections), location);
}
