import {
  bundleDigest,
  canonicalJson,
  createNexusControl,
  createNullAdapter,
  createRouter,
  exportAuditPackage,
  exportBundle,
  fixedClock,
  importBundle,
  JsonFloat,
  verifyAuditPackage,
  type EventStore,
  type JsonObject,
  type RouterAdapter,
} from '@nexus-control/core';
import { createSqliteEventStore } from '@nexus-control/store-sqlite';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mongoHarness } from './support/mongoHarness.js';
import { mongoAvailable } from './support/mongoTestServer.js';

const lossy: RouterAdapter = {
  id: 'lossy',
  capabilities: ['dry_run', 'apply'],
  async run() {
    return {
      run_id: 'run_mongo_1',
      status: 'completed',
      steps_executed: 2,
      ratio: new JsonFloat(1),
      tiny: 1e-7,
      huge: new JsonFloat(1e16),
      big: 9007199254740993n,
    };
  },
};

/** A decision with a template, a revocation and a response full of floats, made by the service on `store`. */
async function decisionOn(store: EventStore): Promise<{ id: string; clock: ReturnType<typeof fixedClock> }> {
  const clock = fixedClock('2025-03-01T12:00:00.500000+00:00');
  const control = createNexusControl({ store, clock, router: createRouter([createNullAdapter(), lossy]) });
  const requester = { type: 'human', id: 'requester' } as const;
  await control.createTemplate(
    { name: 'ops', description: 'é and 😀', policy: { minApprovals: 2, labels: ['ops'] } },
    { actor: requester },
  );
  const { decisionId } = await control.request(
    { goal: 'rotate "keys" \u2028 now \u0000', templateName: 'ops', policy: { maxSteps: 5 } },
    { actor: requester },
  );
  for (const id of ['alice', 'bob', 'carol']) {
    clock.advance(1_000_000);
    await control.approve(decisionId, { comment: `ok ${id}` }, { actor: { type: 'human', id } });
  }
  await control.revoke(decisionId, { reason: 'changed my mind' }, { actor: { type: 'human', id: 'bob' } });
  await control.execute(decisionId, { adapterId: 'lossy' }, { actor: requester });
  return { id: decisionId, clock };
}

const text = (value: unknown): string => canonicalJson(value as JsonObject);

describe.skipIf(!mongoAvailable())('bundles between SQLite and MongoDB', () => {
  const harness = mongoHarness();
  afterEach(async () => {
    await harness.dropDatabases();
  });
  afterAll(async () => {
    await harness.dispose?.();
  });

  it('export from SQLite → import into MongoDB → export → import into SQLite: the same canonical digest throughout', async () => {
    const sqlite = createSqliteEventStore({ path: ':memory:' });
    const { id, clock } = await decisionOn(sqlite);
    const bundle = await exportBundle(sqlite, id, { clock });
    const mongo = await harness.createStore();
    expect(await importBundle(mongo, text(bundle))).toMatchObject({ ok: true, replay_ran: true });
    const fromMongo = await exportBundle(mongo, id, { clock });
    expect(fromMongo.integrity).toEqual(bundle.integrity);
    const back = createSqliteEventStore({ path: ':memory:' });
    expect((await importBundle(back, text(fromMongo))).ok).toBe(true);
    expect((await exportBundle(back, id, { clock })).integrity).toEqual(bundle.integrity);
    await Promise.all([sqlite.close(), back.close()]);
  });

  it('an overwrite import onto MongoDB starts a new generation and keeps the replaced log', async () => {
    const mongo = await harness.createStore();
    const { id, clock } = await decisionOn(mongo);
    const before = await mongo.readEvents(id);
    const bundle = await exportBundle(mongo, id, { clock });
    expect(await importBundle(mongo, text(bundle), { conflictMode: 'overwrite' })).toMatchObject({ ok: true });
    expect((await exportBundle(mongo, id, { clock })).integrity).toEqual(bundle.integrity);
    expect((await mongo.getDecision(id))?.generation).toBe(1);
    expect((await mongo.readEvents(id, { generation: 0 })).map((event) => event.digest)).toEqual(before.map((event) => event.digest));
  });

  it('a forged status fails inside the MongoDB transaction and the decision it would overwrite is untouched', async () => {
    const mongo = await harness.createStore();
    const { id, clock } = await decisionOn(mongo);
    const bundle = JSON.parse(text(await exportBundle(mongo, id, { clock }))) as JsonObject;
    (bundle['decision'] as JsonObject)['status'] = 'APPROVED';
    (bundle['integrity'] as JsonObject)['canonical_digest'] = `sha256:${bundleDigest(bundle)}`;
    const snapshot = async () => JSON.stringify([await mongo.readEvents(id), await mongo.getDecision(id), await mongo.headCheckpoint()]);
    const before = await snapshot();
    expect(await importBundle(mongo, bundle, { conflictMode: 'overwrite' })).toMatchObject({ ok: false, error_code: 'REPLAY_INVALID' });
    expect(await snapshot()).toBe(before);
    expect(await mongo.readEvents(id, { generation: 1 })).toEqual([]);
  });

  it('an embedded audit package built from the router result stored in MongoDB verifies', async () => {
    const mongo = await harness.createStore();
    const { id, clock } = await decisionOn(mongo);
    const pkg = text(await exportAuditPackage(mongo, id, { mode: 'embedded', clock }));
    expect(pkg).toContain('"ratio":1.0');
    expect(pkg).toContain('"big":9007199254740993');
    expect(verifyAuditPackage(pkg).ok).toBe(true);
  });
});
