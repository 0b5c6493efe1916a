// (b) A strict TypeScript consumer (nodenext, skipLibCheck false) of every published package's
// types, compiled with tsc and run with plain node.
import { createHttpAdapter, createSubprocessAdapter } from '@nexus-control/adapters';
import type { NexusClient, NexusClientOptions } from '@nexus-control/client';
import {
  createNexusControl,
  createNullAdapter,
  createRouter,
  isNexusError,
  type DecisionView,
  type EventStore,
  type RouterAdapter,
} from '@nexus-control/core';
import { parseConfig, type ServerConfig } from '@nexus-control/server';
import { createSqliteEventStore, type SqliteEventStoreOptions } from '@nexus-control/store-sqlite';

const options: SqliteEventStoreOptions = { path: ':memory:', synchronous: 'normal' };
const store: EventStore = createSqliteEventStore(options);
const adapters: RouterAdapter[] = [
  createNullAdapter(),
  createSubprocessAdapter({ id: 'deploy', command: ['true'], timeoutMs: 1_000 }),
  createHttpAdapter({ id: 'pay', url: 'http://127.0.0.1:9/run', timeoutMs: 1_000 }),
];
const nexus = createNexusControl({ store, router: createRouter(adapters) });
const config: ServerConfig = parseConfig({ listen: '127.0.0.1:0' }, process.cwd());
const clientOptions: NexusClientOptions = { address: config.listen ?? '127.0.0.1:50051' };
const unusedClient: NexusClient | undefined = undefined;

const view: DecisionView = await nexus.request({ goal: 'typed consumer' }, { actor: { type: 'system', id: 'ci' } });
try {
  await nexus.execute(view.decisionId, { adapterId: 'null' }, { actor: { type: 'system', id: 'ci' } });
  throw new Error('a pending decision must not execute');
} catch (error) {
  if (!isNexusError(error) || error.code !== 'INVALID_STATE') throw error;
}
await store.close();
console.log(
  `typed consumer ran: ${view.decisionId} is ${view.status}; client options for ${clientOptions.address}${unusedClient ? '' : ''}`,
);
