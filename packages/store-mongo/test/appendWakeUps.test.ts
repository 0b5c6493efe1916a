import type { MongoClient } from 'mongodb';
import type { EventStore } from '@nexus-control/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMongoStore } from '../src/index.js';
import { MONGODB_URL, freshDatabaseName, mongoAvailable, testClient } from './support/mongoTestServer.js';
import { creation } from './support/requests.js';

/**
 * Appends through `writer` every 300 ms until `watcher`'s listener wakes (so a stream still being
 * opened when the first append commits does not fail the test); rejects after `ms`.
 */
async function appendUntilWoken(watcher: EventStore, writer: EventStore, prefix: string, ms: number): Promise<void> {
  let woken = false;
  const wakeUp = nextWakeUp(watcher, ms).then(() => {
    woken = true;
  });
  for (let i = 0; !woken; i++) {
    await writer.append(creation(`${prefix}-${i}`));
    await Promise.race([wakeUp, new Promise((resolve) => setTimeout(resolve, 300))]);
  }
  await wakeUp;
}

/** Resolves on the next wake-up of `store`'s listeners; rejects after `ms`. */
function nextWakeUp(store: EventStore, ms: number): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no wake-up within ${ms} ms`));
    }, ms);
    const stop = store.onAppend!(() => {
      clearTimeout(timer);
      stop();
      resolve(Date.now() - started);
    });
  });
}

describe.skipIf(!mongoAvailable())('MongoDB store: waking watchers when another process appends', () => {
  let clients: MongoClient[];
  const database = freshDatabaseName();

  beforeAll(async () => {
    clients = [await testClient(), await testClient()];
  });
  afterAll(async () => {
    await clients[0]!.db(database).dropDatabase();
    for (const client of clients) await client.close();
  });

  it('a change stream wakes a listener on one handle when another handle appends', async () => {
    // A short server-side wait: the emulator holds its one lock while a change stream waits.
    const watcher = await openMongoStore(MONGODB_URL, {
      client: clients[0]!,
      database,
      pollIntervalMs: 60_000,
      changeStreamMaxAwaitMs: 20,
    });
    const writer = await openMongoStore(MONGODB_URL, { client: clients[1]!, database });
    await appendUntilWoken(watcher, writer, 'streamed', 10_000);
    await Promise.all([watcher.close(), writer.close()]);
  });

  it('without change streams, polling wakes the listener', async () => {
    const watcher = await openMongoStore(MONGODB_URL, { client: clients[0]!, database, changeStreams: false, pollIntervalMs: 50 });
    const writer = await openMongoStore(MONGODB_URL, { client: clients[1]!, database });
    await appendUntilWoken(watcher, writer, 'polled', 10_000);
    await Promise.all([watcher.close(), writer.close()]);
  });
});
