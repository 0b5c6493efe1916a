import { fileURLToPath } from 'node:url';
import { defaultServerConditions } from 'vite';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

/** Where each package run leaves its JSON results, for the summary line of tools/scripts/test.mjs. */
export const TEST_RESULTS_DIR = fileURLToPath(new URL('./.test-results/', import.meta.url));

/**
 * Test tiers, chosen with NEXUS_TEST_TIER (unset: every tier):
 * - unit:  tests that need nothing but Node (no database, no spawned server);
 * - store: the tests of the store packages, against their real database;
 * - e2e:   `*.e2e.test.ts`, which start a real server process.
 */
export const TEST_TIERS = ['unit', 'store', 'e2e'] as const;
export type TestTier = (typeof TEST_TIERS)[number];

/**
 * Workspace packages resolve to their TypeScript sources, so tests need no build of their dependencies.
 * Without vite's `module` condition: it is a bundlers' one, and dependencies run by Node itself
 * (OpenTelemetry's API, say) would otherwise resolve to builds only a bundler can load.
 */
const conditions = ['@nexus-control/source', ...defaultServerConditions.filter((condition) => condition !== 'module')];

function selectedTier(): TestTier | undefined {
  const tier = process.env['NEXUS_TEST_TIER'];
  if (tier === undefined || tier === '') return undefined;
  if (!(TEST_TIERS as readonly string[]).includes(tier)) {
    throw new Error(`NEXUS_TEST_TIER must be one of ${TEST_TIERS.join(', ')}, got '${tier}'`);
  }
  return tier as TestTier;
}

/**
 * The one vitest configuration of every package: timeouts, source resolution and tiers.
 * `kind: 'store'` marks a store package, whose every test belongs to the store tier;
 * `fileParallelism: false` runs its test files one at a time; `testTimeout` replaces the
 * default for a package whose every call is slow (a test database server).
 */
export function defineNexusProject(
  name: string,
  options: { kind?: 'store'; fileParallelism?: boolean; testTimeout?: number } = {},
): ViteUserConfig {
  const tier = selectedTier();
  const e2e = 'test/**/*.e2e.test.ts';
  const all = ['test/**/*.test.ts', 'src/**/*.test.ts'];
  let include: string[] = all;
  let exclude: string[] = [];
  if (tier === 'e2e') include = [e2e];
  else if (tier === 'store') include = options.kind === 'store' ? all : [];
  else if (tier === 'unit') {
    include = options.kind === 'store' ? [] : all;
    exclude = [e2e];
  }
  return defineConfig({
    resolve: { conditions },
    ssr: { resolve: { conditions } },
    test: {
      name,
      include,
      exclude: ['**/node_modules/**', '**/dist/**', ...exclude],
      passWithNoTests: true,
      ...(options.fileParallelism === undefined ? {} : { fileParallelism: options.fileParallelism }),
      // Worker threads start faster than forked processes; no test needs a process of its own.
      pool: 'threads',
      testTimeout: options.testTimeout ?? 30_000,
      hookTimeout: 60_000,
      // Used when a package runs on its own (`vitest run` in its directory, as the nx test target does).
      reporters: ['default', 'json'],
      outputFile: { json: `${TEST_RESULTS_DIR}${name}.json` },
    },
  });
}
