import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'store-conformance',
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
  },
});
