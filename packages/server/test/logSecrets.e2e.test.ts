import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNexusClient, Mode, type NexusClient } from '@nexus-control/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256OfToken } from '../src/auth/createAuthenticator.js';
import { TEST_POSTGRES_URL } from './helpers/postgresSchema.js';
import { spawnServe, type ServeProcess } from './helpers/serveProcess.js';
import { tempDir } from './helpers/tempDir.js';
import { certificatesIn } from './helpers/certificates.js';
import { executorScript } from './helpers/testServer.js';

/**
 * Everything the server writes during a lifecycle, with every kind of secret configured: bearer
 * tokens, a TLS private key, a PostgreSQL URL with a password, an executor's authorization
 * header and a collector's API key. None of them may appear in any line.
 */
const describeWithPostgres = TEST_POSTGRES_URL ? describe : describe.skip;

const secret = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;
const tokens = { alice: secret('alice-token'), bob: secret('bob-token'), deployer: secret('deployer-token') };
const badToken = secret('wrong-token');
const dbPassword = secret('dbpw');
const executorKey = secret('executor-key');
const collectorKey = secret('collector-key');
const role = `nxo_${randomBytes(4).toString('hex')}`;
const schema = `nxo_${process.pid}_${randomBytes(4).toString('hex')}`;

async function admin<R extends pg.QueryResultRow>(sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

describeWithPostgres('log lines of a lifecycle with secrets configured', () => {
  const dir = tempDir('nexus-secrets-');
  let serve: ServeProcess;
  let keyPem = '';
  const clients: NexusClient[] = [];

  beforeAll(async () => {
    const [where] = await admin<{ database: string; port: string }>(
      `SELECT current_database() AS database, current_setting('port') AS port`,
    );
    const { database, port } = where!;
    await admin(`CREATE ROLE ${role} LOGIN PASSWORD '${dbPassword}'`);
    await admin(`GRANT CREATE ON DATABASE "${database}" TO ${role}`);
    const storeUrl = `postgres://${role}:${dbPassword}@127.0.0.1:${port}/${database}?schema=${schema}`;

    certificatesIn(dir.path).selfSigned('server', '/CN=localhost', 'subjectAltName=DNS:localhost');
    keyPem = readFileSync(join(dir.path, 'server.key'), 'utf8');
    const config = {
      store: storeUrl,
      logging: { level: 'debug' },
      tls: { cert: 'server.crt', key: 'server.key' },
      auth: {
        tokens: [
          { sha256: sha256OfToken(tokens.alice), actor: 'alice', roles: ['requester'] },
          { sha256: sha256OfToken(tokens.bob), actor: 'bob', roles: ['approver'] },
          { sha256: sha256OfToken(tokens.deployer), actor: 'deployer', type: 'system', roles: ['executor'] },
        ],
      },
      adapters: [
        {
          type: 'subprocess',
          id: 'deploy',
          command: [process.execPath, executorScript],
          env: { EXECUTOR_KEY: executorKey },
          capabilities: ['dry_run'],
        },
        {
          type: 'http',
          id: 'hook',
          url: 'http://127.0.0.1:9/unreachable',
          headers: { authorization: `Bearer ${executorKey}` },
          timeoutMs: 2_000,
          capabilities: ['dry_run'],
        },
      ],
      metrics: { listen: '127.0.0.1:0' },
      tracing: { endpoint: 'http://127.0.0.1:9/v1/traces', headers: { 'x-api-key': collectorKey }, exportIntervalMs: 100 },
    };
    writeFileSync(join(dir.path, 'config.json'), JSON.stringify(config));
    serve = await spawnServe(['--config', join(dir.path, 'config.json'), '--listen', '127.0.0.1:0'], { timeoutMs: 30_000 });
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    if (serve) await serve.stop();
    await admin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await admin(`DROP OWNED BY ${role}`).catch(() => undefined);
    await admin(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
    dir.remove();
  });

  const client = (token: string) => {
    const made = createNexusClient({
      address: serve.address.replace(/^127\.0\.0\.1/, 'localhost'),
      token,
      tls: { ca: readFileSync(join(dir.path, 'server.crt')), serverName: 'localhost' },
    });
    clients.push(made);
    return made;
  };

  it('no line carries a token, the key, the database password or a configured header; every call line carries ids', async () => {
    const alice = client(tokens.alice);
    const bob = client(tokens.bob);
    const deployer = client(tokens.deployer);
    const { decision } = await alice.createDecision(
      { goal: 'rotate the signing key', policy: { minApprovals: 1 } },
      { metadata: { 'x-request-id': 'req-create' } },
    );
    const decisionId = decision!.decisionId;
    await bob.approve({ decisionId });
    await deployer.execute({ decisionId, adapterId: 'deploy', mode: Mode.MODE_DRY_RUN });
    const { decision: other } = await alice.createDecision({ goal: 'call the hook', policy: { minApprovals: 1 } });
    await bob.approve({ decisionId: other!.decisionId });
    await deployer.execute({ decisionId: other!.decisionId, adapterId: 'hook', mode: Mode.MODE_DRY_RUN }).catch(() => undefined);
    await expect(client(badToken).getDecision({ decisionId })).rejects.toThrow();
    await expect(alice.approve({ decisionId })).rejects.toThrow();

    expect(await serve.stop()).toBe(0);
    const text = serve.stderr();
    const keyBody = keyPem.split('\n').filter((line) => line !== '' && !line.startsWith('-----'));
    for (const value of [
      ...Object.values(tokens),
      badToken,
      dbPassword,
      executorKey,
      collectorKey,
      ...keyBody,
      ...Object.values(tokens).map(sha256OfToken),
    ]) {
      expect(text.includes(value), `a log line contains ${value.slice(0, 12)}…`).toBe(false);
    }

    const calls = serve.logs.filter((line) => line['msg'] === 'rpc');
    expect(calls.length).toBeGreaterThanOrEqual(8);
    for (const line of calls) {
      expect(line['request_id']).toEqual(expect.any(String));
      expect(line['trace_id']).toMatch(/^[0-9a-f]{32}$/);
      expect(Object.keys(line)).toEqual(expect.arrayContaining(['actor', 'decision_id']));
    }
    expect(calls.find((line) => line['request_id'] === 'req-create')).toMatchObject({
      actor: 'alice',
      decision_id: decisionId,
      method: 'DecisionService/CreateDecision',
    });
    for (const line of calls.filter((l) => /Approve|Execute|CreateDecision/.test(String(l['method'])) && l['status'] === 'OK')) {
      expect(line['actor']).not.toBeNull();
      expect(line['decision_id']).not.toBeNull();
    }
    const ready = serve.logs.find((line) => line['msg'] === 'listening')!;
    expect(String(ready['store'])).toContain('//***@127.0.0.1');
    expect(ready['metrics']).toMatch(/^127\.0\.0\.1:\d+$/);
  });
});
