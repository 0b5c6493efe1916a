#!/usr/bin/env node
// Runs the builds, the typecheck and every project's tests through nx, then prints the plain summary
// line CI reads: "N passed, N failed, N skipped". Exits non-zero when a target or a test fails,
// or when no test ran.
//
//   node tools/scripts/test.mjs [--tier unit|store|e2e] [more nx run-many options, e.g. --projects=core]
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const resultsDir = '.test-results';
rmSync(resultsDir, { recursive: true, force: true });
mkdirSync(resultsDir, { recursive: true });

const args = process.argv.slice(2);
const env = { ...process.env, NX_DAEMON: process.env.NX_DAEMON ?? 'false' };
const tierAt = args.indexOf('--tier');
if (tierAt !== -1) {
  env.NEXUS_TEST_TIER = args[tierAt + 1] ?? '';
  args.splice(tierAt, 2);
}
const common = ['--outputStyle=stream', ...(env.CI ? ['--skip-nx-cache'] : [])];
const nx = (...nxArgs) =>
  new Promise((resolve) => {
    const child = spawn('npx', ['nx', ...nxArgs, ...common], { stdio: 'inherit', env });
    child.on('exit', (status, signal) => resolve({ status: status ?? 1, signal }));
  });
// Builds first (the server's tests run its built CLI). Then, side by side, one typecheck of the
// whole repository (the workspace project: one compiler process instead of one per package) and
// every project's tests, four at a time, without running their dependencies again.
let run = await nx('run-many', '--targets=build', '--parallel=2', ...args);
if (run.status === 0) {
  const runs = await Promise.all([
    env.NEXUS_TEST_TIER ? { status: 0 } : nx('run', 'workspace:typecheck'),
    nx('run-many', '--targets=test', '--excludeTaskDependencies', '--parallel=4', ...args),
  ]);
  run = runs.find((result) => result.status !== 0) ?? runs[1];
}

let passed = 0;
let failed = 0;
let skipped = 0;
const files = readdirSync(resultsDir).filter((name) => name.endsWith('.json'));
for (const file of files) {
  const report = JSON.parse(readFileSync(join(resultsDir, file), 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += (report.numFailedTests ?? 0) + (report.numRuntimeErrorTestSuites ?? 0);
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  failed += (report.testResults ?? []).filter((s) => s.status === 'failed' && (s.assertionResults ?? []).length === 0).length;
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
if (files.length === 0 || !existsSync(resultsDir)) console.error('no project wrote test results');
if (run.status !== 0 || failed > 0) process.exit(run.status || 1);
if (passed === 0) {
  console.error('no test ran');
  process.exit(1);
}
