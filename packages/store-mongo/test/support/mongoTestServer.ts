import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';

/**
 * The server the MongoDB tests run against: a replica set named by MONGODB_URL (CI points it
 * at the wire emulator; a real replica set works unchanged). Unset: the tests are skipped,
 * and say so once.
 */
export const MONGODB_URL = process.env.MONGODB_URL ?? '';

export const SKIP_REASON = 'MONGODB_URL is not set: the MongoDB store tests need a replica set (see the store-mongo README)';

let warned = false;
export function mongoAvailable(): boolean {
  if (MONGODB_URL === '' && !warned) {
    warned = true;
    console.warn(`store-mongo: skipped, ${SKIP_REASON}`);
  }
  return MONGODB_URL !== '';
}

let databases = 0;

/** A database name no other test (or test process) uses. */
export function freshDatabaseName(prefix = 'nexus_test'): string {
  return `${prefix}_${process.pid}_${++databases}_${randomBytes(3).toString('hex')}`;
}

/** The test server's URL with `database` as its path. */
export function mongoUrlWith(database: string): string {
  const match = /^(mongodb(?:\+srv)?:\/\/)(?:[^@/?#]*@)?([^/?#]*)(?:\/[^?#]*)?(\?.*)?$/.exec(MONGODB_URL);
  if (match === null) throw new Error('MONGODB_URL is not a mongodb:// URL');
  return `${match[1]}${match[2]}/${database}${match[3] ?? ''}`;
}

/** A client of the test server, closed by the caller. */
export async function testClient(): Promise<MongoClient> {
  const client = new MongoClient(MONGODB_URL, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  return client;
}

/** Which server the tests ran against, for the log of a run. */
export async function describeServer(client: MongoClient): Promise<string> {
  const info = await client.db('admin').command({ buildInfo: 1 });
  return `MongoDB ${String(info.version)}`;
}
