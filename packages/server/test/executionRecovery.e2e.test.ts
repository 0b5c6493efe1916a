import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ActorType, createNexusClient, DecisionStatus, EventType, ExecutionStatus, type NexusClient } from '@nexus-control/client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { sha256OfToken } from '../src/auth/createAuthenticator.js';
import { scrape } from './helpers/scrape.js';
import { binPath, spawnServe, type ServeProcess } from './helpers/serveProcess.js';
import { tempDir } from './helpers/tempDir.js';
import { executorScript } from './helpers/testServer.js';
import { postgresSchema, TEST_POSTGRES_URL, type PostgresSchema } from './helpers/postgresSchema.js';
import { freshDatabaseName, mongoAvailable, mongoUrlWith, testClient } from '../../store-mongo/test/support/mongoTestServer.js';

const LEASE_MS = 1_500;
const SWEEP_MS = 250;

const dir = tempDir('nexus-recovery-');
const schemas: PostgresSchema[] = [];
afterAll(async () => {
  dir.remove();
  for (const schema of schemas) await schema.drop();
});

let running: ServeProcess[] = [];
let clients: NexusClient[] = [];
afterEach(async () => {
  for (const client of clients) client.close();
  clients = [];
  await Promise.all(running.map((s) => s.stop('SIGKILL')));
  running = [];
});

/** A config whose `slow` adapter runs the executor, which records its pid and then sleeps for a minute. */
function writeConfig(name: string, extra: Record<string, unknown> = {}): { configPath: string; pidFile: string } {
  const configPath = join(dir.path, `${name}.json`);
  const pidFile = join(dir.path, `${name}.pids`);
  writeFileSync(
    configPath,
    JSON.stringify({
      auth: {
        tokens: [
          { sha256: sha256OfToken('admin-token'), actor: 'ops', roles: ['admin'] },
          { sha256: sha256OfToken('executor-token'), actor: 'deployer', roles: ['executor'] },
        ],
      },
      adapters: [
        {
          id: 'slow',
          type: 'subprocess',
          command: [process.execPath, executorScript],
          env: { PID_FILE: pidFile },
          capabilities: ['dry_run'],
        },
      ],
      executions: { leaseMs: LEASE_MS, renewMs: 300, sweepMs: SWEEP_MS },
      ...extra,
    }),
  );
  return { configPath, pidFile };
}

async function serveOn(store: string, configPath: string): Promise<{ serve: ServeProcess; client: NexusClient }> {
  const serve = await spawnServe(['--store', store, '--listen', '127.0.0.1:0', '--config', configPath]);
  running.push(serve);
  const client = createNexusClient({ address: serve.address, token: 'admin-token' });
  clients.push(client);
  return { serve, client };
}

/** Running, or stopped but not yet reaped counts as gone (a zombie runs nothing). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function pids(pidFile: string): number[] {
  return existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim().split('\n').filter(Boolean).map(Number) : [];
}

/** Creates and approves a decision whose run through `slow` sleeps, starts the run, and waits until the adapter's command runs. */
async function startStuckRun(
  client: NexusClient,
  pidFile: string,
): Promise<{ decisionId: string; commandPid: number; call: Promise<unknown> }> {
  const { decision } = await client.createDecision({ goal: 'sleep' });
  const decisionId = decision!.decisionId;
  await client.approve({ decisionId });
  const before = pids(pidFile).length;
  const call = client.execute({ decisionId, adapterId: 'slow' }).catch((error: unknown) => error);
  await expect.poll(() => pids(pidFile).length, { timeout: 10_000 }).toBe(before + 1);
  return { decisionId, commandPid: pids(pidFile).at(-1)!, call };
}

function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [binPath, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** Two servers on one store; the one running an execution is killed, and the other must fail the run as interrupted. */
async function survivorRecoversTheRun(store: string, name: string, slackMs = 1_500): Promise<void> {
  const { configPath, pidFile } = writeConfig(name);
  const a = await serveOn(store, configPath);
  const b = await serveOn(store, configPath);
  const { decisionId, commandPid } = await startStuckRun(a.client, pidFile);
  // The survivor leaves a live run alone: the lease is renewed.
  await new Promise((r) => setTimeout(r, LEASE_MS + 2 * SWEEP_MS));
  expect((await b.client.getDecision({ decisionId })).decision?.status).toBe(DecisionStatus.DECISION_STATUS_EXECUTING);

  a.serve.child.kill('SIGKILL');
  const killedAt = Date.now();
  await a.serve.exited;
  await expect
    .poll(async () => (await b.client.getDecision({ decisionId })).decision?.status, { timeout: LEASE_MS + 10_000, interval: 50 })
    .toBe(DecisionStatus.DECISION_STATUS_FAILED);
  // Lapse of the last renewal, plus at most one sweep interval and some scheduling slack.
  expect(Date.now() - killedAt).toBeLessThan(LEASE_MS + SWEEP_MS + slackMs);
  expect((await b.client.getDecision({ decisionId })).decision!.executions.at(-1)!.errorCode).toBe('EXECUTION_INTERRUPTED');
  expect(alive(commandPid)).toBe(false);
}

describe('executions that survive their server', { timeout: 40_000 }, () => {
  it('kill -9 mid-run: the adapter command dies with the server, and after a restart the run is failed as interrupted and the decision can run again', async () => {
    const store = `sqlite:${join(dir.path, 'restart.db')}`;
    const { configPath, pidFile } = writeConfig('restart', { metrics: { listen: '127.0.0.1:0' } });
    const first = await serveOn(store, configPath);
    const { decisionId, commandPid } = await startStuckRun(first.client, pidFile);
    expect(alive(commandPid)).toBe(true);

    first.serve.child.kill('SIGKILL');
    await first.serve.exited;
    // The command was started in its own process group, under a watcher of the server's pipe.
    await expect.poll(() => alive(commandPid), { timeout: 5_000 }).toBe(false);

    const second = await serveOn(store, configPath);
    await expect
      .poll(async () => (await second.client.getDecision({ decisionId })).decision?.status, { timeout: LEASE_MS + 10_000, interval: 100 })
      .toBe(DecisionStatus.DECISION_STATUS_FAILED);
    const { decision } = await second.client.getDecision({ decisionId });
    const run = decision!.executions.at(-1)!;
    expect(run.status).toBe(ExecutionStatus.EXECUTION_STATUS_FAILED);
    expect(run.errorCode).toBe('EXECUTION_INTERRUPTED');
    expect(run.errorMessage).toMatch(/^interrupted: outcome unknown: /);
    const { events } = await second.client.listEvents({ decisionId });
    expect(events.filter((e) => e.type === EventType.EVENT_TYPE_EXECUTION_FAILED)).toHaveLength(1);
    expect(
      second.serve.logs.some(
        (l) => l['msg']?.toString().startsWith('recovered an interrupted execution') && l['decision_id'] === decisionId,
      ),
    ).toBe(true);
    const metrics = await scrape(second.serve.logs.find((l) => l['msg'] === 'listening')!['metrics'] as string);
    expect(metrics.value('nexus_executions_recovered_total')).toBe(1);
    expect(metrics.value('nexus_executions_total', { outcome: 'failed' })).toBe(1);

    // Retryable under its policy: the approval still holds, so it executes again.
    const retried = await second.client.execute({ decisionId, adapterId: 'null' });
    expect(retried.decision?.status).toBe(DecisionStatus.DECISION_STATUS_COMPLETED);
  });

  it('SIGTERM with a run still going: once the grace period ends the command is stopped and the run is recorded as a router error whose outcome is unknown', async () => {
    const store = `sqlite:${join(dir.path, 'sigterm.db')}`;
    const { configPath, pidFile } = writeConfig('sigterm', { shutdownGraceMs: 300 });
    const { serve, client } = await serveOn(store, configPath);
    const { decisionId, commandPid } = await startStuckRun(client, pidFile);
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    expect(alive(commandPid)).toBe(false);

    const again = await serveOn(store, configPath);
    const run = (await again.client.getDecision({ decisionId })).decision!.executions.at(-1)!;
    expect(run.status).toBe(ExecutionStatus.EXECUTION_STATUS_FAILED);
    expect(run.errorCode).toBe('ROUTER_ERROR');
    expect(run.errorMessage).toMatch(/^interrupted: outcome unknown: .*adapter 'slow' .*was cancelled/);
  });

  it('two replicas on one database: one is killed mid-run and the survivor recovers its run within the lease time', async () => {
    await survivorRecoversTheRun(`sqlite:${join(dir.path, 'replicas.db')}`, 'replicas');
  });

  it.skipIf(TEST_POSTGRES_URL === undefined)(
    "two replicas on one PostgreSQL schema: the survivor recovers the killed one's run, and no lease is left",
    async () => {
      const schema = postgresSchema();
      schemas.push(schema);
      await survivorRecoversTheRun(schema.storeUrl, 'pg-replicas');
      expect(await schema.sql('SELECT decision_id FROM execution_leases')).toEqual([]);
    },
  );

  it.skipIf(!mongoAvailable())(
    "two replicas on one MongoDB database: the survivor recovers the killed one's run, and no lease is left",
    async () => {
      const database = freshDatabaseName('nexus_recovery');
      const mongo = await testClient();
      try {
        // The test emulator takes tens of milliseconds a transaction, and other suites share it.
        await survivorRecoversTheRun(mongoUrlWith(database), 'mongo-replicas', 4_000);
        expect(await mongo.db(database).collection('execution_leases').countDocuments()).toBe(0);
      } finally {
        await mongo.db(database).dropDatabase();
        await mongo.close();
      }
    },
  );

  it('an admin fails a stuck run with `execution fail`: recorded with the operator as actor, and the running command is stopped', async () => {
    const store = `sqlite:${join(dir.path, 'operator.db')}`;
    const { configPath, pidFile } = writeConfig('operator');
    const { serve, client } = await serveOn(store, configPath);
    const { decisionId, commandPid, call } = await startStuckRun(client, pidFile);
    const flags = ['--server', serve.address];

    const denied = await runCli(['execution', 'fail', decisionId, '--reason', 'stuck', ...flags, '--token', 'executor-token']);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/PERMISSION_DENIED/);
    const noReason = await runCli(['execution', 'fail', decisionId, ...flags, '--token', 'admin-token']);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--reason is required/);

    const done = await runCli([
      'execution',
      'fail',
      decisionId,
      '--reason',
      'host rebooted during the run',
      ...flags,
      '--token',
      'admin-token',
    ]);
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(new RegExp(`failed the run of ${decisionId}`));

    const { decision } = await client.getDecision({ decisionId });
    expect(decision?.status).toBe(DecisionStatus.DECISION_STATUS_FAILED);
    expect(decision!.executions.at(-1)).toMatchObject({
      errorCode: 'EXECUTION_FAILED_BY_OPERATOR',
      errorMessage: 'failed by operator ops: host rebooted during the run',
    });
    const last = (await client.listEvents({ decisionId })).events.at(-1)!;
    expect([last.type, last.actor?.type, last.actor?.id]).toEqual([
      EventType.EVENT_TYPE_EXECUTION_FAILED,
      ActorType.ACTOR_TYPE_HUMAN,
      'ops',
    ]);
    // The server running it lost the lease at its next renewal and stopped the command.
    await expect.poll(() => alive(commandPid), { timeout: 5_000 }).toBe(false);
    expect(await call).toMatchObject({ code: 'INVALID_STATE' });

    const again = await runCli(['execution', 'fail', decisionId, '--reason', 'twice', ...flags, '--token', 'admin-token']);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/INVALID_STATE/);
  });
});
