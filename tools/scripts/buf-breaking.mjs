#!/usr/bin/env node
// `buf breaking` of proto/ against the last committed contract: where the branch left main
// (origin/main, then main), else the previous commit. NEXUS_PROTO_BASE=<git ref> picks another base.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const git = (...args) => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
const exists = (ref) => {
  try {
    git('rev-parse', '--verify', '--quiet', `${ref}^{commit}`);
    return true;
  } catch {
    return false;
  }
};

const head = git('rev-parse', 'HEAD');
// A branch is compared with where it left the base branch (not the base branch's newest commit,
// which may hold contract changes the branch has not merged yet); the base branch itself, and a
// branch level with it, with the commit before.
const forkPoint = (ref) => {
  if (!exists(ref)) return undefined;
  const mergeBase = git('merge-base', 'HEAD', ref);
  return mergeBase === head ? undefined : mergeBase;
};
const base = process.env.NEXUS_PROTO_BASE ?? forkPoint('origin/main') ?? forkPoint('main') ?? (exists('HEAD~1') ? 'HEAD~1' : undefined);
if (base === undefined) {
  console.log('buf breaking: skipped, no earlier commit to compare with');
  process.exit(0);
}
if (git('ls-tree', '--name-only', base, 'proto') === '') {
  console.log(`buf breaking: skipped, ${base} has no proto/ yet`);
  process.exit(0);
}
const dir = mkdtempSync(join(tmpdir(), 'nexus-proto-base-'));
try {
  const archive = spawnSync('git', ['archive', base, 'proto', 'buf.yaml'], { maxBuffer: 64 * 1024 * 1024 });
  execFileSync('tar', ['-x', '-C', dir], { input: archive.stdout });
  console.log(`buf breaking: proto/ against ${base} (${git('rev-parse', '--short', base)})`);
  const run = spawnSync('npx', ['buf', 'breaking', '--against', dir], { stdio: 'inherit' });
  process.exitCode = run.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
