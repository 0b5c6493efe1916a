import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'store-mongo',
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
  },
});
