import type { BeforeCommitHook, EventStore } from '@nexus-control/core';
import { afterEach } from 'vitest';
import type { StoreHarness } from './StoreHarness.js';

/** What every case gets: the harness, and stores that are closed after the test. */
export interface ConformanceContext {
  readonly harness: StoreHarness;
  /** A store on a fresh namespace, closed after the test. */
  newStore(): Promise<EventStore>;
  /** A second handle on the namespace of `store` (closed after the test), or undefined when the harness has none. */
  secondHandle(store: EventStore): Promise<EventStore | undefined>;
  /** A handle on the namespace of `store` whose appends await `hook` before commit (closed after the test). */
  hookedHandle(store: EventStore, hook: BeforeCommitHook): Promise<EventStore>;
  /** Closes a store now instead of after the test. */
  closeNow(store: EventStore): Promise<void>;
}

/** Must be called inside a `describe`: registers the `afterEach` that closes what the test opened. */
export function createConformanceContext(harness: StoreHarness): ConformanceContext {
  let open: EventStore[] = [];
  afterEach(async () => {
    // Later handles first (they were opened last), then the stores they share a namespace with.
    const stores = open.reverse();
    open = [];
    for (const store of stores) await store.close();
  });
  const opened = (store: EventStore): EventStore => {
    open.push(store);
    return store;
  };
  return {
    harness,
    async newStore() {
      return opened(await harness.createStore());
    },
    async secondHandle(store) {
      if (harness.openSecondHandle === undefined) return undefined;
      return opened(await harness.openSecondHandle(store));
    },
    async hookedHandle(store, hook) {
      if (harness.openHookedHandle === undefined) throw new Error('the harness cannot open a hooked handle');
      return opened(await harness.openHookedHandle(store, hook));
    },
    async closeNow(store) {
      open = open.filter((s) => s !== store);
      await store.close();
    },
  };
}
