import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const binPath = fileURLToPath(new URL('../../bin/nexus-control.js', import.meta.url));

export interface ServeProcess {
  readonly child: ChildProcess;
  /** From the readiness line. */
  readonly address: string;
  readonly port: number;
  /** Every JSON line written to stderr so far. */
  readonly logs: Record<string, unknown>[];
  stderr(): string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/** Runs `nexus-control serve <args>` and resolves once it logs that it is listening. */
export function spawnServe(args: readonly string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [binPath, 'serve', ...args], { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Record<string, unknown>[] = [];
  let text = '';
  let pending = '';
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));

  return new Promise<ServeProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not become ready within ${options.timeoutMs ?? 20_000} ms:\n${text}`));
    }, options.timeoutMs ?? 20_000);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      text += chunk;
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        logs.push(entry);
        if (entry['msg'] === 'listening') {
          clearTimeout(timer);
          resolve({
            child,
            address: entry['address'] as string,
            port: entry['port'] as number,
            logs,
            stderr: () => text,
            exited,
            stop(signal = 'SIGTERM') {
              child.kill(signal);
              return exited;
            },
          });
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}) before it was ready:\n${text}`));
    });
  });
}

/** Runs `nexus-control serve <args>` expecting it to refuse to start; resolves with its exit code and log lines. */
export async function serveFailure(
  args: readonly string[],
): Promise<{ code: number | string; logs: Record<string, unknown>[]; stderr: string }> {
  const child = spawn(process.execPath, [binPath, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | string>((resolve) => child.on('exit', (c, s) => resolve(c ?? s ?? 'unknown')));
  const logs = stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { code, logs, stderr };
}
