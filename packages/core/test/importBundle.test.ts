import { describe, expect, it } from 'vitest';
import { bundleDigest, exportBundle, importBundle, type ImportBundleResult } from '../src/bundle/index.js';
import { eventDigestFromPayloadJson } from '../src/events/newEvent.js';
import { canonicalJson } from '../src/json/canonicalJson.js';
import type { JsonObject, JsonValue } from '../src/json/JsonValue.js';
import { createMemoryEventStore } from '../src/store/createMemoryEventStore.js';
import type { EventStore } from '../src/store/EventStore.js';
import { ALICE, asJson, BOB, cloneJson, harness, makeDecision, reseal, storeState } from './bundleTestKit.js';

function expectFailure(result: ImportBundleResult, code: string): void {
  expect(result).toMatchObject({ ok: false, error_code: code });
  if (!result.ok) expect(typeof result.error).toBe('string');
}

async function exported(options: Parameters<typeof makeDecision>[1] = {}) {
  const h = harness();
  const id = await makeDecision(h, { approvers: [ALICE, BOB], minApprovals: 2, adapterId: 'lossy', ...options });
  const bundle = await exportBundle(h.store, id, { clock: h.clock });
  return { h, id, bundle };
}

describe('importBundle round trips', () => {
  it('reject_on_conflict into another store: export → import → export gives the identical canonical digest', async () => {
    const { bundle } = await exported();
    const target = createMemoryEventStore();
    const result = await importBundle(target, canonicalJson(asJson(bundle)));
    expect(result).toEqual({
      ok: true,
      imported: { decision_id: bundle.decision.decision_id, events_imported: bundle.events.length },
      digest_verified: true,
      conflict_mode: 'reject_on_conflict',
      replay_ran: true,
      replay: { ok: true, status: 'COMPLETED', events_replayed: bundle.events.length, event_digests_verified: bundle.events.length },
    });
    const again = await exportBundle(target, bundle.decision.decision_id, { clock: { now: () => 0 } });
    expect(again.integrity.canonical_digest).toBe(bundle.integrity.canonical_digest);
    expect(canonicalJson(asJson({ ...again, meta: null }))).toBe(canonicalJson(asJson({ ...bundle, meta: null })));
    const summary = await target.getDecision(bundle.decision.decision_id);
    expect(summary).toMatchObject({
      status: 'completed',
      createdAt: bundle.decision.created_at,
      goal: bundle.decision.goal,
      eventCount: bundle.events.length,
    });
  });

  it('overwrite onto the same decision replaces it and exports back identically', async () => {
    const { h, id, bundle } = await exported();
    const result = await importBundle(h.store, asJson(bundle), { conflictMode: 'overwrite' });
    expect(result).toMatchObject({ ok: true, conflict_mode: 'overwrite', imported: { decision_id: id } });
    const again = await exportBundle(h.store, id, { clock: h.clock });
    expect(again.integrity.canonical_digest).toBe(bundle.integrity.canonical_digest);
  });

  it('overwrite replaces a different log under the same id, all or nothing, and keeps the replaced log as history', async () => {
    const long = await exported();
    const short = await exported({ approvers: [ALICE], minApprovals: 1, execute: false });
    const target = createMemoryEventStore();
    expect((await importBundle(target, asJson(long.bundle))).ok).toBe(true);
    // The short log under the long one's id (every id-derived digest recomputed).
    const moved = JSON.parse(canonicalJson(asJson(short.bundle)).replaceAll(short.id, long.id)) as JsonObject;
    expect(await importBundle(target, reseal(cloneJson(moved)))).toMatchObject({ ok: false, error_code: 'DECISION_EXISTS' });
    const replaced = await target.readEvents(long.id);
    const result = await importBundle(target, reseal(moved), { conflictMode: 'overwrite' });
    expect(result).toMatchObject({ ok: true, conflict_mode: 'overwrite' });
    expect(await target.readEvents(long.id)).toHaveLength(short.bundle.events.length);
    // The replaced log is history: kept, superseded, readable by its generation.
    expect((await target.getDecision(long.id))?.generation).toBe(1);
    expect(await target.readEvents(long.id, { generation: 0 })).toEqual(replaced);
    expect((await exportBundle(target, long.id, { clock: long.h.clock })).integrity.canonical_digest).toBe(
      moved['integrity'] && (moved['integrity'] as JsonObject)['canonical_digest'],
    );
    expect((await target.listDecisions()).items).toHaveLength(1);
  });

  it('new_decision_id imports under a fresh id: payloads untouched, ids those of the new decision', async () => {
    const { h, id, bundle } = await exported();
    const result = await importBundle(h.store, canonicalJson(asJson(bundle)), {
      conflictMode: 'new_decision_id',
      generateDecisionId: () => 'dec_copy',
    });
    expect(result).toMatchObject({
      ok: true,
      conflict_mode: 'new_decision_id',
      imported: { decision_id: 'dec_copy', original_decision_id: id, new_decision_id: 'dec_copy', events_imported: bundle.events.length },
    });
    const copy = await exportBundle(h.store, 'dec_copy', { clock: h.clock });
    expect(copy.events.map((e) => e.payload)).toEqual(bundle.events.map((e) => e.payload));
    expect(copy.events.map((e) => e.digest)).toEqual(bundle.events.map((e) => e.digest));
    expect(copy.events.map((e) => e.event_id)).toEqual(bundle.events.map((e) => `evt_dec_copy_${e.seq}`));
    // Exactly the ids differ: substituting them in the original reproduces the copy's digest.
    const substituted = JSON.parse(canonicalJson(asJson(bundle)).replaceAll(id, 'dec_copy')) as JsonObject;
    const link = copy.router_link.control_router_link_digest;
    (substituted['router_link'] as JsonObject)['control_router_link_digest'] = link ?? null;
    expect(`sha256:${bundleDigest(substituted)}`).toBe(copy.integrity.canonical_digest);
    // The original is still there, unchanged.
    expect((await exportBundle(h.store, id, { clock: h.clock })).integrity).toEqual(bundle.integrity);
  });

  it('new_decision_id without a generator makes a dec_ id', async () => {
    const { h, bundle } = await exported();
    const result = await importBundle(h.store, asJson(bundle), { conflictMode: 'new_decision_id' });
    expect(result.ok && result.imported.decision_id).toMatch(/^dec_[0-9a-f]{32}$/);
  });

  it('without replay_after_import: replay_ran is false and no replay summary is given', async () => {
    const { bundle } = await exported();
    const store = createMemoryEventStore();
    const result = await importBundle(store, asJson(bundle), { replayAfterImport: false });
    expect(result).toEqual({
      ok: true,
      imported: { decision_id: bundle.decision.decision_id, events_imported: bundle.events.length },
      digest_verified: true,
      conflict_mode: 'reject_on_conflict',
      replay_ran: false,
    });
    expect((await store.getDecision(bundle.decision.decision_id))?.status).toBe('completed');
  });

  it('accepts the bundle as text, pretty-printed text or an object alike', async () => {
    const { bundle } = await exported();
    const pretty = canonicalJson(asJson(bundle)).replaceAll(',"', ',\n  "');
    for (const input of [canonicalJson(asJson(bundle)), pretty, asJson(bundle), bundle]) {
      expect((await importBundle(createMemoryEventStore(), input)).ok).toBe(true);
    }
  });
});

describe('importBundle failures (SPEC §5 codes and order); a failed import writes nothing', () => {
  async function expectUntouched(store: EventStore, run: () => Promise<ImportBundleResult>, code: string): Promise<void> {
    const before = await storeState(store);
    expectFailure(await run(), code);
    expect(await storeState(store)).toBe(before);
  }

  it('text that is not JSON, or JSON that is not an object: BUNDLE_INVALID_SCHEMA', async () => {
    const store = createMemoryEventStore();
    for (const input of ['{"bundle_version":', '[1,2]', 'null', '"text"']) {
      await expectUntouched(store, () => importBundle(store, input), 'BUNDLE_INVALID_SCHEMA');
    }
  });

  it('a missing or mistyped field: BUNDLE_INVALID_SCHEMA, checked before the conflict mode', async () => {
    const { h, bundle } = await exported();
    const edits: ((b: JsonObject) => void)[] = [
      (b) => delete b['events'],
      (b) => delete b['integrity'],
      (b) => ((b['decision'] as JsonObject)['status'] = 'DONE'),
      (b) => ((b['events'] as JsonObject[])[0]!['seq'] = '0'),
      (b) => ((b['events'] as JsonObject[])[1]!['type'] = 'SOMETHING_ELSE'),
      (b) => ((b['events'] as JsonObject[])[2]!['actor'] = { type: 'robot', id: 'x' }),
      (b) => ((b['integrity'] as JsonObject)['alg'] = 'md5'),
      (b) => (b['bundle_version'] = '0.4'),
      (b) => (b['events'] = []),
    ];
    for (const edit of edits) {
      const broken = asJson(bundle);
      edit(broken);
      await expectUntouched(h.store, () => importBundle(h.store, broken, { conflictMode: 'sideways' }), 'BUNDLE_INVALID_SCHEMA');
    }
  });

  it('an unknown conflict mode: CONFLICT_MODE_INVALID, before the digest is checked', async () => {
    const { h, bundle } = await exported();
    const tampered = asJson(bundle);
    (tampered['decision'] as JsonObject)['goal'] = 'something else';
    await expectUntouched(h.store, () => importBundle(h.store, tampered, { conflictMode: 'sideways' }), 'CONFLICT_MODE_INVALID');
  });

  it('content that does not match the digest: INTEGRITY_MISMATCH', async () => {
    const { bundle } = await exported();
    const store = createMemoryEventStore();
    const tampered = asJson(bundle);
    ((tampered['events'] as JsonObject[])[2]!['payload'] as JsonObject)['comment'] = 'forged';
    await expectUntouched(store, () => importBundle(store, tampered), 'INTEGRITY_MISMATCH');
  });

  it('an existing decision under reject_on_conflict: DECISION_EXISTS', async () => {
    const { h, bundle } = await exported();
    await expectUntouched(h.store, () => importBundle(h.store, asJson(bundle)), 'DECISION_EXISTS');
  });

  it('a sequence that does not start at 0 or has a gap (digest resealed): REPLAY_INVALID', async () => {
    const { bundle } = await exported();
    const store = createMemoryEventStore();
    const gap = asJson(bundle);
    (gap['events'] as JsonObject[]).splice(3, 1);
    await expectUntouched(store, () => importBundle(store, reseal(gap)), 'REPLAY_INVALID');
    const shifted = asJson(bundle);
    (shifted['events'] as JsonObject[]).forEach((e) => (e['seq'] = (e['seq'] as number) + 1));
    await expectUntouched(store, () => importBundle(store, reseal(shifted)), 'REPLAY_INVALID');
  });

  it('events of another decision or with foreign event ids (digest resealed): REPLAY_INVALID', async () => {
    const { bundle } = await exported();
    const store = createMemoryEventStore();
    const foreign = asJson(bundle);
    (foreign['events'] as JsonObject[])[1]!['decision_id'] = 'dec_other';
    await expectUntouched(store, () => importBundle(store, reseal(foreign)), 'REPLAY_INVALID');
    const renamed = asJson(bundle);
    (renamed['events'] as JsonObject[])[1]!['event_id'] = 'evt_custom';
    await expectUntouched(store, () => importBundle(store, reseal(renamed)), 'REPLAY_INVALID');
  });

  it('a store failure during the write: IMPORT_ATOMICITY_FAILED', async () => {
    const { bundle } = await exported();
    const store = createMemoryEventStore();
    const failing: EventStore = { ...store, importDecision: () => Promise.reject(new Error('disk full')) };
    await expectUntouched(store, () => importBundle(failing, asJson(bundle)), 'IMPORT_ATOMICITY_FAILED');
  });
});

describe('importBundle re-checks what the reference does not (SPEC §9)', () => {
  it('an event digest that does not recompute is refused even when the bundle digest was resealed', async () => {
    const { bundle } = await exported();
    const forged = asJson(bundle);
    (forged['events'] as JsonObject[])[2]!['digest'] = 'f'.repeat(64);
    for (const replayAfterImport of [true, false]) {
      const store = createMemoryEventStore();
      const before = await storeState(store);
      const result = await importBundle(store, reseal(cloneJson(forged)), { replayAfterImport });
      expectFailure(result, 'REPLAY_INVALID');
      expect(await storeState(store)).toBe(before);
    }
  });

  it('a payload edited together with its event digest and the bundle digest still fails: the status no longer replays', async () => {
    const { bundle } = await exported();
    const forged = asJson(bundle);
    const completed = (forged['events'] as JsonObject[]).find((e) => e['type'] === 'EXECUTION_COMPLETED')!;
    completed['type'] = 'EXECUTION_FAILED';
    completed['payload'] = { error_code: 'ROUTER_ERROR', error_message: 'x', run_id: null };
    completed['digest'] = eventDigestFromPayloadJson('EXECUTION_FAILED', canonicalJson(completed['payload'] as JsonValue));
    const store = createMemoryEventStore();
    const before = await storeState(store);
    expectFailure(await importBundle(store, reseal(forged)), 'REPLAY_INVALID');
    expect(await storeState(store)).toBe(before);
  });

  it('a status that differs from the replayed one is refused inside the transaction; an overwritten decision survives intact', async () => {
    const { h, id, bundle } = await exported();
    const forged = asJson(bundle);
    (forged['decision'] as JsonObject)['status'] = 'APPROVED';
    const before = await storeState(h.store);
    expectFailure(await importBundle(h.store, reseal(forged), { conflictMode: 'overwrite' }), 'REPLAY_INVALID');
    expect(await storeState(h.store)).toBe(before);
    expect((await exportBundle(h.store, id, { clock: h.clock })).integrity).toEqual(bundle.integrity);
  });

  it('a header that disagrees with its events (goal, mode, router link) does not reproduce: REPLAY_INVALID', async () => {
    const { bundle } = await exported();
    const edits: ((b: JsonObject) => void)[] = [
      (b) => ((b['decision'] as JsonObject)['goal'] = 'a nicer goal'),
      (b) => ((b['decision'] as JsonObject)['mode'] = 'apply'),
      (b) => ((b['router_link'] as JsonObject)['run_id'] = 'run_elsewhere'),
      (b) => ((b['decision'] as JsonObject)['created_at'] = '2020-01-01T00:00:00+00:00'),
    ];
    for (const edit of edits) {
      const store = createMemoryEventStore();
      const forged = asJson(bundle);
      edit(forged);
      const before = await storeState(store);
      expectFailure(await importBundle(store, reseal(forged)), 'REPLAY_INVALID');
      expect(await storeState(store)).toBe(before);
    }
  });

  it('the checks run on the events as the store holds them, inside its atomic unit', async () => {
    const { bundle } = await exported();
    const inner = createMemoryEventStore();
    let sawVerify = false;
    // A store that corrupts a payload on the way in: only a check of the stored events can notice.
    const lossy: EventStore = {
      ...inner,
      importDecision: (request) =>
        inner.importDecision({
          ...request,
          events: request.events.map((e, i) => (i === 2 ? { ...e, payloadJson: '{"expires_at":null}' } : e)),
          verify: async (stored) => {
            sawVerify = true;
            await request.verify?.(stored);
          },
        }),
    };
    const before = await storeState(inner);
    expectFailure(await importBundle(lossy, asJson(bundle)), 'REPLAY_INVALID');
    expect(sawVerify).toBe(true);
    expect(await storeState(inner)).toBe(before);
  });
});
