import { spawn } from 'node:child_process';
import { canonicalJson, type RouterAdapter, type RouterRequest, type RouterResponse, type RunOptions } from '@nexus-control/core';
import { DEFAULT_ADAPTER_CAPABILITIES } from './defaultCapabilities.js';
import { readRouterResponse, tail } from './readRouterResponse.js';

export interface SubprocessAdapterOptions {
  readonly id: string;
  /** Program and arguments; run without a shell. */
  readonly command: readonly string[];
  readonly cwd?: string;
  /** Added to a minimal environment (PATH, HOME, LANG, TZ); the server's own environment is not passed on. */
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly capabilities?: readonly string[];
  /** Output beyond this is an error (default 16 MiB). */
  readonly maxOutputBytes?: number;
  /** Between SIGTERM and SIGKILL when the run is stopped (default 2 s). */
  readonly killGraceMs?: number;
  /**
   * The W3C \`traceparent\` of the call the run belongs to, if any: passed on to the executor
   * (the `TRACEPARENT` environment variable) so that its own work joins the call's trace.
   */
  readonly traceparent?: () => string | undefined;
}

const INHERITED_ENV = ['PATH', 'HOME', 'LANG', 'TZ', 'SYSTEMROOT'];

/** Exit status of the wrapper when the command cannot be started (as a shell reports it). */
const NOT_STARTED = 127;

/**
 * The command runs under this small POSIX shell wrapper, which leads the run's process group.
 * File descriptor 3 is a pipe whose other end only the server holds: when the server dies,
 * even by SIGKILL, the kernel closes that end, `read` sees end of file, and the watcher kills
 * the whole group, so no command outlives its server unnoticed. The command itself does not
 * inherit fd 3. The wrapper exits as the command did (re-raising its signal).
 */
const PARENT_WATCH = [
  'command -v "$1" >/dev/null 2>&1 || { echo "ENOENT: $1" >&2; exit 127; }',
  'exec 4<&0',
  '"$@" <&4 4<&- 3<&- &',
  'cmd=$!',
  'exec 4<&-',
  '( read -r _ <&3; kill -KILL 0 ) &',
  'watch=$!',
  'exec 3<&-',
  'wait "$cmd"',
  'status=$?',
  'kill "$watch" 2>/dev/null',
  'if [ "$status" -gt 128 ] && [ "$status" -lt 160 ]; then kill -$((status - 128)) $$; fi',
  'exit "$status"',
].join('\n');

/**
 * Runs a configured command per execution: the compiled router request as canonical JSON on
 * stdin, the router response as a JSON object on stdout, exit code 0. A non-zero exit, a
 * timeout or unreadable output fails the run (the decision records ROUTER_ERROR). The command
 * runs in its own process group so a timeout, a cancellation or shutdown stops everything it
 * started, and (on POSIX systems) under a wrapper that kills that group when the server process
 * dies (see `PARENT_WATCH`). The environment names the run: `NEXUS_DECISION_ID` and
 * `NEXUS_EXECUTION_ID` (stable for the run, new for a retry).
 */
export function createSubprocessAdapter(options: SubprocessAdapterOptions): RouterAdapter {
  const [program, ...args] = options.command;
  if (program === undefined) throw new Error(`adapter '${options.id}': the command is empty`);
  const maxOutput = options.maxOutputBytes ?? 16 * 1024 * 1024;
  const killGraceMs = options.killGraceMs ?? 2_000;
  const baseEnv: Record<string, string> = {};
  for (const name of INHERITED_ENV) {
    const value = process.env[name];
    if (value !== undefined) baseEnv[name] = value;
  }
  const label = `adapter '${options.id}' (${program})`;

  return {
    id: options.id,
    capabilities: Object.freeze([...(options.capabilities ?? DEFAULT_ADAPTER_CAPABILITIES)]),
    run(request: RouterRequest, runOptions: RunOptions = {}): Promise<RouterResponse> {
      return new Promise<RouterResponse>((resolve, reject) => {
        const { signal } = runOptions;
        if (signal?.aborted) {
          reject(new Error(`${label} was cancelled before it started`));
          return;
        }
        const env: Record<string, string> = {
          ...baseEnv,
          ...options.env,
          NEXUS_ADAPTER_ID: options.id,
          NEXUS_DRY_RUN: request.dry_run ? '1' : '0',
        };
        if (runOptions.execution) {
          env['NEXUS_DECISION_ID'] = runOptions.execution.decisionId;
          env['NEXUS_EXECUTION_ID'] = runOptions.execution.executionId;
        }
        const traceparent = options.traceparent?.();
        if (traceparent) env['TRACEPARENT'] = traceparent;
        const posix = process.platform !== 'win32';
        const child = posix
          ? spawn('/bin/sh', ['-c', PARENT_WATCH, 'nexus-adapter', program, ...args], {
              cwd: options.cwd,
              env,
              stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
              detached: true,
            })
          : spawn(program, args, { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
        // The server's end of the parent-death pipe: never written, closed by the kernel when this process dies.
        const lifeline = child.stdio[3] as NodeJS.ReadableStream | null | undefined;
        lifeline?.on('error', () => undefined);
        const stdout: Buffer[] = [];
        let stdoutBytes = 0;
        let stderr = '';
        let failure: string | undefined;
        let killTimer: NodeJS.Timeout | undefined;

        const stop = (reason: string) => {
          if (failure !== undefined) return;
          failure = reason;
          const kill = (sig: NodeJS.Signals) => {
            try {
              if (child.pid !== undefined) process.kill(process.platform === 'win32' ? child.pid : -child.pid, sig);
            } catch {
              // already gone
            }
          };
          kill('SIGTERM');
          killTimer = setTimeout(() => kill('SIGKILL'), killGraceMs);
          killTimer.unref();
        };
        const timer = setTimeout(() => stop(`${label} timed out after ${options.timeoutMs} ms`), options.timeoutMs);
        const onAbort = () => stop(`${label} was cancelled`);
        signal?.addEventListener('abort', onAbort, { once: true });

        child.stdout.on('data', (chunk: Buffer) => {
          stdoutBytes += chunk.length;
          if (stdoutBytes > maxOutput) stop(`${label} wrote more than ${maxOutput} bytes`);
          else stdout.push(chunk);
        });
        child.stderr.on('data', (chunk: Buffer) => {
          stderr = (stderr + chunk.toString('utf8')).slice(-8_192);
        });
        // The command may exit without reading its input; that is its business.
        child.stdin.on('error', () => undefined);
        child.stdin.end(canonicalJson(request) + '\n');

        let spawnError: Error | undefined;
        child.on('error', (error) => {
          spawnError = error;
        });
        child.on('close', (code, sig) => {
          clearTimeout(timer);
          if (killTimer) clearTimeout(killTimer);
          signal?.removeEventListener('abort', onAbort);
          if (spawnError) return reject(new Error(`${label} could not run: ${spawnError.message}`));
          if (posix && code === NOT_STARTED && stderr.startsWith('ENOENT: ')) {
            return reject(new Error(`${label} could not run: spawn ${program} ENOENT`));
          }
          if (failure !== undefined) return reject(new Error(failure));
          if (code !== 0) {
            const how = code === null ? `was killed by ${sig}` : `exited with code ${code}`;
            return reject(new Error(`${label} ${how}${stderr.trim() ? `: ${tail(stderr, 1_000)}` : ''}`));
          }
          try {
            resolve(readRouterResponse(Buffer.concat(stdout).toString('utf8'), label));
          } catch (error) {
            reject(error);
          }
        });
      });
    },
  };
}
