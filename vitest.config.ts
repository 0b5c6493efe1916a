import { defineConfig } from 'vitest/config';

// Every package's own vitest.config.ts builds on vitest.shared.ts (timeouts, tiers, source resolution).
export default defineConfig({
  test: {
    projects: ['packages/*'],
  },
});
