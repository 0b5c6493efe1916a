import { resolve } from 'node:path';
import type { EventStore } from '@nexus-control/core';

export const DEFAULT_STORE = 'sqlite:./nexus-control.db';

/** A --store value that cannot be used; the message says why and what works. */
export class StoreSpecError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreSpecError';
  }
}

export type SqliteSynchronous = 'full' | 'normal';

export type StoreSpec =
  | { readonly kind: 'sqlite'; readonly path: string; readonly synchronous: SqliteSynchronous }
  | { readonly kind: 'postgres' | 'mongodb'; readonly url: string };

/**
 * `sqlite:PATH[?synchronous=full|normal]` (relative to the working directory; `sqlite::memory:`
 * for a private in-memory store), `postgres://…`, `mongodb://…`. SQLite defaults to
 * `synchronous=full`: an acknowledged write survives power loss. `normal` survives a crash
 * of the process but not of the machine, for several times the write throughput.
 */
export function parseStoreSpec(spec: string): StoreSpec {
  if (spec.startsWith('sqlite:')) {
    const [path = '', query] = spec.slice('sqlite:'.length).split('?', 2);
    if (path === '') throw new StoreSpecError("--store sqlite: needs a path, e.g. 'sqlite:./nexus-control.db'");
    let synchronous: SqliteSynchronous = 'full';
    for (const [key, value] of new URLSearchParams(query ?? '')) {
      if (key !== 'synchronous' || (value !== 'full' && value !== 'normal')) {
        throw new StoreSpecError(`unknown SQLite option '${key}=${value}': the only option is synchronous=full|normal`);
      }
      synchronous = value;
    }
    return { kind: 'sqlite', path: path === ':memory:' ? path : resolve(path), synchronous };
  }
  if (/^postgres(ql)?:\/\//.test(spec)) return { kind: 'postgres', url: spec };
  if (/^mongodb(\+srv)?:\/\//.test(spec)) return { kind: 'mongodb', url: spec };
  throw new StoreSpecError(`unknown store '${spec}': use sqlite:PATH, postgres://… or mongodb://…`);
}

/**
 * The store package behind each scheme, loaded with a dynamic import only when a --store of its
 * scheme is opened: a server on SQLite never loads a PostgreSQL or MongoDB driver, and a server
 * installed without a store package fails with a message that names the package to install.
 */
export const STORE_PACKAGES = {
  sqlite: { packageName: '@nexus-control/store-sqlite', factory: 'createSqliteEventStore' },
  postgres: { packageName: '@nexus-control/store-postgres', factory: 'openPostgresStore' },
  mongodb: { packageName: '@nexus-control/store-mongo', factory: 'openMongoStore' },
} as const satisfies Readonly<Record<StoreSpec['kind'], { readonly packageName: string; readonly factory: string }>>;

type StoreFactory = (...args: unknown[]) => EventStore | Promise<EventStore>;

/** Overridable so a test can stand in for a package that is not installed. */
export type ImportModule = (specifier: string) => Promise<Record<string, unknown>>;

const importModule: ImportModule = (specifier) => import(specifier) as Promise<Record<string, unknown>>;

/** The module of a scheme's store package; a missing package is a StoreSpecError naming it. */
export async function loadStorePackage(kind: StoreSpec['kind'], load: ImportModule = importModule): Promise<Record<string, unknown>> {
  const { packageName } = STORE_PACKAGES[kind];
  try {
    return await load(packageName);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((error as Error).message).includes(packageName)) {
      throw new StoreSpecError(`a ${kind} store needs the package ${packageName}, which is not installed: npm install ${packageName}`, {
        cause: error,
      });
    }
    throw error;
  }
}

async function loadStoreFactory(kind: StoreSpec['kind'], load: ImportModule): Promise<StoreFactory> {
  const { packageName, factory } = STORE_PACKAGES[kind];
  const create = (await loadStorePackage(kind, load))[factory];
  if (typeof create !== 'function')
    throw new StoreSpecError(`${packageName} does not export ${factory}: is its version compatible with this server?`);
  return create as StoreFactory;
}

export interface OpenStoreOptions {
  /** Networked stores: apply pending schema migrations at open (default true). */
  readonly migrate?: boolean;
  /** Loads a store package (tests stand in for one that is not installed). */
  readonly load?: ImportModule;
}

export async function openStore(spec: string, options: OpenStoreOptions = {}): Promise<EventStore> {
  const parsed = parseStoreSpec(spec);
  const create = await loadStoreFactory(parsed.kind, options.load ?? importModule);
  switch (parsed.kind) {
    case 'sqlite':
      return create({ path: parsed.path, synchronous: parsed.synchronous });
    case 'postgres':
      return create(parsed.url, { migrate: options.migrate ?? true });
    case 'mongodb':
      // The schema is set up (or checked) at open: MongoDB has no separate migration step.
      return create(parsed.url);
  }
}
