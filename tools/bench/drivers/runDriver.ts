import { spawn } from 'node:child_process';
import { repoRoot } from './benchServer.js';

/**
 * Runs a load driver script in its own node process (through tsx) with `options` as its one
 * JSON argument, and resolves with the JSON result it prints (see `driverMain`).
 */
export function runDriver<Result>(script: string, options: unknown, nodeArgs: readonly string[] = []): Promise<Result> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script, JSON.stringify(options)], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the load driver failed (exit ${code}): ${stderr.trim()}`));
      else resolve(JSON.parse(stdout) as Result);
    });
  });
}
