import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson, exportBundle, importBundle, type JsonObject } from '@nexus-control/core';
import { createSqliteEventStore } from '@nexus-control/store-sqlite';
import { recordRichDecision } from '@nexus-control/store-conformance';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresTestHarness, TEST_POSTGRES_URL } from './postgresHarness.js';

const withoutMeta = (bundle: unknown): string => canonicalJson({ ...(bundle as JsonObject), meta: null });

describe.skipIf(TEST_POSTGRES_URL === undefined)('bundles between SQLite and PostgreSQL', () => {
  const harness = createPostgresTestHarness();
  const dir = mkdtempSync(join(tmpdir(), 'nexus-pg-bundles-'));
  afterAll(async () => {
    await harness.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('SQLite → PostgreSQL → SQLite: every export is the identical bundle with the same digest', async () => {
    const sqlite = createSqliteEventStore({ path: join(dir, 'source.db') });
    const postgres = await harness.createStore();
    const back = createSqliteEventStore({ path: join(dir, 'back.db') });
    try {
      const { id, clock } = await recordRichDecision(sqlite);
      const original = await exportBundle(sqlite, id, { clock });

      expect(await importBundle(postgres, canonicalJson(original as unknown as JsonObject))).toMatchObject({ ok: true, replay_ran: true });
      const fromPostgres = await exportBundle(postgres, id, { clock });
      expect(fromPostgres.integrity.canonical_digest).toBe(original.integrity.canonical_digest);
      expect(withoutMeta(fromPostgres)).toBe(withoutMeta(original));

      expect(await importBundle(back, canonicalJson(fromPostgres as unknown as JsonObject))).toMatchObject({ ok: true, replay_ran: true });
      const roundTrip = await exportBundle(back, id, { clock });
      expect(roundTrip.integrity.canonical_digest).toBe(original.integrity.canonical_digest);
      expect(withoutMeta(roundTrip)).toBe(withoutMeta(original));
    } finally {
      await Promise.all([sqlite.close(), postgres.close(), back.close()]);
    }
  });

  it('an overwrite import on PostgreSQL keeps the replaced log readable and exports the same bundle', async () => {
    const postgres = await harness.createStore();
    try {
      const { id, clock } = await recordRichDecision(postgres);
      const bundle = await exportBundle(postgres, id, { clock });
      const before = await postgres.readEvents(id);
      expect(await importBundle(postgres, canonicalJson(bundle as unknown as JsonObject), { conflictMode: 'overwrite' })).toMatchObject({
        ok: true,
      });
      expect((await exportBundle(postgres, id, { clock })).integrity).toEqual(bundle.integrity);
      expect(await postgres.getDecision(id)).toMatchObject({ generation: 1, eventCount: before.length });
      expect((await postgres.readEvents(id, { generation: 0 })).map((e) => e.digest)).toEqual(before.map((e) => e.digest));
    } finally {
      await postgres.close();
    }
  });
});
