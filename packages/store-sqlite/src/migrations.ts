import type Database from 'better-sqlite3';
import { StoreFault } from './storeFault.js';

export interface Migration {
  /** Consecutive from 1; a database records every version applied to it. */
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

/** Marks a database file as ours in its header (`PRAGMA application_id`), ASCII "NXCT". */
export const APPLICATION_ID = 0x4e584354;

/** Never edit a released step: add a new one. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'decision headers, event log, labels, idempotency keys, router results, templates',
    sql: `
      -- The immutable header. list_position is the rowid: monotonic (header rows are never
      -- deleted), it is the newest-first keyset of the listing.
      CREATE TABLE decisions (
        list_position  INTEGER PRIMARY KEY,
        decision_id    TEXT    NOT NULL UNIQUE,
        created_at     TEXT    NOT NULL,
        goal           TEXT    NOT NULL,
        requested_mode TEXT    NOT NULL,
        labels         TEXT    NOT NULL
      );

      CREATE TABLE decision_labels (
        label         TEXT    NOT NULL,
        list_position INTEGER NOT NULL,
        PRIMARY KEY (label, list_position)
      ) WITHOUT ROWID;

      -- position is the rowid, i.e. the global feed position: writers are serialized by
      -- BEGIN IMMEDIATE, so it grows in commit order. An overwriting import gives its events
      -- explicit positions above the old head, so a position is never handed out twice.
      -- status is the decision's state after the append that wrote the event: the last
      -- event's is the decision's, and event count and last update come from that row too,
      -- so an append writes nothing but its events (no header row to update).
      CREATE TABLE events (
        position    INTEGER PRIMARY KEY,
        decision_id TEXT    NOT NULL,
        seq         INTEGER NOT NULL,
        type        TEXT    NOT NULL,
        ts          TEXT    NOT NULL,
        actor_type  TEXT    NOT NULL,
        actor_id    TEXT    NOT NULL,
        payload     TEXT    NOT NULL,
        digest      TEXT    NOT NULL,
        status      TEXT    NOT NULL,
        UNIQUE (decision_id, seq)
      );

      CREATE TABLE idempotency_keys (
        key         TEXT    PRIMARY KEY,
        fingerprint TEXT    NOT NULL,
        decision_id TEXT    NOT NULL,
        seq         INTEGER NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE router_results (
        decision_id   TEXT NOT NULL,
        run_id        TEXT NOT NULL,
        response_json TEXT NOT NULL,
        PRIMARY KEY (decision_id, run_id)
      ) WITHOUT ROWID;

      CREATE TABLE templates (
        name            TEXT PRIMARY KEY,
        snapshot        TEXT NOT NULL,
        digest          TEXT NOT NULL,
        created_at      TEXT NOT NULL,
        created_by_type TEXT NOT NULL,
        created_by_id   TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    description: 'log generations: overwrite imports keep the replaced log; versions name the log',
    sql: `
      -- SQLite cannot change a table's UNIQUE constraint in place, so the event table is
      -- rebuilt: positions (the feed checkpoints) are copied unchanged, and every existing
      -- log is generation 0. An overwrite import now writes generation + 1 beside the old log
      -- instead of deleting it; the newest generation of a decision is its current log.
      CREATE TABLE events_v2 (
        position    INTEGER PRIMARY KEY,
        decision_id TEXT    NOT NULL,
        generation  INTEGER NOT NULL,
        seq         INTEGER NOT NULL,
        type        TEXT    NOT NULL,
        ts          TEXT    NOT NULL,
        actor_type  TEXT    NOT NULL,
        actor_id    TEXT    NOT NULL,
        payload     TEXT    NOT NULL,
        digest      TEXT    NOT NULL,
        status      TEXT    NOT NULL,
        UNIQUE (decision_id, generation, seq)
      );
      INSERT INTO events_v2 (position, decision_id, generation, seq, type, ts, actor_type, actor_id, payload, digest, status)
        SELECT position, decision_id, 0, seq, type, ts, actor_type, actor_id, payload, digest, status FROM events ORDER BY position;
      DROP TABLE events;
      ALTER TABLE events_v2 RENAME TO events;

      -- The current generation, changed only by an overwrite import.
      ALTER TABLE decisions ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;

      ALTER TABLE idempotency_keys ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;

      -- A stored router response belongs to the log whose run produced it: a replacement log
      -- never sees the replaced log's responses, and they are kept.
      CREATE TABLE router_results_v2 (
        decision_id   TEXT    NOT NULL,
        generation    INTEGER NOT NULL,
        run_id        TEXT    NOT NULL,
        response_json TEXT    NOT NULL,
        PRIMARY KEY (decision_id, generation, run_id)
      ) WITHOUT ROWID;
      INSERT INTO router_results_v2 (decision_id, generation, run_id, response_json)
        SELECT decision_id, 0, run_id, response_json FROM router_results;
      DROP TABLE router_results;
      ALTER TABLE router_results_v2 RENAME TO router_results;
    `,
  },
  {
    version: 3,
    description: "execution leases: who runs a decision's execution and until when",
    sql: `
      -- One row per decision with a run in progress, written in the transaction that starts the
      -- run and deleted in the one that ends it; renewals and takeovers are conditional updates.
      -- It only ever holds the runs in progress, so listing the lapsed ones scans it: an index
      -- on the expiry would cost every start and end a second b-tree write for nothing.
      CREATE TABLE execution_leases (
        decision_id   TEXT    PRIMARY KEY,
        generation    INTEGER NOT NULL,
        requested_seq INTEGER NOT NULL,
        owner         TEXT    NOT NULL,
        expires_at    INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.length;

const CREATE_MIGRATIONS_TABLE = `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INTEGER PRIMARY KEY,
    description TEXT    NOT NULL,
    applied_at  TEXT    NOT NULL
  )`;

/** The highest schema version recorded in the database; 0 for a database without our tables. */
export function recordedSchemaVersion(db: Database.Database): number {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").pluck().get();
  if (table === undefined) return 0;
  const version = db.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get();
  return typeof version === 'number' ? version : 0;
}

export function assertSchemaNotTooNew(location: string, recorded: number, migrations: readonly Migration[] = MIGRATIONS): void {
  const known = migrations.length;
  if (recorded > known) {
    throw new StoreFault(
      'STORE_SCHEMA_TOO_NEW',
      `${location} has schema version ${recorded}, but this version of Nexus Control knows versions up to ${known}: ` +
        'upgrade Nexus Control to open it (the database was left unchanged)',
      { location, schemaVersion: recorded, supportedVersion: known },
    );
  }
}

/**
 * Brings the schema up to date in one IMMEDIATE transaction, recording each applied version
 * with its time. Re-reads the version inside the transaction, so processes opening one
 * file at the same moment apply each step once. Returns the versions it applied.
 */
export function applyMigrations(
  db: Database.Database,
  location: string,
  migrations: readonly Migration[] = MIGRATIONS,
  now: () => string = () => new Date().toISOString(),
): number[] {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) throw new Error(`migration ${index} must have version ${index + 1}`);
  });
  const applied: number[] = [];
  db.exec('BEGIN IMMEDIATE');
  try {
    const recorded = recordedSchemaVersion(db);
    assertSchemaNotTooNew(location, recorded, migrations);
    if (recorded < migrations.length) {
      db.exec(CREATE_MIGRATIONS_TABLE);
      const record = db.prepare('INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)');
      for (const migration of migrations.slice(recorded)) {
        db.exec(migration.sql);
        record.run(migration.version, migration.description, now());
        applied.push(migration.version);
      }
      db.pragma(`application_id = ${APPLICATION_ID}`);
    }
    db.exec('COMMIT');
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
  return applied;
}
