import { parseArgs } from 'node:util';
import { NexusError } from '@nexus-control/core';
import type { CliCommand } from '../CliIo.js';
import { loadStorePackage, parseStoreSpec, StoreSpecError } from '../../store/openStore.js';
import { reportError } from '../reportError.js';
import { redactStore } from './serve.js';

const HELP = `usage: nexus-control migrate --store postgres://USER@HOST/DB[?schema=NAME&…]

Applies the pending schema migrations of a PostgreSQL store and prints the schema version.
Safe to run while servers use the database and from several places at once: migrations
run in one transaction under a lock on the schema. 'serve' runs them itself at start unless
given --no-migrate.

exit status: 0 up to date, 1 the database failed or its schema is newer than this
version knows, 2 bad arguments`;

export const migrate: CliCommand = async (argv, io) => {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { store: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    reportError(io, 'USAGE', (error as Error).message, "run 'nexus-control help migrate' for usage");
    return 2;
  }
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  const spec = values.store;
  if (spec === undefined) {
    reportError(io, 'USAGE', '--store is required', "run 'nexus-control help migrate' for usage");
    return 2;
  }
  let kind: string;
  try {
    kind = parseStoreSpec(spec).kind;
  } catch (error) {
    if (!(error instanceof StoreSpecError)) throw error;
    reportError(io, 'USAGE', error.message);
    return 2;
  }
  if (kind !== 'postgres') {
    reportError(io, 'USAGE', 'only PostgreSQL stores have explicit migrations (SQLite and MongoDB stores set up their schema when opened)');
    return 2;
  }
  try {
    const { migratePostgresStore } = (await loadStorePackage('postgres')) as unknown as typeof import('@nexus-control/store-postgres');
    const state = await migratePostgresStore(spec);
    io.out(
      state.applied.length === 0
        ? `${state.location} schema ${state.schema}: up to date at version ${state.version}`
        : `${state.location} schema ${state.schema}: applied ${state.applied.join(', ')}; now at version ${state.version}`,
    );
    return 0;
  } catch (error) {
    if (error instanceof StoreSpecError) {
      reportError(io, 'USAGE', error.message);
      return 2;
    }
    const message = error instanceof Error ? error.message : String(error);
    reportError(io, error instanceof NexusError ? error.code : 'INTERNAL', message.split(spec).join(redactStore(spec)));
    return error instanceof NexusError && error.code === 'INVALID_ARGUMENT' ? 2 : 1;
  }
};
