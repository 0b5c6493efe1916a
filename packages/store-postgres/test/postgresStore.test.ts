import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { ConcurrencyConflictError, NexusError, type EventStore, type StoredEvent } from '@nexus-control/core';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, applyMigrations, maskUrl, migratePostgresStore, openPostgresStore } from '../src/index.js';
import { createPostgresTestHarness, dropSchemas, freshSchemaName, requireTestUrl, TEST_POSTGRES_URL } from './postgresHarness.js';
import { approval, creation } from './testEvents.js';

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof NexusError) return error.code;
    throw error;
  }
  throw new Error('expected the call to fail');
}

async function sql<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: requireTestUrl() });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

describe.skipIf(TEST_POSTGRES_URL === undefined)('PostgreSQL store', () => {
  const harness = createPostgresTestHarness();
  const extraSchemas: string[] = [];
  const opened: EventStore[] = [];
  const track = (store: EventStore) => {
    opened.push(store);
    return store;
  };
  afterAll(async () => {
    for (const store of opened) await store.close();
    await harness.dispose();
    await dropSchemas(extraSchemas);
  });

  describe('migrations', () => {
    it('records each applied version in the schema and applies nothing twice', async () => {
      const schema = freshSchemaName();
      extraSchemas.push(schema);
      const first = await migratePostgresStore(requireTestUrl(), { schema });
      const second = await migratePostgresStore(requireTestUrl(), { schema });
      expect(first.applied).toEqual([1, 2]);
      expect(second).toMatchObject({ applied: [], version: LATEST_SCHEMA_VERSION });
      const rows = await sql<{ version: number }>(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`);
      expect(rows.map((row) => row.version)).toEqual([1, 2]);
    });

    it('upgrades a schema of the first release with only the lease step, keeping its decisions', async () => {
      const schema = freshSchemaName();
      extraSchemas.push(schema);
      const client = new pg.Client({ connectionString: requireTestUrl() });
      await client.connect();
      try {
        expect((await applyMigrations(client, schema, 'test', MIGRATIONS.slice(0, 1))).applied).toEqual([1]);
      } finally {
        await client.end();
      }
      await sql(
        `INSERT INTO "${schema}".decisions (decision_id, created_at, goal_json, requested_mode, labels, generation, length, status, updated_at)
         VALUES ('kept', '2026-01-01T00:00:00.000Z', '"g"', 'manual', '{}', 0, 0, 'pending', '2026-01-01T00:00:00.000Z')`,
      );
      expect((await migratePostgresStore(requireTestUrl(), { schema })).applied).toEqual([2]);
      expect(await sql(`SELECT decision_id FROM "${schema}".decisions`)).toEqual([{ decision_id: 'kept' }]);
      expect(await sql(`SELECT count(*)::int AS n FROM "${schema}".execution_leases`)).toEqual([{ n: 0 }]);
    });

    it('lets replicas that start at the same moment apply each step exactly once', async () => {
      const schema = freshSchemaName();
      extraSchemas.push(schema);
      const results = await Promise.all(Array.from({ length: 4 }, () => migratePostgresStore(requireTestUrl(), { schema })));
      expect(results.flatMap((result) => result.applied)).toEqual([1, 2]);
    });

    it('refuses a schema newer than the code knows and leaves it unchanged', async () => {
      const store = track(await harness.createStore());
      const schema = harness.schemaOf(store);
      await sql(`INSERT INTO "${schema}".schema_migrations (version, description) VALUES (99, 'from the future')`);
      expect(await codeOf(openPostgresStore(requireTestUrl(), { schema }))).toBe('STORE_SCHEMA_TOO_NEW');
      expect(await codeOf(migratePostgresStore(requireTestUrl(), { schema }))).toBe('STORE_SCHEMA_TOO_NEW');
      const rows = await sql<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".schema_migrations`);
      expect(rows[0]!.n).toBe(String(LATEST_SCHEMA_VERSION + 1));
    });

    it('without migrations at open, refuses a schema that is not current', async () => {
      const schema = freshSchemaName();
      extraSchemas.push(schema);
      expect(await codeOf(openPostgresStore(requireTestUrl(), { schema, migrate: false }))).toBe('STORE_UNAVAILABLE');
      const rows = await sql(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [schema]);
      expect(rows).toEqual([]);
    });
  });

  describe('text', () => {
    it('keeps U+0000 in the goal and in comments exactly', async () => {
      const store = track(await harness.createStore());
      const goal = 'stop\u0000 the line';
      await store.append(creation('nul', goal));
      await store.append(approval('nul', { generation: 0, length: 2 }, 'approver', 'ok\u0000'));
      expect((await store.getDecision('nul'))?.goal).toBe(goal);
      expect((await store.listDecisions()).items[0]?.goal).toBe(goal);
      const events = await store.readEvents('nul');
      expect(events[0]!.payload.goal).toBe(goal);
      expect(events[2]!.payload.comment).toBe('ok\u0000');
    });

    it('keeps identifiers with U+0000 and U+0001 apart from the text that stands for them', async () => {
      const store = track(await harness.createStore());
      // U+0000 is stored as U+0001 U+0002: both spellings must stay two different decisions.
      const ids = ['x\u0000', 'x\u0001\u0002', 'x\u0001', 'x\u0001\u0001', 'x'];
      for (const id of ids) await store.append(creation(id, `goal ${ids.indexOf(id)}`, [id]));
      for (const [i, id] of ids.entries()) {
        expect(await store.getDecision(id)).toMatchObject({ decisionId: id, goal: `goal ${i}`, labels: [id] });
        expect((await store.listDecisions({ label: id })).items.map((item) => item.decisionId)).toEqual([id]);
        expect((await store.readEvents(id))[0]?.decisionId).toBe(id);
      }
      const rows = await sql<{ n: string }>(`SELECT count(*) AS n FROM "${harness.schemaOf(store)}".decisions`);
      expect(rows[0]!.n).toBe(String(ids.length));
    });

    it('keeps the leases of decisions whose ids hold U+0000 apart from those of the text that stands for them', async () => {
      const store = track(await harness.createStore());
      const ids = ['y\u0000', 'y\u0001\u0002'];
      for (const [i, id] of ids.entries()) {
        await store.append(creation(id));
        await store.append({ ...approval(id, { generation: 0, length: 2 }), lease: { owner: `owner ${i}`, expiresAt: 10 + i } });
      }
      expect(await store.listExpiredLeases(100)).toEqual([
        { decisionId: ids[0], generation: 0, requestedSeq: 2, owner: 'owner 0', expiresAt: 10 },
        { decisionId: ids[1], generation: 0, requestedSeq: 2, owner: 'owner 1', expiresAt: 11 },
      ]);
      expect(await store.renewLease(ids[0]!, 'owner 1', 50)).toBe(false);
      expect(
        await store.takeOverLease({ decisionId: ids[1]!, fromOwner: 'owner 1', now: 11, grant: { owner: 'taker', expiresAt: 2 ** 40 } }),
      ).toBe(true);
      expect(await store.releaseLease(ids[0]!, 'owner 0')).toBe(true);
      expect(await store.listExpiredLeases(2 ** 41)).toEqual([
        { decisionId: ids[1], generation: 0, requestedSeq: 2, owner: 'taker', expiresAt: 2 ** 40 },
      ]);
    });
  });

  describe('feed checkpoints', () => {
    it('rejects tokens this store did not issue', async () => {
      const store = track(await harness.createStore());
      for (const token of ['42', 'abc', '1.2.3', '0.5', '01.2', '1.-2', '99999999999999999999999.1']) {
        expect(await codeOf(store.readFeed({ after: token }))).toBe('INVALID_ARGUMENT');
      }
    });

    it('never skips an event whose transaction commits after a later one', async () => {
      const store = track(await harness.createStore());
      await store.append(creation('a'));
      await store.append(creation('b'));
      let release!: () => void;
      let held!: () => void;
      const heldPromise = new Promise<void>((resolve) => (held = resolve));
      const hooked = track(
        await harness.openHookedHandle(store, async () => {
          held();
          await new Promise<void>((resolve) => (release = resolve));
        }),
      );
      const start = await store.headCheckpoint();
      const slow = hooked.append(approval('a', { generation: 0, length: 2 }, 'slow'));
      await heldPromise;
      await store.append(approval('b', { generation: 0, length: 2 }, 'fast'));
      const during = await store.readFeed({ after: start });
      release();
      await slow;
      const after = await store.readFeed({ after: during.checkpoint });
      const seen = [...during.events, ...after.events].map((event: StoredEvent) => event.actor.id);
      expect(seen.sort()).toEqual(['fast', 'slow']);
    });
  });

  describe('concurrency', () => {
    it('lets exactly one of two handles win a race on one decision', async () => {
      const store = track(await harness.createStore());
      const other = track(await harness.openSecondHandle(store));
      await store.append(creation('race'));
      const results = await Promise.allSettled([
        store.append(approval('race', { generation: 0, length: 2 }, 'one')),
        other.append(approval('race', { generation: 0, length: 2 }, 'two')),
      ]);
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
      const lost = results.find((result) => result.status === 'rejected') as PromiseRejectedResult;
      expect(lost.reason).toBeInstanceOf(ConcurrencyConflictError);
      expect(await store.readEvents('race')).toHaveLength(3);
    });

    it('commits appends to different decisions from many connections, each exactly once', async () => {
      const store = track(await harness.createStore());
      const ids = Array.from({ length: 8 }, (_, i) => `p${i}`);
      await Promise.all(ids.map((id) => store.append(creation(id))));
      await Promise.all(
        ids.map(async (id) => {
          for (let length = 2; length < 12; length++) await store.append(approval(id, { generation: 0, length }, `a${length}`));
        }),
      );
      const feed = await store.readFeed({ limit: 1000 });
      expect(feed.events).toHaveLength(8 * 12);
      expect(new Set(feed.events.map((event) => event.checkpoint)).size).toBe(8 * 12);
      for (const id of ids) {
        expect(feed.events.filter((event) => event.decisionId === id).map((event) => event.seq)).toEqual([...Array(12).keys()]);
      }
    });

    it('wakes a listener on another handle when an append commits', async () => {
      const store = track(await harness.createStore());
      const other = track(await harness.openSecondHandle(store));
      let woke!: () => void;
      const woken = new Promise<void>((resolve) => (woke = resolve));
      const unsubscribe = other.onAppend!(() => woke());
      // Let the listening connection start before the append.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const started = Date.now();
      await store.append(creation('wake'));
      await woken;
      unsubscribe();
      expect(Date.now() - started).toBeLessThan(1000);
    });
  });

  describe('connection', () => {
    it('never puts the password of the connection string into an error', async () => {
      const url = `postgres://nobody:hunter2secret@127.0.0.1:1/none?schema=x&connect_timeout_ms=500`;
      const error = await openPostgresStore(url).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NexusError);
      expect((error as NexusError).code).toBe('STORE_UNAVAILABLE');
      expect(JSON.stringify({ message: (error as Error).message, details: (error as NexusError).details })).not.toContain('hunter2secret');
      expect(maskUrl(url)).toBe('postgres://nobody:***@127.0.0.1:1/none?schema=x&connect_timeout_ms=500');
      expect(maskUrl('postgres://u@h/db?password=abc&x=1')).toBe('postgres://u@h/db?password=***&x=1');
    });

    it('answers STORE_UNAVAILABLE, never a driver error, once closed', async () => {
      const store = await harness.createStore();
      await store.close();
      expect(await codeOf(store.readEvents('x'))).toBe('STORE_UNAVAILABLE');
    });
  });
});
