import { MongoClient, type MongoClientOptions } from 'mongodb';
import { NexusError, type BeforeCommitHook, type EventStore } from '@nexus-control/core';
import { storeCollections } from './collections.js';
import { createMongoEventStore } from './createMongoEventStore.js';
import { describeMongoUrl } from './describeMongoUrl.js';
import { ensureSchema } from './ensureSchema.js';
import { toStoreError } from './mongoErrors.js';

export interface OpenMongoStoreOptions {
  /** The database to use; default: the one named in the URL's path, else `nexus_control`. */
  readonly database?: string;
  /**
   * How long a call waits for a usable primary before it fails with STORE_UNAVAILABLE;
   * default: the URL's `serverSelectionTimeoutMS`, else 2000 ms (the driver's own default,
   * 30 s, would hold every request that long).
   */
  readonly serverSelectionTimeoutMS?: number;
  /** Reuse a client (its connections are shared); the store then leaves it open on close. */
  readonly client?: MongoClient;
  /** Test seam: awaited inside each append's transaction right before its commit. */
  readonly beforeCommit?: BeforeCommitHook;
  /** Poll interval for `onAppend` wake-ups when no change stream can be opened; default 1000 ms. */
  readonly pollIntervalMs?: number;
  /** `false`: wake `onAppend` listeners by polling only (for deployments that forbid change streams). */
  readonly changeStreams?: boolean;
  /** How long one read of the change stream waits on the server for a change; default 1000 ms. */
  readonly changeStreamMaxAwaitMs?: number;
}

export const DEFAULT_DATABASE = 'nexus_control';
const DEFAULT_SERVER_SELECTION_TIMEOUT_MS = 2000;

function databaseFromUrl(url: string): string | undefined {
  const match = /^mongodb(?:\+srv)?:\/\/[^/?#]*\/([^?#]+)/.exec(url);
  return match?.[1] === undefined ? undefined : decodeURIComponent(match[1]);
}

/** Transactions and change streams exist only on replica sets (and sharded clusters). */
async function assertReplicaSet(client: MongoClient, location: string): Promise<void> {
  const hello = await client.db('admin').command({ hello: 1 });
  if (typeof hello.setName === 'string' || hello.msg === 'isdbgrid') return;
  throw new NexusError(
    'STORE_UNAVAILABLE',
    `MongoDB at ${location} is a standalone server: the store needs a replica set, because every append is ` +
      'a multi-document transaction and watches use change streams. Run mongod with --replSet ' +
      '(a single-node replica set will do) and connect with ?replicaSet=NAME.',
    { location, reason: 'standalone' },
  );
}

/**
 * Connects to a MongoDB replica set, checks it can run transactions, sets up (or checks) the
 * schema, and returns the store. Credentials in `url` are used, never printed.
 */
export async function openMongoStore(url: string, options: OpenMongoStoreOptions = {}): Promise<EventStore> {
  const location = describeMongoUrl(url);
  const database = options.database ?? databaseFromUrl(url) ?? DEFAULT_DATABASE;
  // A timeout written in the URL wins over the default (options given here override the URL's).
  const urlSetsTimeout = /[?&]serverSelectionTimeoutMS=/i.test(url);
  const clientOptions: MongoClientOptions = {
    ...(options.serverSelectionTimeoutMS !== undefined || !urlSetsTimeout
      ? { serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? DEFAULT_SERVER_SELECTION_TIMEOUT_MS }
      : {}),
    readConcern: { level: 'majority' },
    writeConcern: { w: 'majority' },
    retryWrites: true,
    retryReads: true,
  };
  const ownsClient = options.client === undefined;
  let client: MongoClient;
  try {
    client = options.client ?? new MongoClient(url, clientOptions);
  } catch (error) {
    throw new NexusError('INVALID_ARGUMENT', `invalid MongoDB connection string for ${location}: ${(error as Error).message}`, {
      location,
    });
  }
  try {
    if (ownsClient) await client.connect();
    await assertReplicaSet(client, location);
    await ensureSchema(storeCollections(client.db(database)), location);
  } catch (error) {
    if (ownsClient) await client.close().catch(() => undefined);
    throw toStoreError(error, location);
  }
  return createMongoEventStore({
    client,
    ownsClient,
    databaseName: database,
    location,
    ...(options.beforeCommit === undefined ? {} : { beforeCommit: options.beforeCommit }),
    ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
    ...(options.changeStreams === undefined ? {} : { changeStreams: options.changeStreams }),
    ...(options.changeStreamMaxAwaitMs === undefined ? {} : { changeStreamMaxAwaitMs: options.changeStreamMaxAwaitMs }),
  });
}
