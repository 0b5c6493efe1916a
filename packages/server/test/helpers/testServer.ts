import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNexusClient, type NexusClient, type NexusClientOptions } from '@nexus-control/client';
import { createNullAdapter, createRouter, type Clock, type EventStore, type NexusControl, type Router } from '@nexus-control/core';
import { createSqliteEventStore } from '@nexus-control/store-sqlite';
import { sha256OfToken } from '../../src/auth/createAuthenticator.js';
import type { Role } from '../../src/auth/roles.js';
import type { AuthConfig, MessageLimits, MetricsConfig, TlsConfig, TracingConfig } from '../../src/config/ServerConfig.js';
import { createLogger } from '../../src/logging/createLogger.js';
import { currentTraceparent } from '../../src/observability/callScope.js';
import { createSubprocessAdapter } from '@nexus-control/adapters';
import { startServer, type RunningServer } from '../../src/startServer.js';
import { tempDir } from './tempDir.js';

/** The adapters package's executor fixture: one script for both packages' adapter tests. */
export const executorScript = fileURLToPath(new URL('../../../adapters/test/fixtures/executor.mjs', import.meta.url));

/** Who the test tokens stand for: the token text is `<name>-token`. */
export const PEOPLE: Record<string, { actor: string; type?: 'system'; roles: Role[] }> = {
  alice: { actor: 'alice', roles: ['requester'] },
  bob: { actor: 'bob', roles: ['approver'] },
  carol: { actor: 'carol', roles: ['approver'] },
  dana: { actor: 'dana', roles: ['requester', 'approver'] },
  deployer: { actor: 'deployer', type: 'system', roles: ['executor'] },
  auditor: { actor: 'auditor', roles: ['auditor'] },
  root: { actor: 'root', roles: ['admin'] },
};

export const tokenAuth: AuthConfig = {
  tokens: Object.entries(PEOPLE).map(([name, p]) => ({
    sha256: sha256OfToken(`${name}-token`),
    actor: { type: p.type ?? 'human', id: p.actor },
    roles: p.roles,
  })),
};

/** The built-in null adapter plus a real subprocess executor (`deploy`: apply, timeout, external). */
export function testRouter(): Router {
  return createRouter([
    createNullAdapter(),
    createSubprocessAdapter({
      id: 'deploy',
      command: [process.execPath, executorScript],
      timeoutMs: 20_000,
      capabilities: ['dry_run', 'apply', 'timeout', 'external'],
      traceparent: currentTraceparent,
    }),
  ]);
}

export interface TestServer {
  readonly server: RunningServer;
  readonly store: EventStore;
  readonly nexus: NexusControl;
  readonly logs: Record<string, unknown>[];
  /** A client for the named person's token (`'anonymous'` for none). */
  client(person?: keyof typeof PEOPLE | 'anonymous', options?: Partial<NexusClientOptions>): NexusClient;
  close(): Promise<void>;
}

export interface TestServerOptions {
  readonly auth?: AuthConfig | 'none';
  readonly tls?: TlsConfig;
  readonly forbidSelfApproval?: boolean;
  readonly router?: Router;
  readonly clock?: Clock;
  readonly limits?: Partial<MessageLimits>;
  readonly nexus?: (real: NexusControl) => NexusControl;
  /** Wraps the real store (e.g. to line up a race deterministically). */
  readonly wrapStore?: (store: EventStore) => EventStore;
  readonly metrics?: MetricsConfig;
  readonly tracing?: TracingConfig;
  /** Receives every log line as written (besides `logs`). */
  readonly logSink?: (line: string) => void;
}

/** A real server on a loopback port over a SQLite file, with clients that close with it. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dir = tempDir();
  const sqlite = createSqliteEventStore({ path: join(dir.path, 'nexus.db') });
  const store = options.wrapStore ? options.wrapStore(sqlite) : sqlite;
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'debug',
    write: (line) => {
      options.logSink?.(line);
      logs.push(JSON.parse(line) as Record<string, unknown>);
    },
  });
  const auth = options.auth === 'none' ? undefined : (options.auth ?? tokenAuth);
  const router = options.router ?? testRouter();
  const server = await startServer({
    store,
    router,
    listen: '127.0.0.1:0',
    logger,
    ...(auth ? { auth } : {}),
    ...(options.tls ? { tls: options.tls } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.forbidSelfApproval === undefined ? {} : { forbidSelfApproval: options.forbidSelfApproval }),
    ...(options.metrics ? { metrics: options.metrics, storeName: 'sqlite' } : {}),
    ...(options.tracing ? { tracing: options.tracing, storeName: 'sqlite' } : {}),
  });
  let nexus = server.nexus;
  let running = server;
  if (options.nexus) {
    // Restart with the wrapped facade on the same store.
    await server.shutdown(0);
    nexus = options.nexus(server.nexus);
    running = await startServer({ store, router, nexus, listen: '127.0.0.1:0', logger, ...(auth ? { auth } : {}) });
  }
  const clients: NexusClient[] = [];
  return {
    server: running,
    store,
    nexus,
    logs,
    client(person = 'root', extra = {}) {
      const client = createNexusClient({
        address: running.address,
        ...(person === 'anonymous' ? {} : { token: `${person}-token` }),
        ...extra,
      });
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) client.close();
      await running.shutdown(1_000);
      await store.close();
      dir.remove();
    },
  };
}

/** The people most end-to-end tests act as, each with a client of their own token. */
export interface Cast {
  readonly alice: NexusClient;
  readonly bob: NexusClient;
  readonly carol: NexusClient;
  readonly deployer: NexusClient;
  readonly auditor: NexusClient;
  readonly root: NexusClient;
}

export function castOf(t: TestServer): Cast {
  return {
    alice: t.client('alice'),
    bob: t.client('bob'),
    carol: t.client('carol'),
    deployer: t.client('deployer'),
    auditor: t.client('auditor'),
    root: t.client('root'),
  };
}
