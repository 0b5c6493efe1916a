import { join } from 'node:path';
import {
  bundleDigest,
  canonicalJson,
  createMemoryEventStore,
  exportAuditPackage,
  exportBundle,
  importBundle,
  verifyAuditPackage,
  type EventStore,
  type JsonObject,
} from '@nexus-control/core';
import { recordRichDecision } from '@nexus-control/store-conformance';
import { describe, expect, it } from 'vitest';
import { createSqliteEventStore } from '../src/index.js';
import { tempDir } from './fixtures/tempDir.js';

const dir = tempDir('nexus-sqlite-bundles-');
let files = 0;
const newStore = (): EventStore => createSqliteEventStore({ path: join(dir, `bundles-${++files}.db`) });

const withoutMeta = (bundle: unknown): string => canonicalJson({ ...(bundle as JsonObject), meta: null });

describe('bundle round trips on the SQLite store', () => {
  it('export → import (reject_on_conflict, into another database) → export: the identical bundle', async () => {
    const source = newStore();
    const { id, clock } = await recordRichDecision(source);
    const bundle = await exportBundle(source, id, { clock });
    const target = newStore();
    expect(await importBundle(target, canonicalJson(bundle as unknown as JsonObject))).toMatchObject({ ok: true, replay_ran: true });
    const again = await exportBundle(target, id, { clock });
    expect(again.integrity.canonical_digest).toBe(bundle.integrity.canonical_digest);
    expect(withoutMeta(again)).toBe(withoutMeta(bundle));
    await Promise.all([source.close(), target.close()]);
  });

  it('overwrite onto itself and new_decision_id beside itself', async () => {
    const store = newStore();
    const { id, clock } = await recordRichDecision(store);
    const bundle = await exportBundle(store, id, { clock });
    const text = canonicalJson(bundle as unknown as JsonObject);
    expect(await importBundle(store, text, { conflictMode: 'overwrite' })).toMatchObject({ ok: true });
    expect((await exportBundle(store, id, { clock })).integrity).toEqual(bundle.integrity);

    const copy = await importBundle(store, text, { conflictMode: 'new_decision_id', generateDecisionId: () => 'dec_sqlite_copy' });
    expect(copy).toMatchObject({ ok: true, imported: { decision_id: 'dec_sqlite_copy', original_decision_id: id } });
    const copied = await exportBundle(store, 'dec_sqlite_copy', { clock });
    expect(copied.events.map((e) => e.digest)).toEqual(bundle.events.map((e) => e.digest));
    expect(copied.decision.status).toBe(bundle.decision.status);
    await store.close();
  });

  it('between stores: memory → SQLite → memory keeps the canonical digest', async () => {
    const memory = createMemoryEventStore();
    const { id, clock } = await recordRichDecision(memory);
    const bundle = await exportBundle(memory, id, { clock });
    const sqlite = newStore();
    expect((await importBundle(sqlite, canonicalJson(bundle as unknown as JsonObject))).ok).toBe(true);
    const back = createMemoryEventStore();
    expect((await importBundle(back, canonicalJson((await exportBundle(sqlite, id, { clock })) as unknown as JsonObject))).ok).toBe(true);
    expect((await exportBundle(back, id, { clock })).integrity).toEqual(bundle.integrity);
    await sqlite.close();
  });

  it('a forged status fails inside the SQLite transaction and the overwritten decision survives', async () => {
    const store = newStore();
    const { id, clock } = await recordRichDecision(store);
    const bundle = JSON.parse(canonicalJson((await exportBundle(store, id, { clock })) as unknown as JsonObject)) as JsonObject;
    (bundle['decision'] as JsonObject)['status'] = 'APPROVED';
    (bundle['integrity'] as JsonObject)['canonical_digest'] = `sha256:${bundleDigest(bundle)}`;
    const before = JSON.stringify([await store.readEvents(id), await store.getDecision(id), await store.headCheckpoint()]);
    expect(await importBundle(store, bundle, { conflictMode: 'overwrite' })).toMatchObject({ ok: false, error_code: 'REPLAY_INVALID' });
    expect(JSON.stringify([await store.readEvents(id), await store.getDecision(id), await store.headCheckpoint()])).toBe(before);
    await store.close();
  });

  it('an embedded audit package from the stored router result verifies', async () => {
    const store = newStore();
    const { id, clock } = await recordRichDecision(store);
    const pkg = await exportAuditPackage(store, id, { mode: 'embedded', clock });
    const text = canonicalJson(pkg as unknown as JsonObject);
    expect(text).toContain('"ratio":1.0');
    expect(text).toContain('"big":9007199254740993');
    expect(verifyAuditPackage(text).ok).toBe(true);
    await store.close();
  });
});
