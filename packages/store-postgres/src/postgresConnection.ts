import pg from 'pg';
import { NexusError } from '@nexus-control/core';
import { maskUrl } from './maskUrl.js';

/** Settings of the connection pool; each also has a query parameter in the connection string. */
export interface PostgresPoolSettings {
  /** `schema=`: the schema holding the tables (created by the migrations); default `public`. */
  readonly schema?: string;
  /** `pool_size=`: connections in the pool; default 10. */
  readonly poolSize?: number;
  /** `statement_timeout_ms=`: a statement running longer fails with STORE_UNAVAILABLE; default 30000. */
  readonly statementTimeoutMs?: number;
  /** `connect_timeout_ms=`: how long to wait for a connection; default 5000. */
  readonly connectTimeoutMs?: number;
  /** `application_name=`: shown in pg_stat_activity; default `nexus-control`. */
  readonly applicationName?: string;
}

export interface PostgresConnection {
  readonly schema: string;
  /** The connection string without its password, for messages. */
  readonly location: string;
  /** The password, so that no message repeats it. */
  readonly secrets: readonly string[];
  readonly clientConfig: pg.ClientConfig;
  readonly poolSize: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,47}$/;
const OUR_PARAMETERS = ['schema', 'pool_size', 'statement_timeout_ms', 'connect_timeout_ms'] as const;

function positiveInteger(name: string, value: string | number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new NexusError('INVALID_ARGUMENT', `${name} must be a positive integer`, { [name]: String(value) });
  }
  return n;
}

/**
 * Reads a `postgres://` connection string: TLS (`sslmode=`, `sslrootcert=`, …), user, host
 * and database as node-postgres reads them; our own parameters (see `PostgresPoolSettings`)
 * are taken out before it sees the string. Explicit settings win over the string's.
 */
export function parsePostgresUrl(url: string, settings: PostgresPoolSettings = {}): PostgresConnection {
  const location = maskUrl(url);
  const scheme = /^postgres(ql)?:\/\/([^/?#]*)/i.exec(url);
  if (scheme === null) {
    throw new NexusError('INVALID_ARGUMENT', `not a PostgreSQL connection string: ${location}`, { location });
  }
  const queryAt = url.indexOf('?');
  const params = new URLSearchParams(queryAt < 0 ? '' : url.slice(queryAt + 1));
  const ours = new Map<string, string>();
  for (const name of OUR_PARAMETERS) {
    const value = params.get(name);
    if (value !== null) ours.set(name, value);
    params.delete(name);
  }
  const rest = params.toString();
  const connectionString = (queryAt < 0 ? url : url.slice(0, queryAt)) + (rest === '' ? '' : `?${rest}`);
  const userInfo = /^([^@]*)@/.exec(scheme[2]!)?.[1] ?? '';
  const colon = userInfo.indexOf(':');
  const written = colon < 0 ? '' : userInfo.slice(colon + 1);
  let password = written;
  try {
    password = decodeURIComponent(password);
  } catch {
    // Left as written: a malformed escape is still what must not be printed.
  }
  password ||= params.get('password') ?? '';
  const schema = settings.schema ?? ours.get('schema') ?? 'public';
  if (!SCHEMA_NAME.test(schema)) {
    throw new NexusError('INVALID_ARGUMENT', 'schema must be a lower-case identifier of at most 48 characters', { schema });
  }
  const poolSize = positiveInteger('pool_size', settings.poolSize ?? ours.get('pool_size'), 10);
  const statementTimeout = positiveInteger('statement_timeout_ms', settings.statementTimeoutMs ?? ours.get('statement_timeout_ms'), 30_000);
  const connectTimeout = positiveInteger('connect_timeout_ms', settings.connectTimeoutMs ?? ours.get('connect_timeout_ms'), 5000);
  const applicationName = settings.applicationName ?? params.get('application_name') ?? 'nexus-control';
  const clientConfig: pg.ClientConfig = {
    connectionString,
    application_name: applicationName,
    statement_timeout: statementTimeout,
    // A connection that stops answering (network gone) fails the call instead of hanging it.
    query_timeout: statementTimeout + 5000,
    connectionTimeoutMillis: connectTimeout,
    keepAlive: true,
    options: `-c search_path=${schema}`,
  };
  return { schema, location, secrets: [...new Set([password, written])].filter((secret) => secret !== ''), clientConfig, poolSize };
}

/** A pool whose idle-connection failures (the database restarting) never crash the process. */
export function createPool(connection: PostgresConnection): pg.Pool {
  const pool = new pg.Pool({ ...connection.clientConfig, max: connection.poolSize, idleTimeoutMillis: 30_000 });
  pool.on('error', () => {
    // An idle connection died; the pool drops it and the next call opens a new one.
  });
  return pool;
}
