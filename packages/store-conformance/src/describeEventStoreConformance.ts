import { describe } from 'vitest';
import { describeConcurrencyConformance } from './concurrencyConformance.js';
import { type ConformanceHarness, createConformanceContext } from './conformanceContext.js';
import { describeContentConformance } from './contentConformance.js';
import { describeFeedConformance } from './feedConformance.js';
import { describeImportConformance } from './importConformance.js';
import { describeLifecycleConformance } from './lifecycleConformance.js';
import { describeListingConformance } from './listingConformance.js';
import { describeLogConformance } from './logConformance.js';

/**
 * The behaviour every EventStore must show, as one vitest suite. A store package runs it with
 * `describeEventStoreConformance('sqlite', { createStore, openSecondHandle })`.
 */
export function describeEventStoreConformance(storeName: string, harness: ConformanceHarness): void {
  describe(`EventStore conformance: ${storeName}`, () => {
    const ctx = createConformanceContext(harness);
    describeLogConformance(ctx);
    describeConcurrencyConformance(ctx);
    describeListingConformance(ctx);
    describeFeedConformance(ctx);
    describeImportConformance(ctx);
    describeContentConformance(ctx);
    describeLifecycleConformance(ctx);
  });
}
