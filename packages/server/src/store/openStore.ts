import { resolve } from 'node:path';
import type { EventStore } from '@nexus-control/core';
import { createSqliteEventStore } from '@nexus-control/store-sqlite';

export const DEFAULT_STORE = 'sqlite:./nexus-control.db';

/** A --store value that cannot be used; the message says why and what works. */
export class StoreSpecError extends Error {
  constructor(message: string) {
    super(message);
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

export interface OpenStoreOptions {
  /** Networked stores: apply pending schema migrations at open (default true). */
  readonly migrate?: boolean;
}

export async function openStore(spec: string, options: OpenStoreOptions = {}): Promise<EventStore> {
  const parsed = parseStoreSpec(spec);
  switch (parsed.kind) {
    case 'sqlite':
      return createSqliteEventStore({ path: parsed.path, synchronous: parsed.synchronous });
    case 'postgres': {
      // Loaded only when used, so a server on another store never loads the driver.
      const { openPostgresStore } = await import('@nexus-control/store-postgres');
      return openPostgresStore(parsed.url, { migrate: options.migrate ?? true });
    }
    case 'mongodb': {
      // Loaded only when used, so a server on another store never loads the driver.
      const { openMongoStore } = await import('@nexus-control/store-mongo');
      return openMongoStore(parsed.url);
    }
  }
}
