import type { MongoClient } from 'mongodb';
import { JsonFloat, newEvent, parseJson } from '@nexus-control/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMongoStore } from '../src/index.js';
import { MONGODB_URL, freshDatabaseName, mongoAvailable, testClient } from './support/mongoTestServer.js';
import { creation } from './support/requests.js';

describe.skipIf(!mongoAvailable())('MongoDB store: what the documents hold', () => {
  let client: MongoClient;
  const database = freshDatabaseName();

  beforeAll(async () => {
    client = await testClient();
  });
  afterAll(async () => {
    await client.db(database).dropDatabase();
    await client.close();
  });

  it('keeps each payload as its canonical JSON text, one document per event', async () => {
    const store = await openMongoStore(MONGODB_URL, { client, database });
    const payload = { $where: 'x', 'a.b': 1, '': 1.0, float: new JsonFloat(1), big: 2n ** 70n };
    const request = creation('texts');
    const events = [
      ...request.events,
      ...Array.from({ length: 3 }, () => newEvent('APPROVAL_GRANTED', payload, { type: 'human', id: 'x' }, request.events[0]!.ts)),
    ];
    await store.append({ ...request, events });
    const docs = await client.db(database).collection('events').find({ d: 'texts' }).sort({ s: 1 }).toArray();
    expect(docs).toHaveLength(4);
    expect(docs.map((doc) => typeof doc.j)).toEqual(['string', 'string', 'string', 'string']);
    expect(docs[1]!.j).toBe(events[1]!.payloadJson);
    expect(docs[1]!.j).toContain('"big":1180591620717411303424');
    const read = await store.readEvents('texts');
    expect(read[1]!.payloadJson).toBe(events[1]!.payloadJson);
    expect(read[1]!.payload).toEqual(parseJson(events[1]!.payloadJson));
    await store.close();
  });
});
