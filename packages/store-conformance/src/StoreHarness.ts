import type { BeforeCommitHook, EventStore } from '@nexus-control/core';

/**
 * What a store package hands the conformance suite. Only `createStore` is required; each
 * optional member is a capability, and the cases that need it run only where it is given.
 */
export interface StoreHarness {
  /**
   * A store on a fresh, empty namespace: a new schema or database name on a shared server (or a
   * new file), never a new server. Called for every store a test needs (usually one, sometimes
   * two), so it must be cheap. The suite closes what it returns after the test.
   */
  createStore(): Promise<EventStore>;
  /** A second, independent handle (its own connections) on the same namespace as `store`. */
  openSecondHandle?(store: EventStore): Promise<EventStore>;
  /**
   * Another handle on the namespace of `store` whose appends await `hook` inside their
   * transaction, after their writes and right before commit (see `BeforeCommitHook`). A store
   * whose writers serialize on one lock cannot offer this.
   */
  openHookedHandle?(store: EventStore, hook: BeforeCommitHook): Promise<EventStore>;
  /** Appends to different decisions from different handles commit in parallel. */
  readonly parallelWriters?: boolean;
  /** Called once after the whole suite (drop schemas, close pools). */
  dispose?(): Promise<void>;
}
