#!/usr/bin/env node
// Runs every vitest project once and prints the plain summary line CI reads:
// "N passed, N failed, N skipped". Exits non-zero when a test fails or none ran.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const resultsDir = '.test-results';
const resultsFile = join(resultsDir, 'vitest.json');
mkdirSync(resultsDir, { recursive: true });
if (existsSync(resultsFile)) rmSync(resultsFile);

const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${resultsFile}`, ...process.argv.slice(2)];
const run = spawnSync('npx', args, { stdio: 'inherit', env: process.env });

if (!existsSync(resultsFile)) {
  console.log('0 passed, 0 failed, 0 skipped');
  console.error('vitest wrote no results' + (run.status === null ? ` (killed by ${run.signal})` : ''));
  process.exit(run.status || 1);
}
const report = JSON.parse(readFileSync(resultsFile, 'utf8'));
const passed = report.numPassedTests ?? 0;
const failed = (report.numFailedTests ?? 0) + (report.numRuntimeErrorTestSuites ?? 0);
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
const failedSuites = (report.testResults ?? []).filter((s) => s.status === 'failed' && (s.assertionResults ?? []).length === 0);
console.log(`${passed} passed, ${failed + failedSuites.length} failed, ${skipped} skipped`);
if (run.status !== 0 || failed + failedSuites.length > 0) process.exit(run.status || 1);
if (passed === 0) {
  console.error('no test ran');
  process.exit(1);
}
