import { describe, expect, it } from 'vitest';
import { exportAuditPackage, verifyAuditPackage } from '../src/audit/index.js';
import { exportBundle, verifyBundle } from '../src/bundle/index.js';
import { canonicalJson } from '../src/json/canonicalJson.js';
import type { JsonObject } from '../src/json/JsonValue.js';
import { ALICE, asJson, BOB, harness, longDecision, makeDecision, REQUESTER } from './bundleTestKit.js';
import { DEEPER_CHECKS, failedChecks, REFERENCE_CHECKS, resealBundle, resealPackage } from './verifyTestKit.js';

async function packages() {
  const h = harness();
  const id = await makeDecision(h, { approvers: [ALICE, BOB], minApprovals: 2, adapterId: 'lossy' });
  const reference = asJson(await exportAuditPackage(h.store, id, { clock: h.clock }));
  const embedded = asJson(await exportAuditPackage(h.store, id, { mode: 'embedded', clock: h.clock }));
  return { h, id, reference, embedded };
}

const bundleOf = (pkg: JsonObject) => pkg['control_bundle'] as JsonObject;
const eventsOf = (pkg: JsonObject) => bundleOf(pkg)['events'] as JsonObject[];

describe('verifyAuditPackage on exported packages', () => {
  it('passes every check in both modes; the reference six come first, by name, then the deeper ones', async () => {
    const { reference, embedded } = await packages();
    const expected = {
      reference: [...REFERENCE_CHECKS, ...DEEPER_CHECKS, 'provenance', 'schema'],
      embedded: [...REFERENCE_CHECKS, ...DEEPER_CHECKS, 'router_result_match', 'provenance', 'schema'],
    };
    for (const [mode, pkg] of [
      ['reference', reference],
      ['embedded', embedded],
    ] as const) {
      const report = verifyAuditPackage(pkg);
      expect(report.checks.map((c) => c.name)).toEqual(expected[mode]);
      expect(report).toMatchObject({
        ok: true,
        kind: 'audit_package',
        failed: 0,
        passed: expected[mode].length,
        total: expected[mode].length,
      });
      expect(verifyAuditPackage(canonicalJson(pkg))).toEqual(report);
    }
  });

  it('a package without meta (the reference omits an empty one) still verifies', async () => {
    const { reference } = await packages();
    delete reference['meta'];
    delete bundleOf(reference)['meta'];
    expect(verifyAuditPackage(reference).ok).toBe(true);
  });

  it('never short-circuits: two unrelated faults are both reported and every check still runs', async () => {
    const { reference } = await packages();
    const total = verifyAuditPackage(reference).total;
    (reference['integrity'] as JsonObject)['binding_digest'] = `sha256:${'0'.repeat(64)}`;
    (eventsOf(reference)[2]!['payload'] as JsonObject)['comment'] = 'forged';
    const report = verifyAuditPackage(reference);
    expect(report.total).toBe(total);
    expect(failedChecks(report)).toEqual(expect.arrayContaining(['binding_digest', 'control_bundle_digest', 'event_digests']));
    expect(report.ok).toBe(false);
    expect(report.failed).toBe(failedChecks(report).length);
    const binding = report.checks.find((c) => c.name === 'binding_digest')!;
    expect(binding.expected).toBe(`sha256:${'0'.repeat(64)}`);
    expect(binding.actual).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('an empty object yields a report of failed checks, not an exception', () => {
    const report = verifyAuditPackage({});
    expect(report.ok).toBe(false);
    expect(report.checks.map((c) => c.name)).toEqual([...REFERENCE_CHECKS, ...DEEPER_CHECKS, 'provenance', 'schema']);
    expect(failedChecks(report)).toEqual(expect.arrayContaining([...REFERENCE_CHECKS, 'event_digests', 'replay_status', 'schema']));
  });

  it('input that is not a JSON object is PACKAGE_INVALID_SCHEMA (bare bundles: BUNDLE_INVALID_SCHEMA)', () => {
    for (const input of ['not json', '{"a":', '[1]', 'null', '42']) {
      expect(() => verifyAuditPackage(input)).toThrow(expect.objectContaining({ code: 'PACKAGE_INVALID_SCHEMA' }));
      expect(() => verifyBundle(input)).toThrow(expect.objectContaining({ code: 'BUNDLE_INVALID_SCHEMA' }));
    }
    expect(() => verifyAuditPackage([] as never)).toThrow(expect.objectContaining({ code: 'PACKAGE_INVALID_SCHEMA' }));
  });
});

describe('the deeper checks catch what a forger who reseals every digest can do (SPEC §9)', () => {
  it('a made-up link digest passes the reference six; the recomputed link digest fails', async () => {
    const { reference } = await packages();
    (bundleOf(reference)['router_link'] as JsonObject)['control_router_link_digest'] = `sha256:${'1'.repeat(64)}`;
    const report = verifyAuditPackage(resealPackage(reference));
    // The link is also no longer the one the events derive.
    expect(failedChecks(report)).toEqual(['link_digest', 'derived_fields']);
  });

  it('an embedded router response edited under its old digest fails the recomputed router digest', async () => {
    const { embedded } = await packages();
    ((embedded['router'] as JsonObject)['bundle'] as JsonObject)['run'] = { run_id: 'run_lossy_1', status: 'completed', steps_executed: 0 };
    expect(failedChecks(verifyAuditPackage(embedded))).toEqual(['router_digest']);
  });

  it('another self-consistent router bundle fails only the match with the recorded result digest', async () => {
    const { embedded } = await packages();
    ((embedded['router'] as JsonObject)['bundle'] as JsonObject)['run'] = { run_id: 'run_lossy_1', status: 'completed', steps_executed: 0 };
    expect(failedChecks(verifyAuditPackage(resealPackage(embedded)))).toEqual(['router_result_match']);
  });

  it('a run id moved consistently through link, binding and reference fails: the events name another run', async () => {
    const { reference } = await packages();
    (bundleOf(reference)['router_link'] as JsonObject)['run_id'] = 'run_elsewhere';
    ((reference['router'] as JsonObject)['ref'] as JsonObject)['run_id'] = 'run_elsewhere';
    expect(failedChecks(verifyAuditPackage(resealPackage(reference, { link: true })))).toEqual(['derived_fields']);
  });

  it('a status that the events do not replay to fails replay_status', async () => {
    const { reference } = await packages();
    (bundleOf(reference)['decision'] as JsonObject)['status'] = 'APPROVED';
    expect(failedChecks(verifyAuditPackage(resealPackage(reference)))).toEqual(['replay_status']);
  });

  it('a payload edited under its old event digest fails event_digests', async () => {
    const { reference } = await packages();
    (eventsOf(reference)[2]!['payload'] as JsonObject)['comment'] = 'approved, sort of';
    expect(failedChecks(verifyAuditPackage(resealPackage(reference)))).toEqual(['event_digests']);
  });

  it('a dropped approval fails event_sequence (and the replay, which stops at the gap)', async () => {
    const { reference } = await packages();
    eventsOf(reference).splice(2, 1);
    const failed = failedChecks(verifyAuditPackage(resealPackage(reference)));
    expect(failed).toEqual(['event_sequence', 'replay_status', 'derived_fields']);
    expect(failed.filter((name) => REFERENCE_CHECKS.includes(name))).toEqual([]);
  });

  it('an event claimed by another decision, or an event id not derived from its seq, fails event_identity', async () => {
    const { reference } = await packages();
    const edits: ((events: JsonObject[], id: string) => void)[] = [
      (events) => (events[1]!['decision_id'] = 'dec_other'),
      (events, id) => (events[2]!['event_id'] = `evt_${id}_02`),
      (events, id) => (events[2]!['event_id'] = `evt_${id}_3`),
      (events, id) => (events[0]!['event_id'] = `evt_${id}_`),
      (events, id) => (events[0]!['event_id'] = `evt_${id}x0`),
    ];
    for (const edit of edits) {
      const copy = asJson(reference);
      edit(eventsOf(copy), (bundleOf(copy)['decision'] as JsonObject)['decision_id'] as string);
      expect(failedChecks(verifyAuditPackage(resealPackage(copy)))).toEqual(['event_identity']);
    }
  });

  it('a provenance record not derived from the digests fails provenance', async () => {
    const { reference } = await packages();
    const records = (reference['provenance'] as JsonObject)['records'] as JsonObject[];
    records[0]!['inputs'] = ['decision:dec_other'];
    expect(failedChecks(verifyAuditPackage(reference))).toEqual(['provenance']);
  });

  it('an approval that had expired by the last event counts as expired', async () => {
    const h = harness();
    const view = await h.control.request({ goal: 'g', mode: 'dry_run' }, { actor: REQUESTER });
    await h.control.approve(view.decisionId, { expiresAt: '2025-03-01T12:00:05+00:00' }, { actor: ALICE });
    h.clock.advance(10_000_000);
    await h.control.approve(view.decisionId, { expiresAt: null }, { actor: BOB });
    h.clock.advance(1_000_000);
    await h.control.revoke(view.decisionId, {}, { actor: BOB });
    const bundle = asJson(await exportBundle(h.store, view.decisionId, { clock: h.clock }));
    expect((bundle['decision'] as JsonObject)['status']).toBe('PENDING_APPROVAL');
    expect(verifyBundle(bundle).ok).toBe(true);
  });
});

describe('verifyBundle', () => {
  it('passes an exported bundle with its digest check and the deeper checks', async () => {
    const { h, id } = await packages();
    const bundle = await exportBundle(h.store, id, { clock: h.clock });
    const report = verifyBundle(canonicalJson(asJson(bundle)));
    expect(report.checks.map((c) => c.name)).toEqual(['bundle_digest', ...DEEPER_CHECKS, 'provenance', 'schema']);
    expect(report).toMatchObject({ ok: true, kind: 'bundle', failed: 0 });
  });

  it('names the failing checks of a tampered bundle', async () => {
    const { h, id } = await packages();
    const bundle = asJson(await exportBundle(h.store, id, { clock: h.clock }));
    (bundle['decision'] as JsonObject)['goal'] = 'another goal';
    expect(failedChecks(verifyBundle(bundle))).toEqual(['bundle_digest', 'derived_fields']);
    expect(failedChecks(verifyBundle(resealBundle(bundle)))).toEqual(['derived_fields']);
  });
});

describe('a 10,000-event audit package', () => {
  it('verifies from its JSON text well under a second', async () => {
    const h = harness();
    const id = await longDecision(h, 10_000);
    const text = canonicalJson(asJson(await exportAuditPackage(h.store, id, { mode: 'embedded', clock: h.clock })));
    const times: number[] = [];
    for (let round = 0; round < 3; round++) {
      const started = performance.now();
      const report = verifyAuditPackage(text);
      times.push(performance.now() - started);
      expect(report.ok).toBe(true);
      expect(report.checks.find((c) => c.name === 'event_digests')?.detail).toContain('10000');
    }
    expect(Math.min(...times)).toBeLessThan(1000);
  });
});
