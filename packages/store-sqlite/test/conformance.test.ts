import { join } from 'node:path';
import type { EventStore } from '@nexus-control/core';
import { describeEventStoreConformance } from '@nexus-control/core/testing';
import { createSqliteEventStore } from '../src/index.js';
import { tempDir } from './fixtures/tempDir.js';

const dir = tempDir('nexus-sqlite-conformance-');
const pathOf = new WeakMap<EventStore, string>();
let databases = 0;

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
