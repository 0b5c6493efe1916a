import {
  bundleDigest,
  canonicalJson,
  exportAuditPackage,
  exportBundle,
  importBundle,
  verifyAuditPackage,
  type JsonObject,
} from '@nexus-control/core';
import { createSqliteEventStore } from '@nexus-control/store-sqlite';
import { recordRichDecision } from '@nexus-control/store-conformance';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mongoHarness } from './support/mongoHarness.js';
import { mongoAvailable } from './support/mongoTestServer.js';

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
    const { id, clock } = await recordRichDecision(sqlite);
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
    const { id, clock } = await recordRichDecision(mongo);
    const before = await mongo.readEvents(id);
    const bundle = await exportBundle(mongo, id, { clock });
    expect(await importBundle(mongo, text(bundle), { conflictMode: 'overwrite' })).toMatchObject({ ok: true });
    expect((await exportBundle(mongo, id, { clock })).integrity).toEqual(bundle.integrity);
    expect((await mongo.getDecision(id))?.generation).toBe(1);
    expect((await mongo.readEvents(id, { generation: 0 })).map((event) => event.digest)).toEqual(before.map((event) => event.digest));
  });

  it('a forged status fails inside the MongoDB transaction and the decision it would overwrite is untouched', async () => {
    const mongo = await harness.createStore();
    const { id, clock } = await recordRichDecision(mongo);
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
    const { id, clock } = await recordRichDecision(mongo);
    const pkg = text(await exportAuditPackage(mongo, id, { mode: 'embedded', clock }));
    expect(pkg).toContain('"ratio":1.0');
    expect(pkg).toContain('"big":9007199254740993');
    expect(verifyAuditPackage(pkg).ok).toBe(true);
  });
});
