import type { MongoClient } from 'mongodb';
import { isNexusError } from '@nexus-control/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, openMongoStore } from '../src/index.js';
import { MONGODB_URL, freshDatabaseName, mongoAvailable, testClient } from './support/mongoTestServer.js';
import { approval, creation } from './support/requests.js';

describe.skipIf(!mongoAvailable())('MongoDB store: schema setup', () => {
  let client: MongoClient;
  const databases: string[] = [];
  const fresh = () => {
    const name = freshDatabaseName();
    databases.push(name);
    return name;
  };

  beforeAll(async () => {
    client = await testClient();
  });
  afterAll(async () => {
    for (const name of databases) await client.db(name).dropDatabase();
    await client.close();
  });

  it('creates the unique indexes that decide races, and records its schema version', async () => {
    const database = fresh();
    const store = await openMongoStore(MONGODB_URL, { client, database });
    await store.close();
    const db = client.db(database);
    const uniqueKeys = async (collection: string) =>
      (await db.collection(collection).listIndexes().toArray()).filter((index) => index.unique).map((index) => index.key);
    expect(await uniqueKeys('events')).toContainEqual({ d: 1, g: 1, s: 1 });
    expect(await uniqueKeys('decisions')).toContainEqual({ listPosition: -1 });
    expect(await db.collection('meta').findOne({ _id: 'schema' as never })).toMatchObject({ version: SCHEMA_VERSION });
    expect(await db.collection('meta').findOne({ _id: 'feed' as never })).toMatchObject({ position: 0 });
  });

  it('two processes starting on one empty database at once both open it, and share one feed', async () => {
    const database = fresh();
    const other = await testClient();
    try {
      const [a, b] = await Promise.all([
        openMongoStore(MONGODB_URL, { client, database }),
        openMongoStore(MONGODB_URL, { client: other, database }),
      ]);
      await a.append(creation('one'));
      await b.append(creation('two'));
      expect((await a.readFeed()).events.map((event) => event.decisionId)).toEqual(['one', 'two']);
      expect(await client.db(database).collection('meta').countDocuments()).toBe(2);
      await Promise.all([a.close(), b.close()]);
    } finally {
      await other.close();
    }
  });

  it('reopening a database keeps its data and its feed position', async () => {
    const database = fresh();
    const first = await openMongoStore(MONGODB_URL, { client, database });
    await first.append(creation('kept'));
    await first.append(approval('kept', { generation: 0, length: 1 }));
    const head = await first.headCheckpoint();
    await first.close();
    const again = await openMongoStore(MONGODB_URL, { client, database });
    expect(await again.headCheckpoint()).toBe(head);
    const [next] = (await again.append(creation('next'))).events;
    expect((await again.readFeed({ after: head })).events).toEqual([next]);
    await again.close();
  });

  it('upgrades a database of schema version 1: adds the lease collection and its expiry index, keeps the data', async () => {
    const database = fresh();
    const first = await openMongoStore(MONGODB_URL, { client, database });
    await first.append(creation('kept'));
    await first.close();
    const db = client.db(database);
    // What release 1 left behind: no lease collection, version 1.
    await db.collection('execution_leases').drop();
    await db.collection('meta').updateOne({ _id: 'schema' as never }, { $set: { version: 1 } });
    const again = await openMongoStore(MONGODB_URL, { client, database });
    expect(await db.collection('meta').findOne({ _id: 'schema' as never })).toMatchObject({ version: SCHEMA_VERSION });
    expect(SCHEMA_VERSION).toBe(2);
    const indexes = await db.collection('execution_leases').listIndexes().toArray();
    expect(indexes.map((index) => index.key)).toContainEqual({ expiresAt: 1, _id: 1 });
    expect((await again.readEvents('kept')).length).toBeGreaterThan(0);
    await again.close();
  });

  it('refuses a database written by a newer schema with STORE_SCHEMA_TOO_NEW, and changes nothing', async () => {
    const database = fresh();
    await client
      .db(database)
      .collection('meta')
      .insertOne({ _id: 'schema' as never, version: SCHEMA_VERSION + 1 });
    const error = await openMongoStore(MONGODB_URL, { client, database }).catch((caught: unknown) => caught);
    expect(isNexusError(error) && error.code).toBe('STORE_SCHEMA_TOO_NEW');
    expect((error as Error).message).toContain(`schema version ${SCHEMA_VERSION + 1}`);
    const collections = await client.db(database).listCollections().toArray();
    expect(collections.map((collection) => collection.name)).toEqual(['meta']);
    expect(await client.db(database).collection('meta').countDocuments()).toBe(1);
  });
});
