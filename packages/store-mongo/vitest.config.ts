import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'store-mongo',
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // Every call is a round trip to a server; the suite's large cases (500 decisions, 1 MiB
    // payloads) take seconds there, and on the test emulator, which copies its whole store for
    // every transaction, up to a minute on a busy machine.
    testTimeout: 180_000,
    hookTimeout: 60_000,
  },
});
