import type pg from 'pg';
import { NexusError } from '@nexus-control/core';

export interface Migration {
  /** Consecutive from 1; the schema records every version applied to it. */
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

/** Never edit a released step: add a new one. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'decisions, event log with feed places, labels, idempotency keys, router results, templates',
    sql: `
      -- One row per decision: its immutable header, and the version of its current log
      -- (generation, length) that every append checks and moves in one conditional UPDATE.
      -- list_position orders the listing newest first. goal is a JSON string literal, so
      -- U+0000 round-trips (text cannot hold it). Free space on each page lets the update of
      -- an append stay on its page (a HOT update) when the status does not change.
      CREATE TABLE decisions (
        list_position  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        decision_id    text    NOT NULL UNIQUE,
        created_at     text    NOT NULL,
        goal_json      text    NOT NULL,
        requested_mode text    NOT NULL,
        labels         text[]  NOT NULL,
        generation     integer NOT NULL,
        length         integer NOT NULL,
        status         text    NOT NULL,
        updated_at     text    NOT NULL
      ) WITH (fillfactor = 80);
      CREATE INDEX decisions_by_status ON decisions (status, list_position);

      CREATE TABLE decision_labels (
        label         text   NOT NULL,
        list_position bigint NOT NULL,
        PRIMARY KEY (label, list_position)
      );

      -- Feed places: tx_id is the writing transaction's id, position a sequence number taken
      -- at insert. Readers only read rows whose tx_id is below the oldest running transaction
      -- and order by (tx_id, position), so a transaction that commits late never lands behind
      -- a place already read. Superseded logs (generation below the decision's) stay.
      CREATE SEQUENCE event_positions AS bigint;
      CREATE TABLE events (
        decision_id text    NOT NULL,
        generation  integer NOT NULL,
        seq         integer NOT NULL,
        tx_id       xid8    NOT NULL DEFAULT pg_current_xact_id(),
        position    bigint  NOT NULL DEFAULT nextval('event_positions'),
        type        text    NOT NULL,
        ts          text    NOT NULL,
        actor_type  text    NOT NULL,
        actor_id    text    NOT NULL,
        payload     text    NOT NULL,
        digest      text    NOT NULL,
        PRIMARY KEY (decision_id, generation, seq)
      );
      CREATE UNIQUE INDEX events_by_place ON events (tx_id, position);
      CREATE INDEX events_of_decision_by_place ON events (decision_id, tx_id, position);

      CREATE TABLE idempotency_keys (
        key         text    PRIMARY KEY,
        fingerprint text    NOT NULL,
        decision_id text    NOT NULL,
        generation  integer NOT NULL,
        seq         integer NOT NULL
      );

      CREATE TABLE router_results (
        decision_id   text NOT NULL,
        run_id        text NOT NULL,
        response_json text NOT NULL,
        PRIMARY KEY (decision_id, run_id)
      );

      CREATE TABLE templates (
        name            text PRIMARY KEY,
        snapshot        text NOT NULL,
        digest          text NOT NULL,
        created_at      text NOT NULL,
        created_by_type text NOT NULL,
        created_by_id   text NOT NULL
      );
    `,
  },
  {
    version: 2,
    description: "execution leases: who runs a decision's execution and until when",
    sql: `
      -- One row per decision with a run in progress, written by the statement of the append
      -- that starts the run and deleted by the one that ends it; renewals and takeovers are
      -- single conditional UPDATEs, so the row lock decides races between any processes.
      -- decision_id is in the stored text form of the decisions table (U+0000 escaped).
      -- It only holds the runs in progress, so listing the lapsed ones scans it: an index
      -- on the expiry would cost every start and end a second b-tree write for nothing.
      CREATE TABLE execution_leases (
        decision_id   text    PRIMARY KEY,
        generation    integer NOT NULL,
        requested_seq integer NOT NULL,
        owner         text    NOT NULL,
        expires_at    bigint  NOT NULL
      );
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.length;

/** Both halves of the advisory lock that serializes migrations of one schema: "NXCT" and the schema's hash. */
const LOCK_CLASS = 0x4e584354;

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

async function recordedVersion(client: pg.ClientBase, schema: string): Promise<number> {
  const table = await client.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [
    `${quoteIdent(schema)}.schema_migrations`,
  ]);
  if (!table.rows[0]!.present) return 0;
  const result = await client.query<{ version: number | null }>(
    `SELECT MAX(version) AS version FROM ${quoteIdent(schema)}.schema_migrations`,
  );
  return result.rows[0]!.version ?? 0;
}

function tooNew(location: string, recorded: number, known: number): NexusError {
  return new NexusError(
    'STORE_SCHEMA_TOO_NEW',
    `${location} has schema version ${recorded}, but this version of Nexus Control knows versions up to ${known}: ` +
      'upgrade Nexus Control to open it (the database was left unchanged)',
    { location, schemaVersion: recorded, supportedVersion: known },
  );
}

export interface SchemaState {
  readonly version: number;
  /** The versions this call applied (empty when the schema was current). */
  readonly applied: readonly number[];
}

/**
 * Brings `schema` up to date in one transaction under an advisory lock keyed on the schema,
 * so replicas starting at the same moment apply each step exactly once (the second waits,
 * then finds nothing to do). A schema newer than this code is refused untouched.
 */
export async function applyMigrations(
  client: pg.ClientBase,
  schema: string,
  location: string,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<SchemaState> {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) throw new Error(`migration ${index} must have version ${index + 1}`);
  });
  const applied: number[] = [];
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_CLASS, schema]);
    const recorded = await recordedVersion(client, schema);
    if (recorded > migrations.length) throw tooNew(location, recorded, migrations.length);
    if (recorded < migrations.length) {
      const s = quoteIdent(schema);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await client.query(`SET LOCAL search_path TO ${s}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS schema_migrations (
           version     integer     PRIMARY KEY,
           description text        NOT NULL,
           applied_at  timestamptz NOT NULL DEFAULT now()
         )`,
      );
      for (const migration of migrations.slice(recorded)) {
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (version, description) VALUES ($1, $2)', [
          migration.version,
          migration.description,
        ]);
        applied.push(migration.version);
      }
    }
    await client.query('COMMIT');
    return { version: Math.max(recorded, migrations.length), applied };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Refuses a schema this code cannot use as it is: newer (upgrade the code) or older (run `migrate`). */
export async function assertSchemaCurrent(
  client: pg.ClientBase,
  schema: string,
  location: string,
  known: number = LATEST_SCHEMA_VERSION,
): Promise<void> {
  const recorded = await recordedVersion(client, schema);
  if (recorded > known) throw tooNew(location, recorded, known);
  if (recorded < known) {
    throw new NexusError(
      'STORE_UNAVAILABLE',
      `${location} has schema version ${recorded}, this version of Nexus Control needs ${known}: ` + "run 'nexus-control migrate' first",
      { location, schemaVersion: recorded, supportedVersion: known },
    );
  }
}
