import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNexusClient, EventType, NexusClientError, type NexusClient } from '@nexus-control/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256OfToken } from '../src/auth/createAuthenticator.js';
import { postgresSchema, TEST_POSTGRES_URL, type PostgresSchema } from './helpers/postgresSchema.js';
import { spawnServe, type ServeProcess } from './helpers/serveProcess.js';
import { tempDir } from './helpers/tempDir.js';
import { executorScript } from './helpers/testServer.js';

/*
 * Two `serve` processes on one PostgreSQL schema, raced through their gRPC APIs; the log is
 * then checked in SQL, where no process can hide anything.
 */
describe.skipIf(TEST_POSTGRES_URL === undefined)('two serve processes on one PostgreSQL database', () => {
  const dir = tempDir('nexus-pg-replicas-');
  const runLog = join(dir.path, 'runs.log');
  let schema: PostgresSchema;
  let servers: ServeProcess[] = [];
  const clients: Record<string, [NexusClient, NexusClient]> = {};

  beforeAll(async () => {
    schema = postgresSchema();
    const config = join(dir.path, 'config.json');
    const token = (name: string, roles: string[], type: 'human' | 'system' = 'human') => ({
      sha256: sha256OfToken(`${name}-token`),
      actor: name,
      type,
      roles,
    });
    writeFileSync(
      config,
      JSON.stringify({
        auth: {
          tokens: [
            token('alice', ['requester']),
            token('bob', ['approver']),
            token('carol', ['approver']),
            token('deployer', ['executor'], 'system'),
          ],
        },
        adapters: [
          {
            id: 'deploy',
            type: 'subprocess',
            command: [process.execPath, executorScript],
            env: { RUN_LOG: runLog, DELAY_MS: '200' },
            capabilities: ['dry_run', 'apply'],
          },
        ],
      }),
    );
    // Started together: both run the migrations at once, under the schema's lock.
    const args = ['--store', schema.storeUrl, '--listen', '127.0.0.1:0', '--config', config];
    servers = await Promise.all([spawnServe(args), spawnServe(args)]);
    for (const name of ['alice', 'bob', 'carol', 'deployer']) {
      clients[name] = servers.map((s) => createNexusClient({ address: s.address, token: `${name}-token`, deadlineMs: 20_000 })) as [
        NexusClient,
        NexusClient,
      ];
    }
  }, 60_000);

  afterAll(async () => {
    for (const pair of Object.values(clients)) for (const client of pair) client.close();
    await Promise.all(servers.map((s) => s.stop('SIGKILL')));
    await schema?.drop();
    dir.remove();
  });

  it('migrated the schema once although both started at the same moment', async () => {
    const rows = await schema.sql<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((row) => row.version)).toEqual([1, 2]);
  });

  it('a watch on one server sees an append made through the other well under a second', async () => {
    const watch = clients.alice![0].watchDecisions({ fromNow: {} });
    const iterator = watch[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toMatchObject({ type: 'caught_up' });
    const started = Date.now();
    const { decision } = await clients.alice![1].createDecision({ goal: 'seen across servers' });
    const next = await iterator.next();
    const elapsed = Date.now() - started;
    watch.cancel();
    expect(next.value).toMatchObject({ type: 'event', event: { decisionId: decision!.decisionId, seq: 0 } });
    expect(elapsed).toBeLessThan(1000);
  });

  it('approvals from both and executions from both: every approval counted once, exactly one run', async () => {
    const rounds = 5;
    const ids: string[] = [];
    for (let round = 0; round < rounds; round++) {
      const { decision } = await clients.alice![round % 2 === 0 ? 0 : 1].createDecision({
        goal: `replica-race-${round}`,
        policy: { minApprovals: 2 },
      });
      const decisionId = decision!.decisionId;
      ids.push(decisionId);
      // Two approvers through two servers at once: the loser of the append race re-validates and retries.
      await Promise.all([clients.bob![0].approve({ decisionId }), clients.carol![1].approve({ decisionId })]);
      const outcomes = await Promise.allSettled([
        clients.deployer![0].execute({ decisionId, adapterId: 'deploy' }),
        clients.deployer![1].execute({ decisionId, adapterId: 'deploy' }),
      ]);
      expect(
        outcomes.filter((o) => o.status === 'fulfilled'),
        `round ${round}`,
      ).toHaveLength(1);
      const lost = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected')!.reason as NexusClientError;
      expect(lost).toBeInstanceOf(NexusClientError);
      expect(['CONCURRENCY_CONFLICT', 'INVALID_STATE']).toContain(lost.code);
      const { events } = await clients.alice![0].listEvents({ decisionId });
      expect(events.filter((e) => e.type === EventType.EVENT_TYPE_APPROVAL_GRANTED)).toHaveLength(2);
      expect(events.filter((e) => e.type === EventType.EVENT_TYPE_EXECUTION_REQUESTED)).toHaveLength(1);
      expect(events.at(-1)?.type).toBe(EventType.EVENT_TYPE_EXECUTION_COMPLETED);
    }
    expect(existsSync(runLog)).toBe(true);
    const runs = readFileSync(runLog, 'utf8').trim().split('\n');
    expect(runs.sort()).toEqual(Array.from({ length: rounds }, (_, i) => `replica-race-${i}`).sort());

    const perDecision = await schema.sql<{
      decision_id: string;
      n: number;
      min: number;
      max: number;
      distinct_seqs: number;
      length: number;
    }>(
      `SELECT e.decision_id, count(*)::int AS n, min(e.seq) AS min, max(e.seq) AS max,
              count(DISTINCT e.seq)::int AS distinct_seqs, d.length
         FROM events e JOIN decisions d USING (decision_id)
        WHERE e.decision_id = ANY($1) AND e.generation = d.generation
        GROUP BY e.decision_id, d.length`,
      [ids],
    );
    expect(perDecision).toHaveLength(rounds);
    for (const row of perDecision) {
      // Contiguous from 0, no seq twice, and the decision row agrees with its log.
      expect(row).toMatchObject({ min: 0, max: row.n - 1, distinct_seqs: row.n, length: row.n });
    }
  });

  it('the same idempotency key on both servers: one decision, both callers get it', async () => {
    const key = `replica-key-${Date.now()}`;
    const results = await Promise.all([
      clients.alice![0].createDecision({ goal: 'once only', idempotencyKey: key }),
      clients.alice![1].createDecision({ goal: 'once only', idempotencyKey: key }),
    ]);
    expect(results[0].decision!.decisionId).toBe(results[1].decision!.decisionId);
    const rows = await schema.sql<{ n: number }>(`SELECT count(*)::int AS n FROM decisions WHERE goal_json = $1`, [
      JSON.stringify('once only'),
    ]);
    expect(rows[0]!.n).toBe(1);
    const keys = await schema.sql<{ decision_id: string }>('SELECT decision_id FROM idempotency_keys WHERE key = $1', [key]);
    expect(keys).toEqual([{ decision_id: results[0].decision!.decisionId }]);
  });

  it('the feed in SQL holds every event once, with no place used twice', async () => {
    const rows = await schema.sql<{ total: number; places: number; keys: number }>(
      `SELECT count(*)::int AS total, count(DISTINCT (tx_id, position))::int AS places,
              count(DISTINCT (decision_id, generation, seq))::int AS keys FROM events`,
    );
    expect(rows[0]!.total).toBeGreaterThan(0);
    expect(rows[0]!.places).toBe(rows[0]!.total);
    expect(rows[0]!.keys).toBe(rows[0]!.total);
    const lengths = await schema.sql<{ missing: number }>(
      `SELECT count(*)::int AS missing FROM decisions d
        WHERE d.length <> (SELECT count(*) FROM events e WHERE e.decision_id = d.decision_id AND e.generation = d.generation)`,
    );
    expect(lengths[0]!.missing).toBe(0);
  });
});
