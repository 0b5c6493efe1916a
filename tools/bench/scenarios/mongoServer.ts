import { MongoClient } from 'mongodb';
import { describeMongoUrl } from '@nexus-control/store-mongo';

/** The replica set the MongoDB scenarios run against, and a line saying which server it is. */
export async function benchMongoServer(): Promise<{ url: string; client: MongoClient; serverLine: string }> {
  const url = process.env.MONGODB_URL ?? '';
  if (url === '') {
    throw new Error(
      'MONGODB_URL is not set: the MongoDB scenarios need a replica set, e.g. MONGODB_URL=mongodb://host:27017/?replicaSet=rs0',
    );
  }
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const info = await client.db('admin').command({ buildInfo: 1 });
  const version = String(info.version);
  const emulated = version.includes('mongomock') ? ' (the wire emulator, not MongoDB: ratios say little about a real server)' : '';
  return { url, client, serverLine: `server: MongoDB ${version} at ${describeMongoUrl(url)}${emulated}` };
}

/** A database name no earlier run left behind. */
export function benchDatabase(scenario: string): string {
  return `nexus_bench_${scenario}_${process.pid}_${Date.now()}`;
}
