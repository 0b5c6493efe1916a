import { join } from 'node:path';
import type { EventStore } from '@nexus-control/core';
import { describeEventStoreConformance } from '@nexus-control/store-conformance';
import { createSqliteEventStore } from '../src/index.js';
import { tempDir } from './fixtures/tempDir.js';

const dir = tempDir('nexus-sqlite-conformance-');
const pathOf = new WeakMap<EventStore, string>();
let databases = 0;

// Writers on one SQLite file serialize on its write lock, and a connection waiting for it
// blocks its thread: a commit held open in one handle would stall the other. So the harness
// offers no hooked handle and no parallel writers; the file store gets a second handle.
describeEventStoreConformance('sqlite store on a file', {
  async createStore() {
    const path = join(dir, `store-${++databases}.db`);
    const store = createSqliteEventStore({ path });
    pathOf.set(store, path);
    return store;
  },
  async openSecondHandle(store) {
    const path = pathOf.get(store);
    if (path === undefined) throw new Error('not a store this harness created');
    return createSqliteEventStore({ path });
  },
});

describeEventStoreConformance('sqlite store in memory', {
  async createStore() {
    return createSqliteEventStore({ path: ':memory:' });
  },
});
