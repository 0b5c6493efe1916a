import { createMemoryDatabase, createMemoryEventStore, type EventStore, type MemoryDatabase } from '@nexus-control/core';
import { describeEventStoreConformance } from '../src/index.js';

/** Which database each store handed to the suite was opened on, so more handles can join it. */
const databases = new WeakMap<EventStore, MemoryDatabase>();

function databaseOf(store: EventStore): MemoryDatabase {
  const database = databases.get(store);
  if (database === undefined) throw new Error('not a store this harness created');
  return database;
}

describeEventStoreConformance('memory', {
  async createStore() {
    const database = createMemoryDatabase();
    const store = createMemoryEventStore({ database });
    databases.set(store, database);
    return store;
  },
  async openSecondHandle(store) {
    return createMemoryEventStore({ database: databaseOf(store) });
  },
  async openHookedHandle(store, hook) {
    return createMemoryEventStore({ database: databaseOf(store), beforeCommit: hook });
  },
  parallelWriters: true,
});
