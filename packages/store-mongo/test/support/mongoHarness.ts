import type { MongoClient } from 'mongodb';
import type { EventStore } from '@nexus-control/core';
import type { StoreHarness } from '@nexus-control/store-conformance';
import { openMongoStore } from '../../src/index.js';
import { MONGODB_URL, freshDatabaseName, testClient } from './mongoTestServer.js';

/**
 * Stores on the test server, each on a fresh database. Handles of one test share a client;
 * second handles get a client (connections) of their own. `dropDatabases` (after each test)
 * drops what the test created, so the server never holds more than one test's data.
 */
export function mongoHarness(): StoreHarness & { databaseOf(store: EventStore): string; dropDatabases(): Promise<void> } {
  const databaseOf = new WeakMap<EventStore, string>();
  const handles: EventStore[] = [];
  let live: string[] = [];
  let first: MongoClient | undefined;
  let second: MongoClient | undefined;

  async function dropLive(): Promise<void> {
    for (const handle of handles.splice(0)) await handle.close().catch(() => undefined);
    const client = first;
    if (client !== undefined)
      for (const name of live)
        await client
          .db(name)
          .dropDatabase()
          .catch(() => undefined);
    live = [];
  }

  async function open(client: MongoClient, database: string): Promise<EventStore> {
    // A short server-side wait for change streams: the emulator holds its one lock while one
    // waits, which would stall every other test command for the default second.
    const store = await openMongoStore(MONGODB_URL, { client, database, changeStreamMaxAwaitMs: 20 });
    databaseOf.set(store, database);
    handles.push(store);
    return store;
  }

  function nameOf(store: EventStore): string {
    const name = databaseOf.get(store);
    if (name === undefined) throw new Error('not a store of this harness');
    return name;
  }

  return {
    async createStore() {
      first ??= await testClient();
      const database = freshDatabaseName();
      live.push(database);
      return open(first, database);
    },
    async openSecondHandle(store) {
      second ??= await testClient();
      return open(second, nameOf(store));
    },
    databaseOf: nameOf,
    dropDatabases: dropLive,
    async dispose() {
      await dropLive();
      await first?.close();
      await second?.close();
    },
  };
}
