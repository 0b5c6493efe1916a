import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  canonicalJson,
  createNexusControl,
  createNullAdapter,
  createRouter,
  exportBundle,
  fixedClock,
  importBundle,
  JsonFloat,
  type EventStore,
  type JsonObject,
  type RouterAdapter,
} from '@nexus-control/core';
import { createSqliteEventStore } from '@nexus-control/store-sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresTestHarness, TEST_POSTGRES_URL } from './postgresHarness.js';

const lossy: RouterAdapter = {
  id: 'lossy',
  capabilities: ['dry_run', 'apply'],
  async run() {
    return { run_id: 'run_pg_1', status: 'completed', steps_executed: 2, ratio: new JsonFloat(1), tiny: 1e-7, big: 9007199254740993n };
  },
};

/** A decision with a template, approvals, a revocation and a run, whose free text holds U+0000. */
async function decisionOn(store: EventStore): Promise<{ id: string; clock: ReturnType<typeof fixedClock> }> {
  const clock = fixedClock('2025-03-01T12:00:00.500000+00:00');
  const control = createNexusControl({ store, clock, router: createRouter([createNullAdapter(), lossy]) });
  const requester = { type: 'human', id: 'requester' } as const;
  await control.createTemplate(
    { name: 'ops', description: 'é and 😀', policy: { minApprovals: 2, labels: ['ops'] } },
    { actor: requester },
  );
  const { decisionId } = await control.request(
    { goal: 'rotate "keys"\u0000 \u2028 now', plan: 'step\u0000one', templateName: 'ops' },
    { actor: requester },
  );
  for (const id of ['alice', 'bob', 'carol']) {
    clock.advance(1_000_000);
    await control.approve(decisionId, { comment: `ok\u0000 ${id}` }, { actor: { type: 'human', id } });
  }
  await control.revoke(decisionId, { reason: 'changed my mind' }, { actor: { type: 'human', id: 'bob' } });
  await control.execute(decisionId, { adapterId: 'lossy' }, { actor: requester });
  return { id: decisionId, clock };
}

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
      const { id, clock } = await decisionOn(sqlite);
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
      const { id, clock } = await decisionOn(postgres);
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
