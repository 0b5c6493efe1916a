import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JsonFloat, canonicalJson, type RouterRequest } from '@nexus-control/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createSubprocessAdapter } from '../src/createSubprocessAdapter.js';

const executor = fileURLToPath(new URL('./fixtures/executor.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'nexus-subprocess-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const request = (goal: string): RouterRequest => ({ goal, adapter_id: 'deploy', dry_run: false, plan: 'step one\nstep two' });

/** Running, or stopped but not yet reaped by its new parent counts as gone (a zombie runs nothing). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return !existsSync('/proc/self');
  }
}

describe('subprocess adapter', () => {
  it('passes the request as canonical JSON on stdin and reads the response losslessly', async () => {
    process.env['SERVER_SECRET'] = 'must-not-leak';
    try {
      const adapter = createSubprocessAdapter({
        id: 'deploy',
        command: [process.execPath, executor],
        cwd: dir,
        env: { CUSTOM: 'yes' },
        timeoutMs: 10_000,
      });
      expect(adapter.capabilities).toEqual(['apply', 'timeout', 'external']);
      const response = await adapter.run(request('ship it'));
      expect(response).toMatchObject({ run_id: 'run-1', status: 'completed', steps_executed: 2 });
      expect(response['big']).toBe(12345678901234567890n);
      expect(response['ratio']).toBeInstanceOf(JsonFloat);
      expect(canonicalJson(response)).toContain('"big":12345678901234567890');
      expect(canonicalJson(response)).toContain('"ratio":1.0');
      expect(response['request']).toEqual(request('ship it'));
      expect(response['env']).toEqual({
        adapter: 'deploy',
        dryRun: '0',
        custom: 'yes',
        leaked: null,
        traceparent: null,
        decisionId: null,
        executionId: null,
        cwd: dir,
      });
    } finally {
      delete process.env['SERVER_SECRET'];
    }
  });

  it('tells the command which run it is, so it can refuse to repeat a side effect', async () => {
    const adapter = createSubprocessAdapter({ id: 'deploy', command: [process.execPath, executor], timeoutMs: 10_000 });
    const response = await adapter.run(request('ship it'), { execution: { decisionId: 'dec_1', executionId: 'dec_1:0:3' } });
    expect(response['env']).toMatchObject({ decisionId: 'dec_1', executionId: 'dec_1:0:3' });
  });

  it('a command killed by a signal is reported as killed, not as an exit code', async () => {
    const adapter = createSubprocessAdapter({ id: 'deploy', command: ['/bin/sh', '-c', 'kill -KILL $$'], timeoutMs: 10_000 });
    await expect(adapter.run(request('x'))).rejects.toThrow(/was killed by SIGKILL/);
  });

  it('a non-zero exit fails the run with the exit code and the end of stderr', async () => {
    const adapter = createSubprocessAdapter({ id: 'deploy', command: [process.execPath, executor], timeoutMs: 10_000 });
    await expect(adapter.run(request('fail'))).rejects.toThrow(/exited with code 3: disk full/);
  });

  it('output that is not a JSON object fails the run', async () => {
    const adapter = createSubprocessAdapter({ id: 'deploy', command: [process.execPath, executor], timeoutMs: 10_000 });
    await expect(adapter.run(request('garbage'))).rejects.toThrow(/did not return JSON/);
    await expect(adapter.run(request('array'))).rejects.toThrow(/not an object/);
  });

  it('a command that cannot start fails the run', async () => {
    const adapter = createSubprocessAdapter({ id: 'deploy', command: [join(dir, 'no-such-program')], timeoutMs: 10_000 });
    await expect(adapter.run(request('x'))).rejects.toThrow(/could not run: .*ENOENT/);
  });

  it('a timeout stops the command and everything it started', async () => {
    const pidFile = join(dir, 'pids-timeout');
    const adapter = createSubprocessAdapter({
      id: 'deploy',
      command: [process.execPath, executor],
      env: { PID_FILE: pidFile },
      timeoutMs: 500,
      killGraceMs: 500,
    });
    const started = Date.now();
    await expect(adapter.run(request('sleep-with-child'))).rejects.toThrow(/timed out after 500 ms/);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(existsSync(pidFile)).toBe(true);
    const pids = readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
    expect(pids).toHaveLength(2);
    await expect.poll(() => pids.filter(alive), { timeout: 3_000 }).toEqual([]);
  });

  it('aborting the signal stops the command', async () => {
    const adapter = createSubprocessAdapter({ id: 'deploy', command: [process.execPath, executor], timeoutMs: 30_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const started = Date.now();
    await expect(adapter.run(request('sleep'), { signal: controller.signal })).rejects.toThrow(/was cancelled/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
