import { createMemoryEventStore } from '../src/store/createMemoryEventStore.js';
import { describeEventStoreConformance } from '../src/testing/index.js';

describeEventStoreConformance('memory', {
  createStore: async () => createMemoryEventStore(),
});
