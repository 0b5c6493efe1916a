import { MongoClient } from 'mongodb';
import { createNexusClient, type NexusClient } from '@nexus-control/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorAvailable, startOwnEmulator, type OwnEmulator } from '../../store-mongo/test/support/ownEmulator.js';
import { MONGODB_URL, freshDatabaseName, mongoAvailable } from '../../store-mongo/test/support/mongoTestServer.js';
import { serveFailure, spawnServe, type ServeProcess } from './helpers/serveProcess.js';

/** The same server with `database` as the path (and user:password, when given). */
function urlWith(url: string, database: string, userInfo?: string): string {
  const match = /^(mongodb(?:\+srv)?:\/\/)(?:[^@/?#]*@)?([^/?#]*)(?:\/[^?#]*)?(\?.*)?$/.exec(url);
  if (match === null) throw new Error('MONGODB_URL is not a mongodb:// URL');
  return `${match[1]}${userInfo === undefined ? '' : `${userInfo}@`}${match[2]}/${database}${match[3] ?? ''}`;
}

describe.skipIf(!mongoAvailable())('nexus-control serve --store mongodb://…', () => {
  const database = freshDatabaseName('nexus_serve');
  let serve: ServeProcess;
  let client: NexusClient;
  let mongo: MongoClient;

  beforeAll(async () => {
    serve = await spawnServe(['--store', urlWith(MONGODB_URL, database), '--listen', '127.0.0.1:0']);
    client = createNexusClient({ address: serve.address });
    mongo = new MongoClient(MONGODB_URL);
    await mongo.connect();
  }, 30_000);
  afterAll(async () => {
    client?.close();
    await serve?.stop('SIGKILL');
    await mongo?.db(database).dropDatabase();
    await mongo?.close();
  });

  it('serves decisions from the database named in the URL', async () => {
    const { decision } = await client.createDecision({ goal: 'stored in MongoDB' });
    const decisionId = decision!.decisionId;
    await client.approve({ decisionId });
    expect(await mongo.db(database).collection('events').countDocuments({ d: decisionId })).toBe(3);
    expect((await client.getDecision({ decisionId })).decision?.goal).toBe('stored in MongoDB');
    expect(serve.logs.find((line) => line['msg'] === 'listening')?.['store']).toBe(urlWith(MONGODB_URL, database));
  });

  it('never prints the password of the URL, even when the server refuses it', async () => {
    for (const password of ['s3cret-Passw0rd', 's3cret@Passw0rd']) {
      const url = urlWith(MONGODB_URL, database, `nexus:${password}`);
      const failed = await serveFailure(['--store', url, '--listen', '127.0.0.1:0']);
      // The emulator has no users, a real server has no such user: either way it cannot open.
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/^error \[STORE_UNAVAILABLE\]: cannot open the store mongodb:\/\/\*\*\*@/m);
      expect(failed.stderr).not.toContain('s3cret');
      expect(failed.stderr).not.toContain('Passw0rd');
    }
  }, 30_000);
});

describe.skipIf(!emulatorAvailable())('nexus-control serve on MongoDB: losing the database', () => {
  let emulator: OwnEmulator;
  let serve: ServeProcess;
  let client: NexusClient;

  beforeAll(async () => {
    emulator = await startOwnEmulator({ replicaSet: true });
    serve = await spawnServe(['--store', urlWith(emulator.url, 'nexus_serve_loss'), '--listen', '127.0.0.1:0']);
    client = createNexusClient({ address: serve.address });
  }, 30_000);
  afterAll(async () => {
    client?.close();
    await serve?.stop('SIGKILL');
    await emulator?.stop();
  });

  it('answers UNAVAILABLE while the database is down, and serves again without a restart once it is back', async () => {
    await client.createDecision({ goal: 'before' });
    await emulator.stop();
    const started = Date.now();
    await expect(client.createDecision({ goal: 'during' })).rejects.toMatchObject({ grpcCode: 14 });
    expect(Date.now() - started).toBeLessThan(10_000);
    // The emulator comes back empty; a second server sets the schema up again.
    await emulator.start();
    const setup = await spawnServe(['--store', urlWith(emulator.url, 'nexus_serve_loss'), '--listen', '127.0.0.1:0']);
    await setup.stop('SIGTERM');
    const { decision } = await client.createDecision({ goal: 'after' });
    expect((await client.getDecision({ decisionId: decision!.decisionId })).decision?.goal).toBe('after');
  }, 60_000);
});
