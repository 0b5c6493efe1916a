import { isNexusError, type EventStore } from '@nexus-control/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMongoStore } from '../src/index.js';
import { emulatorAvailable, startOwnEmulator, type OwnEmulator } from './support/ownEmulator.js';
import { approval, creation } from './support/requests.js';

async function codeOf(call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call;
    return undefined;
  } catch (error) {
    return isNexusError(error) ? error.code : `raw ${String(error)}`;
  }
}

describe.skipIf(!emulatorAvailable())('MongoDB store: losing the server', () => {
  let emulator: OwnEmulator;
  let store: EventStore;

  beforeAll(async () => {
    emulator = await startOwnEmulator({ replicaSet: true });
    store = await openMongoStore(emulator.url, { database: 'nexus_loss', serverSelectionTimeoutMS: 500 });
  });
  afterAll(async () => {
    await store?.close();
    await emulator?.stop();
  });

  it('fails calls fast with STORE_UNAVAILABLE while the server is down, and serves again once it is back', async () => {
    await store.append(creation('before'));
    await emulator.stop();

    const started = Date.now();
    expect(await codeOf(store.getDecision('before'))).toBe('STORE_UNAVAILABLE');
    expect(await codeOf(store.append(approval('before', { generation: 0, length: 1 })))).toBe('STORE_UNAVAILABLE');
    expect(await codeOf(store.readFeed())).toBe('STORE_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(5_000);

    // The emulator comes back empty; another process sets the schema up again, and this
    // handle, never reopened, works on it.
    await emulator.start();
    const setup = await openMongoStore(emulator.url, { database: 'nexus_loss' });
    await setup.close();
    expect(await store.getDecision('before')).toBeUndefined();
    const [event] = (await store.append(creation('after'))).events;
    expect((await store.readFeed()).events).toEqual([event]);
  });
});

describe.skipIf(!emulatorAvailable())('MongoDB store: a standalone server', () => {
  let emulator: OwnEmulator;

  beforeAll(async () => {
    emulator = await startOwnEmulator({ replicaSet: false });
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it('is refused at open, with an error that says a replica set is needed and why', async () => {
    const error = await openMongoStore(emulator.url, { database: 'nexus_standalone' }).catch((caught: unknown) => caught);
    expect(isNexusError(error) && error.code).toBe('STORE_UNAVAILABLE');
    expect((error as Error).message).toMatch(
      /standalone server: the store needs a replica set, because every append is a multi-document transaction/,
    );
  });
});
