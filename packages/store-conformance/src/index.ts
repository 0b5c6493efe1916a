export type { ConformanceHarness } from './conformanceContext.js';
export { describeEventStoreConformance } from './describeEventStoreConformance.js';
export * from './fixtures.js';
