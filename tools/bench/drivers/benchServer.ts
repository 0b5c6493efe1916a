import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const serverBin = join(repoRoot, 'packages', 'server', 'bin', 'nexus-control.js');

export interface BenchServer {
  readonly child: ChildProcess;
  readonly address: string;
  /** The readiness line. */
  readonly ready: Readonly<Record<string, unknown>>;
  stop(): Promise<void>;
}

/**
 * Starts `nexus-control serve <args>` on a free loopback port in its own process; resolves
 * with the address from its readiness line. Its per-RPC log lines are drained and dropped.
 * `nodeArgs` go to node itself (e.g. `--cpu-prof`).
 */
export function startBenchServer(args: readonly string[], nodeArgs: readonly string[] = []): Promise<BenchServer> {
  const child = spawn(process.execPath, [...nodeArgs, serverBin, 'serve', '--listen', '127.0.0.1:0', ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    let pending = '';
    let ready = false;
    const timer = setTimeout(() => reject(new Error(`the server did not report readiness within 30 s: ${pending.slice(-2000)}`)), 30_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      if (ready) return;
      pending += chunk.toString();
      for (const line of pending.split('\n')) {
        if (!line.includes('"listening"')) continue;
        try {
          const entry = JSON.parse(line) as { msg?: string; address?: string };
          if (entry.msg === 'listening' && typeof entry.address === 'string') {
            ready = true;
            pending = '';
            clearTimeout(timer);
            resolve({ child, address: entry.address, ready: entry, stop });
            return;
          }
        } catch {
          // A line still arriving.
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`the server exited with ${code} before it was ready: ${pending.slice(-2000)}`));
    });
  });
}
