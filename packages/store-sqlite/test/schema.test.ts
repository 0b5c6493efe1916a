import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { approveRequest, createRequest } from '@nexus-control/store-conformance';
import { expectNexusError } from './fixtures/expectNexusError.js';
import { APPLICATION_ID, LATEST_SCHEMA_VERSION, MIGRATIONS, createSqliteEventStore } from '../src/index.js';
import { applyMigrations } from '../src/migrations.js';
import { tempDir } from './fixtures/tempDir.js';

const dir = tempDir('nexus-sqlite-schema-');
let files = 0;
const newPath = () => join(dir, `db-${++files}.db`);

function fingerprint(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function migrationRows(path: string): { version: number; description: string; applied_at: string }[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT version, description, applied_at FROM schema_migrations ORDER BY version').all() as {
      version: number;
      description: string;
      applied_at: string;
    }[];
  } finally {
    db.close();
  }
}

async function createPopulated(path: string): Promise<void> {
  const store = createSqliteEventStore({ path });
  await store.append(createRequest('d-1', { labels: ['prod'] }));
  await store.append(approveRequest('d-1', 2, 'alice'));
  await store.close();
}

describe('schema migrations', () => {
  it('a new database records every migration with the time it was applied, and is marked as ours', async () => {
    const path = newPath();
    const before = Date.now();
    await createPopulated(path);
    const rows = migrationRows(path);
    expect(rows.map((row) => row.version)).toEqual(MIGRATIONS.map((migration) => migration.version));
    expect(rows.map((row) => row.version)).toContain(LATEST_SCHEMA_VERSION);
    for (const row of rows) {
      const appliedAt = Date.parse(row.applied_at);
      expect(appliedAt).toBeGreaterThanOrEqual(before - 1000);
      expect(appliedAt).toBeLessThanOrEqual(Date.now() + 1000);
    }
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
  });

  it('reopening a current database applies nothing again and keeps its data', async () => {
    const path = newPath();
    await createPopulated(path);
    const rows = migrationRows(path);
    const store = createSqliteEventStore({ path });
    try {
      expect((await store.readEvents('d-1')).map((event) => event.seq)).toEqual([0, 1, 2]);
      expect((await store.getDecision('d-1'))?.eventCount).toBe(3);
    } finally {
      await store.close();
    }
    expect(migrationRows(path)).toEqual(rows);
  });

  it('an upgrade applies only the steps the database lacks and records each', () => {
    const path = newPath();
    const db = new Database(path);
    try {
      expect(applyMigrations(db, path, MIGRATIONS)).toEqual(MIGRATIONS.map((migration) => migration.version));
      const next = {
        version: MIGRATIONS.length + 1,
        description: 'an extra table',
        sql: 'CREATE TABLE extra (x INTEGER)',
      };
      expect(applyMigrations(db, path, [...MIGRATIONS, next])).toEqual([next.version]);
      expect(applyMigrations(db, path, [...MIGRATIONS, next])).toEqual([]);
      const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
      expect(versions).toEqual([...MIGRATIONS.map((migration) => migration.version), next.version]);
      expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'extra'").pluck().get()).toBe('extra');
    } finally {
      db.close();
    }
  });

  it('a failing step leaves the database at its previous version', () => {
    const path = newPath();
    const db = new Database(path);
    try {
      applyMigrations(db, path, MIGRATIONS);
      const broken = [
        ...MIGRATIONS,
        { version: MIGRATIONS.length + 1, description: 'fine', sql: 'CREATE TABLE fine (x INTEGER)' },
        { version: MIGRATIONS.length + 2, description: 'broken', sql: 'CREATE TABLE broken (' },
      ];
      expect(() => applyMigrations(db, path, broken)).toThrow();
      expect(db.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get()).toBe(LATEST_SCHEMA_VERSION);
      expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'fine'").pluck().get()).toBeUndefined();
    } finally {
      db.close();
    }
  });

  it('a database with a newer schema than this code knows is refused and left unchanged', async () => {
    const path = newPath();
    await createPopulated(path);
    const db = new Database(path);
    db.prepare('INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)').run(
      LATEST_SCHEMA_VERSION + 1,
      'from the future',
      new Date().toISOString(),
    );
    db.close();
    const before = fingerprint(path);
    const error = await expectNexusError(
      Promise.resolve().then(() => createSqliteEventStore({ path })),
      'STORE_SCHEMA_TOO_NEW',
    );
    expect(error.details).toMatchObject({ schemaVersion: LATEST_SCHEMA_VERSION + 1, supportedVersion: LATEST_SCHEMA_VERSION });
    expect(fingerprint(path)).toBe(before);
    expect(migrationRows(path).map((row) => row.version)).toContain(LATEST_SCHEMA_VERSION + 1);
  });
});

describe('opening a new file', () => {
  it('waits while another process holds a write transaction on it in rollback mode, then opens it', async () => {
    const path = newPath();
    // Another process is setting the new file up and holds its write lock, the file not yet in
    // WAL mode: switching it is refused at once by SQLite, not through the busy handler (two
    // replicas starting together on a new file).
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const db = new (require(process.argv[2]))(process.argv[1]);
         db.exec('BEGIN IMMEDIATE'); db.exec('CREATE TABLE being_set_up (x)');
         process.stdout.write('held\\n');
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 400);
         db.exec('ROLLBACK'); db.close();`,
        path,
        createRequire(import.meta.url).resolve('better-sqlite3'),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      holder.stdout!.once('data', () => resolve());
      holder.once('exit', (code) => reject(new Error(`the holding process exited (${code}) before it held the file`)));
    });
    const started = Date.now();
    const store = createSqliteEventStore({ path });
    try {
      expect(Date.now() - started).toBeGreaterThanOrEqual(200);
      await store.append(createRequest('after-the-wait'));
      expect((await store.readEvents('after-the-wait')).length).toBe(2);
    } finally {
      await store.close();
      await new Promise((resolve) => (holder.exitCode === null ? holder.once('exit', resolve) : resolve(undefined)));
    }
  });
});

describe('files that are not a Nexus Control database', () => {
  const openRejected = (path: string) =>
    expectNexusError(
      Promise.resolve().then(() => createSqliteEventStore({ path })),
      'STORE_CORRUPT',
    );

  it('a text file is refused with STORE_CORRUPT and left unchanged', async () => {
    const path = newPath();
    writeFileSync(path, 'these are my notes, not a database\n'.repeat(200));
    const before = fingerprint(path);
    const error = await openRejected(path);
    expect(error.message).toContain(path);
    expect(fingerprint(path)).toBe(before);
  });

  it('random bytes behind a valid SQLite header are refused with STORE_CORRUPT and left unchanged', async () => {
    const path = newPath();
    const bytes = Buffer.alloc(16 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + 13) & 0xff;
    Buffer.from('SQLite format 3\0', 'latin1').copy(bytes);
    writeFileSync(path, bytes);
    const before = fingerprint(path);
    await openRejected(path);
    expect(fingerprint(path)).toBe(before);
  });

  it('a database whose schema page is damaged is refused with STORE_CORRUPT', async () => {
    const path = newPath();
    await createPopulated(path);
    const bytes = readFileSync(path);
    // Page 1 holds the schema b-tree right after the 100-byte file header.
    for (let i = 100; i < 4096; i++) bytes[i] = (i * 31) & 0xff;
    writeFileSync(path, bytes);
    await openRejected(path);
  });

  it("another application's SQLite database is refused and gets none of our tables", async () => {
    const path = newPath();
    const db = new Database(path);
    db.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('x')");
    db.close();
    const before = fingerprint(path);
    await openRejected(path);
    expect(fingerprint(path)).toBe(before);
  });

  it('a database stamped with another application id is refused', async () => {
    const path = newPath();
    const db = new Database(path);
    db.pragma('application_id = 42');
    db.close();
    await openRejected(path);
  });

  it('an empty file becomes a new database', async () => {
    const path = newPath();
    writeFileSync(path, '');
    await createPopulated(path);
    expect(migrationRows(path).length).toBe(MIGRATIONS.length);
  });

  it('a path in a directory that does not exist fails with STORE_UNAVAILABLE and creates nothing', async () => {
    const path = join(dir, 'missing-directory', 'x.db');
    await expectNexusError(
      Promise.resolve().then(() => createSqliteEventStore({ path })),
      'STORE_UNAVAILABLE',
    );
    expect(existsSync(join(dir, 'missing-directory'))).toBe(false);
    expect(readdirSync(dir).some((name) => name.startsWith('missing'))).toBe(false);
  });
});
