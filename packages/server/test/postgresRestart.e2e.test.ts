import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { createNexusClient, NexusClientError, type NexusClient } from '@nexus-control/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrivatePostgres, POSTGRES_BINDIR, type PrivatePostgres } from './helpers/privatePostgres.js';
import { spawnServe, type ServeProcess } from './helpers/serveProcess.js';

/*
 * The database goes away under load and comes back. The server must keep running, answer
 * STORE_UNAVAILABLE quickly while the database is down, report NOT_SERVING to health checks,
 * serve again without a restart, and have lost nothing it acknowledged. The test runs its
 * own PostgreSQL server, so stopping it disturbs no other test.
 */
describe.skipIf(POSTGRES_BINDIR === undefined)('a PostgreSQL-backed server when the database stops and starts', () => {
  let database: PrivatePostgres | undefined;
  let serve: ServeProcess | undefined;
  let client: NexusClient;
  let raw: Client;

  beforeAll(async () => {
    database = createPrivatePostgres(POSTGRES_BINDIR!);
    database.start();
    serve = await spawnServe(['--store', `${database.url}&connect_timeout_ms=2000&statement_timeout_ms=5000`, '--listen', '127.0.0.1:0']);
    client = createNexusClient({ address: serve.address, deadlineMs: 15_000 });
    raw = new Client(serve.address, credentials.createInsecure());
  }, 120_000);

  afterAll(async () => {
    client?.close();
    raw?.close();
    await serve?.stop('SIGKILL');
    // Runs whether or not the test failed: the private server is stopped and deleted.
    database?.destroy();
  });

  function health(): Promise<'SERVING' | 'NOT_SERVING' | string> {
    return new Promise((resolve, reject) =>
      raw.makeUnaryRequest(
        '/grpc.health.v1.Health/Check',
        (value: Buffer) => value,
        (value: Buffer) => value,
        Buffer.alloc(0),
        new Metadata(),
        { deadline: Date.now() + 5_000 },
        (error: ServiceError | null, response?: Buffer) => {
          if (error) return reject(error);
          const status = response!.length === 0 ? 0 : response![1];
          resolve(status === 1 ? 'SERVING' : status === 2 ? 'NOT_SERVING' : `status ${status}`);
        },
      ),
    );
  }

  async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
    const started = Date.now();
    while (Date.now() - started < timeoutMs) {
      if (await check()) return Date.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${what} did not happen within ${timeoutMs} ms`);
  }

  it('fails fast while down, reports NOT_SERVING, serves again without a restart, and loses nothing acknowledged', async () => {
    const acknowledged: string[] = [];
    const failures: { code: string; ms: number; down: boolean }[] = [];
    let down = false;
    let loading = true;
    let n = 0;
    const worker = async () => {
      while (loading) {
        const started = Date.now();
        const wasDown = down;
        try {
          const { decision } = await client.createDecision({ goal: `load ${n++}` });
          acknowledged.push(decision!.decisionId);
        } catch (error) {
          failures.push({ code: error instanceof NexusClientError ? error.code : String(error), ms: Date.now() - started, down: wasDown });
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    };
    const workers = Array.from({ length: 4 }, worker);

    await until('load before the stop', async () => acknowledged.length >= 20, 30_000);
    expect(await health()).toBe('SERVING');

    database!.stop();
    down = true;
    const downSince = acknowledged.length;
    await until('health NOT_SERVING', async () => (await health()) === 'NOT_SERVING', 10_000);
    await until('failed calls while down', async () => failures.filter((f) => f.down).length >= 8, 15_000);
    expect(serve!.child.exitCode).toBeNull();

    database!.start();
    down = false;
    const recovery = await until('health SERVING again', async () => (await health()) === 'SERVING', 20_000);
    await until('acknowledged calls after the restart', async () => acknowledged.length >= downSince + 20, 30_000);
    loading = false;
    await Promise.all(workers);

    const whileDown = failures.filter((f) => f.down);
    // Every call made while the database was down failed quickly, as STORE_UNAVAILABLE.
    expect(new Set(whileDown.map((f) => f.code))).toEqual(new Set(['STORE_UNAVAILABLE']));
    expect(Math.max(...whileDown.map((f) => f.ms))).toBeLessThan(3000);
    expect(serve!.child.exitCode).toBeNull();
    expect(recovery).toBeLessThan(20_000);

    // Nothing acknowledged was lost: every acknowledged decision is in the database, whole.
    const check = new pg.Client({ connectionString: database!.url });
    await check.connect();
    try {
      const rows = await check.query<{ decision_id: string; length: number; events: number }>(
        `SELECT d.decision_id, d.length, (SELECT count(*)::int FROM events e WHERE e.decision_id = d.decision_id) AS events
           FROM decisions d WHERE d.decision_id = ANY($1)`,
        [acknowledged],
      );
      expect(rows.rows).toHaveLength(acknowledged.length);
      for (const row of rows.rows) expect(row.events).toBe(row.length);
    } finally {
      await check.end();
    }
    const logs = serve!.logs.map((line) => line['msg']);
    expect(logs).toContain('store unreachable: not serving');
    expect(logs).toContain('store reachable again: serving');
  }, 180_000);
});
