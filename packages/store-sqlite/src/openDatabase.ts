import Database from 'better-sqlite3';
import { APPLICATION_ID, applyMigrations, assertSchemaNotTooNew, LATEST_SCHEMA_VERSION, recordedSchemaVersion } from './migrations.js';
import { isBusy, toStoreFault } from './sqliteErrors.js';
import { StoreFault } from './storeFault.js';

export type SynchronousMode = 'full' | 'normal';

export interface OpenDatabaseOptions {
  readonly path: string;
  readonly synchronous: SynchronousMode;
  readonly busyTimeoutMs: number;
}

/**
 * Opens (creating when absent) a Nexus Control database: refuses a file that is not one
 * before writing anything to it, then switches to WAL and brings the schema up to date.
 */
export function openDatabase({ path, synchronous, busyTimeoutMs }: OpenDatabaseOptions): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: busyTimeoutMs });
  } catch (error) {
    const mapped = toStoreFault(error, path);
    if (mapped instanceof StoreFault) throw mapped;
    // better-sqlite3 checks some paths itself (a missing directory) and throws a plain TypeError.
    const message = error instanceof Error ? error.message : String(error);
    throw new StoreFault('STORE_UNAVAILABLE', `${path} cannot be opened: ${message}`, { location: path }, { cause: error });
  }
  try {
    const recorded = assertOurs(db, path);
    if (path !== ':memory:') switchToWal(db, path, busyTimeoutMs);
    db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    // A current database is only read here: opening it never waits for another writer's lock.
    if (recorded < LATEST_SCHEMA_VERSION) applyMigrations(db, path);
    return db;
  } catch (error) {
    db.close();
    throw toStoreFault(error, path);
  }
}

/** Read-only checks: the file is SQLite, holds no other application's data, and no newer schema. */
function assertOurs(db: Database.Database, path: string): number {
  // The first read parses the header: a non-SQLite file fails here with SQLITE_NOTADB.
  const applicationId = db.pragma('application_id', { simple: true });
  const notOurs = (reason: string, details: Record<string, unknown> = {}) =>
    new StoreFault('STORE_CORRUPT', `${path} is not a Nexus Control SQLite database: ${reason}`, {
      location: path,
      ...details,
    });
  if (applicationId !== 0 && applicationId !== APPLICATION_ID) {
    throw notOurs(`it belongs to another application (application id ${String(applicationId)})`, { applicationId });
  }
  const recorded = recordedSchemaVersion(db);
  if (recorded === 0) {
    const objects = db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'").pluck().get();
    if (typeof objects === 'number' && objects > 0) {
      throw notOurs('it holds tables of another application and no Nexus Control schema');
    }
  }
  assertSchemaNotTooNew(path, recorded);
  return recorded;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Puts the file in WAL mode (a lasting property of the file, so usually there is nothing to
 * do). Switching needs the file to itself: while another process holds a write transaction on
 * a file still in rollback mode (say, one switching the same new file at the same moment),
 * SQLite answers busy at once instead of through the busy handler. That is waited out here
 * the way a lock wait would be, up to the busy timeout.
 */
function switchToWal(db: Database.Database, path: string, busyTimeoutMs: number): void {
  if (db.pragma('journal_mode', { simple: true }) === 'wal') return;
  const deadline = Date.now() + busyTimeoutMs;
  for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
    let mode: unknown;
    try {
      mode = db.pragma('journal_mode = WAL', { simple: true });
    } catch (error) {
      if (!isBusy(error) || Date.now() >= deadline) throw error;
      // Opening is synchronous on the caller's thread, as the busy handler's waits are.
      Atomics.wait(pause, 0, 0, wait);
      continue;
    }
    if (mode !== 'wal') {
      throw new StoreFault('STORE_UNAVAILABLE', `${path} cannot be switched to WAL mode (it stays in ${String(mode)} mode)`, {
        location: path,
      });
    }
    return;
  }
}
