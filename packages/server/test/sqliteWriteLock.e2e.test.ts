import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { createNexusClient, Mode, type NexusClient } from '@nexus-control/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256OfToken } from '../src/auth/createAuthenticator.js';
import { spawnServe, type ServeProcess } from './helpers/serveProcess.js';
import { tempDir } from './helpers/tempDir.js';

const dir = tempDir('nexus-write-lock-');
const dbPath = join(dir.path, 'nexus.db');
const configPath = join(dir.path, 'config.json');
let serve: ServeProcess;
let client: NexusClient;
let raw: Client;

const driver = createRequire(import.meta.url).resolve('better-sqlite3');
const holderScript = `
const Database = require(${JSON.stringify(driver)});
const db = new Database(process.argv[1]);
db.exec('BEGIN IMMEDIATE');
db.prepare("UPDATE events SET status = status WHERE position = (SELECT MAX(position) FROM events)").run();
process.stdout.write('locked\\n');
process.stdin.once('data', () => { db.exec('ROLLBACK'); db.close(); process.exit(0); });
`;

/** Another process takes the SQLite write lock and keeps it until `release`. */
async function holdWriteLock(): Promise<{ release(): Promise<void> }> {
  const child = spawn(process.execPath, ['-e', holderScript, dbPath], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('locked\n')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the lock holder exited with ${code}`)));
  });
  return {
    async release() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.stdin!.write('release\n');
      await exited;
    },
  };
}

const identity = (value: Buffer) => value;
function healthCheck(): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    raw.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      identity,
      identity,
      Buffer.alloc(0),
      new Metadata(),
      { deadline: Date.now() + 5_000 },
      (error: ServiceError | null, response?: Buffer) => (error ? reject(error) : resolve(response!)),
    ),
  );
}

async function timed(call: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await call();
  return performance.now() - start;
}

beforeAll(async () => {
  writeFileSync(
    configPath,
    JSON.stringify({ auth: { tokens: [{ sha256: sha256OfToken('admin-token'), actor: 'ops', roles: ['admin'] }] } }),
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

describe('serve on SQLite while another process holds the write lock', () => {
  it('answers health checks, Echo and reads at once; a write waits for the lock and then lands', async () => {
    const { decision } = await client.createDecision({ goal: 'before the lock', mode: Mode.MODE_DRY_RUN, policy: { minApprovals: 1 } });
    const decisionId = decision!.decisionId;
    const holder = await holdWriteLock();
    let written = false;
    const write = client.createDecision({ goal: 'behind the lock', mode: Mode.MODE_DRY_RUN, policy: { minApprovals: 1 } }).finally(() => {
      written = true;
    });
    const waitedFrom = performance.now();
    const latencies: Record<string, number[]> = { health: [], echo: [], getDecision: [], listDecisions: [] };
    try {
      for (let round = 0; round < 5; round++) {
        latencies['health']!.push(await timed(() => healthCheck()));
        latencies['echo']!.push(await timed(() => client.echo({ message: 'still here' })));
        latencies['getDecision']!.push(await timed(() => client.getDecision({ decisionId })));
        latencies['listDecisions']!.push(await timed(() => client.listDecisions({})));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(written).toBe(false);
    } finally {
      await holder.release();
    }
    const created = await write;
    expect(performance.now() - waitedFrom).toBeGreaterThanOrEqual(250);
    expect(created.decision?.goal).toBe('behind the lock');
    for (const [call, values] of Object.entries(latencies)) {
      const sorted = [...values].sort((a, b) => a - b);
      // The median within the bound; no call anywhere near the 5 s the write may wait.
      expect(sorted[sorted.length >> 1], `${call} median ${sorted.join(', ')}`).toBeLessThan(100);
      expect(sorted[sorted.length - 1], `${call} slowest`).toBeLessThan(1000);
    }
  });
});
