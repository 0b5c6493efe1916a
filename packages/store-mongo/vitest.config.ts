import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'store-mongo',
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // Every call is a round trip to a server; the suite's large cases (500 decisions, 1 MiB
    // payloads) take seconds there, not milliseconds.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
