import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'store-postgres',
    include: ['test/**/*.test.ts'],
    // The feed of every schema waits for the cluster's oldest open transaction: files that
    // hold transactions open on purpose would slow each other's reads, so they run one at a time.
    fileParallelism: false,
  },
});
