import type { MongoClient } from 'mongodb';
import type { EventStore } from '@nexus-control/core';
import { createRequest, expectNexusError, startRunRequest } from '@nexus-control/store-conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMongoStore } from '../src/index.js';
import { MONGODB_URL, freshDatabaseName, mongoAvailable, testClient } from './support/mongoTestServer.js';

const LATEST = Number.MAX_SAFE_INTEGER;

describe.skipIf(!mongoAvailable())('MongoDB store: execution lease documents', () => {
  let client: MongoClient;
  let store: EventStore;
  const database = freshDatabaseName();

  beforeAll(async () => {
    client = await testClient();
    store = await openMongoStore(MONGODB_URL, { client, database });
  });
  afterAll(async () => {
    await store.close();
    await client.db(database).dropDatabase();
    await client.close();
  });

  it('keeps one document per decision lease, keyed by the decision id, with times exact up to the largest safe integer', async () => {
    await store.append(createRequest('a.b$c'));
    await store.append(startRunRequest('a.b$c', 2, { owner: 'replica-a', expiresAt: LATEST - 1 }));
    const docs = await client.db(database).collection('execution_leases').find({}).toArray();
    expect(docs).toEqual([{ _id: 'a.b$c', generation: 0, requestedSeq: 2, owner: 'replica-a', expiresAt: LATEST - 1 }]);
    expect(await store.renewLease('a.b$c', 'replica-a', LATEST)).toBe(true);
    expect(await store.listExpiredLeases(LATEST)).toEqual([
      { decisionId: 'a.b$c', generation: 0, requestedSeq: 2, owner: 'replica-a', expiresAt: LATEST },
    ]);
    expect(await store.listExpiredLeases(LATEST - 1)).toEqual([]);
  });

  it('refuses a decision id that is a query operator instead of matching every lease with it', async () => {
    await store.append(createRequest('operator-target'));
    await store.append(startRunRequest('operator-target', 2, { owner: 'replica-o', expiresAt: 1 }));
    const operator = { $ne: 'nothing' } as unknown as string;
    await expectNexusError(store.renewLease(operator, 'replica-o', 5), 'INVALID_ARGUMENT');
    await expectNexusError(store.releaseLease(operator, 'replica-o'), 'INVALID_ARGUMENT');
    await expectNexusError(
      store.takeOverLease({ decisionId: operator, fromOwner: 'replica-o', now: 10, grant: { owner: 'x', expiresAt: 20 } }),
      'INVALID_ARGUMENT',
    );
    expect((await store.listExpiredLeases(10)).filter((lease) => lease.decisionId === 'operator-target')).toEqual([
      { decisionId: 'operator-target', generation: 0, requestedSeq: 2, owner: 'replica-o', expiresAt: 1 },
    ]);
  });

  it('refuses an owner that BSON would change (a lone surrogate) and takes no lease', async () => {
    await store.append(createRequest('surrogate'));
    await expectNexusError(store.append(startRunRequest('surrogate', 2, { owner: 'a\ud800', expiresAt: 1 })), 'INVALID_ARGUMENT');
    expect(await store.readEvents('surrogate')).toHaveLength(2);
    expect(
      await client
        .db(database)
        .collection('execution_leases')
        .countDocuments({ _id: 'surrogate' as never }),
    ).toBe(0);
  });
});
