import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { createNexusClient, DecisionStatus, type NexusClient } from '@nexus-control/client';
import { createSqliteEventStore } from '@nexus-control/store-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256OfToken } from '../src/auth/createAuthenticator.js';
import { binPath, serveFailure, spawnServe, type ServeProcess } from './helpers/serveProcess.js';
import { tempDir } from './helpers/tempDir.js';
import { executorScript } from './helpers/testServer.js';

const dir = tempDir('nexus-serve-');
const dbPath = join(dir.path, 'nexus.db');
const configPath = join(dir.path, 'config.json');
let serve: ServeProcess;
let client: NexusClient;
let raw: Client;

const identity = (value: Buffer) => value;

function unaryRaw(path: string, request: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    raw.makeUnaryRequest(
      path,
      identity,
      identity,
      request,
      new Metadata(),
      { deadline: Date.now() + 5_000 },
      (error: ServiceError | null, response?: Buffer) => (error ? reject(error) : resolve(response!)),
    ),
  );
}

/** One request on the reflection stream; returns the raw response bytes. */
function reflect(request: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const call = raw.makeBidiStreamRequest(
      '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
      identity,
      identity,
      new Metadata(),
      {
        deadline: Date.now() + 5_000,
      },
    );
    call.on('data', (response: Buffer) => {
      resolve(response);
      call.end();
    });
    call.on('error', reject);
    call.write(request);
  });
}

/** A length-delimited string field. */
function stringField(field: number, value: string): Buffer {
  const bytes = Buffer.from(value);
  return Buffer.concat([Buffer.from([(field << 3) | 2, bytes.length]), bytes]);
}

beforeAll(async () => {
  writeFileSync(
    configPath,
    JSON.stringify({
      auth: { tokens: [{ sha256: sha256OfToken('admin-token'), actor: 'ops', roles: ['admin'] }] },
      adapters: [
        {
          id: 'slow',
          type: 'subprocess',
          command: [process.execPath, executorScript],
          env: { DELAY_MS: '1500' },
          capabilities: ['dry_run'],
        },
      ],
      shutdownGraceMs: 10_000,
    }),
  );
  serve = await spawnServe(['--store', `sqlite:${dbPath}`, '--listen', '127.0.0.1:0', '--config', configPath]);
  client = createNexusClient({ address: serve.address, token: 'admin-token' });
  raw = new Client(serve.address, credentials.createInsecure());
}, 30_000);

afterAll(async () => {
  client.close();
  raw.close();
  await serve.stop('SIGKILL');
  dir.remove();
});

describe('nexus-control serve', () => {
  it('announces readiness with the bound port in a JSON log line', () => {
    const ready = serve.logs.find((line) => line['msg'] === 'listening');
    expect(ready).toMatchObject({
      level: 'info',
      address: `127.0.0.1:${serve.port}`,
      auth: 'token',
      tls: false,
      adapters: ['null', 'slow'],
    });
    expect(serve.port).toBeGreaterThan(0);
    expect(ready?.['store']).toBe(`sqlite:${dbPath}`);
  });

  it('answers health checks for the server and each service, without credentials', async () => {
    expect([...(await unaryRaw('/grpc.health.v1.Health/Check', Buffer.alloc(0)))]).toEqual([0x08, 0x01]); // SERVING
    const decisions = await unaryRaw('/grpc.health.v1.Health/Check', stringField(1, 'nexus.control.v1.DecisionService'));
    expect([...decisions]).toEqual([0x08, 0x01]);
  });

  it('lists its services and serves documented descriptors through reflection', async () => {
    const services = (await reflect(stringField(7, '*'))).toString('latin1');
    for (const name of [
      'DecisionService',
      'ApprovalService',
      'ExecutionService',
      'TemplateService',
      'BundleService',
      'AuditService',
      'DiagnosticsService',
    ]) {
      expect(services).toContain(`nexus.control.v1.${name}`);
    }
    expect(services).toContain('grpc.health.v1.Health');
    const descriptor = (await reflect(stringField(4, 'nexus.control.v1.ApprovalService'))).toString('utf8');
    expect(descriptor).toContain('nexus/control/v1/approvals.proto');
    expect(descriptor).toContain('Grants and withdraws approvals');
  });

  it('logs one JSON line per call', async () => {
    await client.echo({ message: 'hi' });
    await expect
      .poll(() => serve.logs.find((line) => line['method'] === 'DiagnosticsService/Echo'))
      .toMatchObject({
        msg: 'rpc',
        actor: 'ops',
        status: 'OK',
        decision_id: null,
      });
  });

  it('on SIGTERM it finishes the call in flight, refuses new ones, closes the store and exits 0', async () => {
    const { decision } = await client.createDecision({ goal: 'finish me' });
    const decisionId = decision!.decisionId;
    await client.approve({ decisionId });
    const inFlight = client.execute({ decisionId, adapterId: 'slow' });
    await expect.poll(() => serve.logs.some((l) => l['msg'] === 'rpc' && l['method'] === 'ApprovalService/Approve')).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    serve.child.kill('SIGTERM');
    const result = await inFlight;
    expect(result.decision?.status).toBe(DecisionStatus.DECISION_STATUS_COMPLETED);
    expect(await serve.exited).toBe(0);
    const messages = serve.logs.map((l) => l['msg']);
    expect(messages.indexOf('shutting down')).toBeGreaterThan(-1);
    expect(messages.at(-1)).toBe('stopped');
    await expect(client.echo({ message: 'late' }, { deadlineMs: 1_000 })).rejects.toMatchObject({ grpcCode: expect.any(Number) });

    // The store was closed cleanly and holds the completed run.
    const store = createSqliteEventStore({ path: dbPath });
    try {
      expect((await store.getDecision(decisionId))?.status).toBe('completed');
    } finally {
      await store.close();
    }
  });
});

describe('nexus-control serve refuses to start', () => {
  it('on a non-loopback address without auth', async () => {
    const result = await serveFailure(['--store', 'sqlite::memory:', '--listen', '0.0.0.0:0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error \[USAGE\]: cannot listen on 0\.0\.0\.0:0: .*without authentication.*\n$/);
  });

  it('with a PostgreSQL store it cannot reach, printing no password', async () => {
    const result = await serveFailure(['--store', 'postgres://user:secret@127.0.0.1:1/nexus?connect_timeout_ms=1000']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^error \[STORE_UNAVAILABLE\]: cannot open the store postgres:\/\/\*\*\*@127\.0\.0\.1:1\/nexus\?connect_timeout_ms=1000: .*unreachable/,
    );
    expect(result.stderr).not.toContain('secret');
  });

  it('with an invalid configuration file, naming the problem', async () => {
    const bad = join(dir.path, 'bad.json');
    writeFileSync(bad, JSON.stringify({ auth: { tokens: [{ sha256: 'plaintext-token', actor: 'x', roles: ['admin'] }] } }));
    const result = await serveFailure(['--config', bad]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error \[CONFIG_INVALID\]: .*auth\.tokens\[0\]\.sha256.*\n$/);
  });

  it('with an unknown option, pointing at the usage', async () => {
    const result = await serveFailure(['--port', '1']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error \[USAGE\]: Unknown option '--port'.*\nrun 'nexus-control help serve' for usage\n$/);
  });

  it('on an address already in use, with one line that says so', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(taken.address() as AddressInfo).port}`;
    try {
      const result = await serveFailure(['--store', 'sqlite::memory:', '--listen', address]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `error [ADDRESS_IN_USE]: ${address} is already in use (another server is listening there): stop it, or choose another address with --listen\n`,
      );
    } finally {
      taken.close();
    }
  });
});

describe('nexus-control serve under a wrapper (as with npx)', () => {
  it('stops when the shell that started it goes away', async () => {
    const shell = spawn('sh', ['-c', `"${process.execPath}" "${binPath}" serve --store sqlite::memory: --listen 127.0.0.1:0; exit 0`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    shell.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    await expect.poll(() => /"msg":"listening".*"pid":(\d+)/.exec(stderr), { timeout: 20_000 }).not.toBeNull();
    const pid = Number(/"msg":"listening".*"pid":(\d+)/.exec(stderr)![1]);
    // Under npx a SIGTERM kills the shell without reaching the server; SIGKILL does the same here
    // whatever signal dispositions the test runner passed down.
    shell.kill('SIGKILL');
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await expect.poll(alive, { timeout: 15_000 }).toBe(false);
  });
});
