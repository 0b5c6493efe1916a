import { afterAll, describe } from 'vitest';
import { describeConcurrencyConformance } from './concurrencyConformance.js';
import { describeCommitOrderConformance } from './commitOrderConformance.js';
import { createConformanceContext } from './conformanceContext.js';
import { describeContentConformance } from './contentConformance.js';
import { describeFeedConformance } from './feedConformance.js';
import { describeIdempotencyRaceConformance } from './idempotencyRaceConformance.js';
import { describeImportConformance } from './importConformance.js';
import { describeLeaseConformance } from './leaseConformance.js';
import { describeLifecycleConformance } from './lifecycleConformance.js';
import { describeListingConformance } from './listingConformance.js';
import { describeLogConformance } from './logConformance.js';
import type { StoreHarness } from './StoreHarness.js';

/**
 * The behaviour every EventStore must show, as one vitest suite. A store package runs it from
 * its own tests with `describeEventStoreConformance('sqlite', { createStore, openSecondHandle })`;
 * the cases that need a capability the harness does not declare are skipped.
 */
export function describeEventStoreConformance(storeName: string, harness: StoreHarness): void {
  describe(`EventStore conformance: ${storeName}`, () => {
    const ctx = createConformanceContext(harness);
    describeLogConformance(ctx);
    describeConcurrencyConformance(ctx);
    describeIdempotencyRaceConformance(ctx);
    describeListingConformance(ctx);
    describeFeedConformance(ctx);
    describeCommitOrderConformance(ctx);
    describeImportConformance(ctx);
    describeContentConformance(ctx);
    describeLifecycleConformance(ctx);
    describeLeaseConformance(ctx);
    afterAll(async () => {
      await harness.dispose?.();
    });
  });
}
