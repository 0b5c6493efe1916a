import { createMemoryDatabase, createMemoryEventStore, type EventStore, type MemoryDatabase } from '@nexus-control/core';
import { describe, expect, it } from 'vitest';
import { outOfOrderCommitsCase } from '../src/commitOrderConformance.js';
import { createConformanceContext } from '../src/conformanceContext.js';
import { createInsertOrderDatabase, createInsertOrderStore, type InsertOrderDatabase } from './createInsertOrderStore.js';

describe('the out-of-order commit case', () => {
  describe('on a store that takes feed positions at insert, before its commit', () => {
    const databases = new WeakMap<EventStore, InsertOrderDatabase>();
    const ctx = createConformanceContext({
      async createStore() {
        const database = createInsertOrderDatabase();
        const store = createInsertOrderStore(database);
        databases.set(store, database);
        return store;
      },
      async openHookedHandle(store, hook) {
        return createInsertOrderStore(databases.get(store) as InsertOrderDatabase, hook);
      },
    });

    it('fails: the reader that kept its checkpoint never sees the append that committed late', async () => {
      await expect(outOfOrderCommitsCase(ctx)).rejects.toThrow(/a whole-feed reader that kept its checkpoint/);
    });
  });

  describe('on the memory store, which takes feed positions at commit', () => {
    const databases = new WeakMap<EventStore, MemoryDatabase>();
    const ctx = createConformanceContext({
      async createStore() {
        const database = createMemoryDatabase();
        const store = createMemoryEventStore({ database });
        databases.set(store, database);
        return store;
      },
      async openHookedHandle(store, hook) {
        return createMemoryEventStore({ database: databases.get(store) as MemoryDatabase, beforeCommit: hook });
      },
    });

    it('passes', async () => {
      await expect(outOfOrderCommitsCase(ctx)).resolves.toBeUndefined();
    });
  });
});
