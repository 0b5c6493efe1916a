import { afterEach, beforeAll, describe } from 'vitest';
import { describeEventStoreConformance } from '@nexus-control/store-conformance';
import { mongoHarness } from './support/mongoHarness.js';
import { MONGODB_URL, describeServer, mongoAvailable, testClient } from './support/mongoTestServer.js';

/*
 * No openHookedHandle and no parallelWriters: every append increments one counter document
 * inside its transaction, so writers serialize on it (see the package README). Holding one
 * append before its commit would, on a real replica set, hold every other writer too.
 */
describe.skipIf(!mongoAvailable())('MongoDB store', () => {
  const harness = mongoHarness();
  beforeAll(async () => {
    const client = await testClient();
    console.log(`store-mongo conformance against ${await describeServer(client)} at ${MONGODB_URL.replace(/\/\/[^@/]*@/, '//***@')}`);
    await client.close();
  });
  afterEach(async () => {
    await harness.dropDatabases();
  });
  describeEventStoreConformance('mongodb', harness);
});
