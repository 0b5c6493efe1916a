import { parseArgs } from 'node:util';
import { NexusError } from '@nexus-control/core';
import type { CliCommand } from '../CliIo.js';
import { parseStoreSpec, StoreSpecError } from '../../store/openStore.js';
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
    io.err(`nexus-control migrate: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  const spec = values.store;
  if (spec === undefined) {
    io.err(`nexus-control migrate: --store is required\n\n${HELP}`);
    return 2;
  }
  let kind: string;
  try {
    kind = parseStoreSpec(spec).kind;
  } catch (error) {
    if (!(error instanceof StoreSpecError)) throw error;
    io.err(`nexus-control migrate: ${error.message}`);
    return 2;
  }
  if (kind !== 'postgres') {
    io.err(`nexus-control migrate: only PostgreSQL stores have explicit migrations (SQLite and MongoDB stores set up their schema when opened)`);
    return 2;
  }
  const { migratePostgresStore } = await import('@nexus-control/store-postgres');
  try {
    const state = await migratePostgresStore(spec);
    io.out(
      state.applied.length === 0
        ? `${state.location} schema ${state.schema}: up to date at version ${state.version}`
        : `${state.location} schema ${state.schema}: applied ${state.applied.join(', ')}; now at version ${state.version}`,
    );
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    io.err(`nexus-control migrate: ${error instanceof NexusError ? `${error.code}: ` : ''}${message.split(spec).join(redactStore(spec))}`);
    return error instanceof NexusError && error.code === 'INVALID_ARGUMENT' ? 2 : 1;
  }
};
