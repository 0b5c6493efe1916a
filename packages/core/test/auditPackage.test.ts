import { describe, expect, it } from 'vitest';
import { bindingDigest, buildRouterBundle, exportAuditPackage, verifyAuditPackage } from '../src/audit/index.js';
import { exportBundle, importBundle } from '../src/bundle/index.js';
import { canonicalJson } from '../src/json/canonicalJson.js';
import { sha256Hex } from '../src/json/digest.js';
import type { JsonObject } from '../src/json/JsonValue.js';
import { parseJson } from '../src/json/parseJson.js';
import { createMemoryEventStore } from '../src/store/createMemoryEventStore.js';
import { asJson, harness, LOSSY_RESPONSE_EXTRAS, makeDecision } from './bundleTestKit.js';

async function executed(adapterId = 'lossy') {
  const h = harness();
  const id = await makeDecision(h, { adapterId });
  return { h, id };
}

describe('exportAuditPackage, reference mode (the default)', () => {
  it('binds the control bundle, the run and their link (SPEC §6)', async () => {
    const { h, id } = await executed();
    h.clock.set('2025-04-01T00:00:00+00:00');
    const pkg = await exportAuditPackage(h.store, id, { clock: h.clock });
    const bundle = await exportBundle(h.store, id, { clock: h.clock });
    const link = bundle.router_link;

    expect(Object.keys(pkg)).toEqual(['package_version', 'control_bundle', 'router', 'binding', 'integrity', 'provenance', 'meta']);
    expect(pkg.package_version).toBe('0.6');
    expect(pkg.control_bundle).toEqual(bundle);
    expect(pkg.router).toEqual({ mode: 'reference', ref: { run_id: link.run_id, digest: link.router_result_digest } });
    expect(pkg.binding).toEqual({
      control_digest: bundle.integrity.canonical_digest,
      router_digest: link.router_result_digest,
      control_router_link_digest: link.control_router_link_digest,
    });
    const raw = sha256Hex(
      canonicalJson({
        package_version: '0.6',
        control_digest: pkg.binding.control_digest,
        router_digest: pkg.binding.router_digest,
        control_router_link_digest: pkg.binding.control_router_link_digest,
      }),
    );
    expect(bindingDigest('0.6', pkg.binding.control_digest, pkg.binding.router_digest, pkg.binding.control_router_link_digest)).toBe(raw);
    expect(pkg.integrity).toEqual({ alg: 'sha256', binding_digest: `sha256:${raw}` });
    expect(pkg.provenance).toEqual({
      records: [
        {
          prov_id: `prov_${sha256Hex(`${id}:${raw}`).slice(0, 12)}`,
          method_id: 'nexus-control.audit_export_v0_6',
          inputs: [`decision:${id}`],
          outputs: [`audit_package:sha256:${raw}`],
        },
      ],
    });
    expect(pkg.meta).toEqual({ exported_at: '2025-04-01T00:00:00+00:00' });
    expect(verifyAuditPackage(asJson(pkg)).ok).toBe(true);
  });

  it('the binding digest does not depend on the export instant', async () => {
    const { h, id } = await executed();
    const first = await exportAuditPackage(h.store, id, { clock: h.clock });
    h.clock.advance(86_400_000_000);
    const second = await exportAuditPackage(h.store, id, { clock: h.clock });
    expect(second.meta).not.toEqual(first.meta);
    expect(second.integrity).toEqual(first.integrity);
    expect(second.provenance).toEqual(first.provenance);
  });

  it('fails NO_ROUTER_LINK for a decision that never ran, and DECISION_NOT_FOUND for an unknown one', async () => {
    const h = harness();
    const id = await makeDecision(h, { execute: false });
    await expect(exportAuditPackage(h.store, id, { clock: h.clock })).rejects.toMatchObject({ code: 'NO_ROUTER_LINK' });
    await expect(exportAuditPackage(h.store, 'dec_nothing', { clock: h.clock })).rejects.toMatchObject({ code: 'DECISION_NOT_FOUND' });
  });
});

describe('exportAuditPackage, embedded mode', () => {
  it('embeds the stored router response as a SPEC §7 router bundle whose digest is the recorded result digest', async () => {
    const { h, id } = await executed();
    const pkg = await exportAuditPackage(h.store, id, { mode: 'embedded', clock: h.clock });
    const resultDigest = pkg.control_bundle.router_link.router_result_digest;
    expect(pkg.router.mode).toBe('embedded');
    const routerBundle = (pkg.router as { bundle: JsonObject }).bundle;
    expect(Object.keys(routerBundle)).toEqual(['run', 'integrity']);
    expect(routerBundle['integrity']).toEqual({ alg: 'sha256', canonical_digest: resultDigest });
    expect(pkg.binding.router_digest).toBe(resultDigest);
    expect(routerBundle['run']).toMatchObject(LOSSY_RESPONSE_EXTRAS);
    expect(verifyAuditPackage(asJson(pkg)).ok).toBe(true);
  });

  it('keeps 1.0, 1e-07, 1e+16 and integers beyond 2^53 exact through the package text', async () => {
    const { h, id } = await executed();
    const text = canonicalJson(asJson(await exportAuditPackage(h.store, id, { mode: 'embedded', clock: h.clock })));
    for (const literal of [
      '"ratio":1.0',
      '"tiny":1e-07',
      '"huge":1e+16',
      '"big_count":9007199254740993',
      '[-0.0,0.5,12345678901234567890]',
    ]) {
      expect(text).toContain(literal);
    }
    const report = verifyAuditPackage(text);
    expect(report.ok).toBe(true);
    // The same text through a lossy parser no longer verifies: the digest sees 1 where 1.0 was.
    expect(
      verifyAuditPackage(JSON.parse(text, (_k, v: unknown) => v) as JsonObject).checks.find((c) => c.name === 'router_digest')?.ok,
    ).toBe(false);
  });

  it('accepts a given router bundle whose digest matches, and refuses one that does not (ROUTER_DIGEST_MISMATCH)', async () => {
    const { h, id } = await executed();
    const stored = (await h.store.getRouterResult(id, (await exportBundle(h.store, id, { clock: h.clock })).router_link.run_id!))!;
    const good = buildRouterBundle(parseJson(stored.responseJson) as JsonObject) as unknown as JsonObject;
    const pkg = await exportAuditPackage(h.store, id, { mode: 'embedded', routerBundle: good, clock: h.clock });
    expect(verifyAuditPackage(asJson(pkg)).ok).toBe(true);

    const otherRun = buildRouterBundle({ run_id: 'run_other', status: 'completed', steps_executed: 1 }) as unknown as JsonObject;
    await expect(exportAuditPackage(h.store, id, { mode: 'embedded', routerBundle: otherRun, clock: h.clock })).rejects.toMatchObject({
      code: 'ROUTER_DIGEST_MISMATCH',
    });
  });

  it('refuses a router bundle that claims the recorded digest but whose content hashes otherwise (SPEC §9)', async () => {
    const { h, id } = await executed();
    const good = asJson((await exportAuditPackage(h.store, id, { mode: 'embedded', clock: h.clock })).router);
    const lying = good['bundle'] as JsonObject;
    (lying['run'] as JsonObject)['steps_executed'] = 99;
    await expect(exportAuditPackage(h.store, id, { mode: 'embedded', routerBundle: lying, clock: h.clock })).rejects.toMatchObject({
      code: 'ROUTER_DIGEST_MISMATCH',
    });
    const noDigest = { run: lying['run'] ?? null };
    await expect(exportAuditPackage(h.store, id, { mode: 'embedded', routerBundle: noDigest, clock: h.clock })).rejects.toMatchObject({
      code: 'ROUTER_DIGEST_MISMATCH',
    });
  });

  it('an imported decision has no stored response: embedding then needs the router bundle', async () => {
    const { h, id } = await executed();
    const source = await exportAuditPackage(h.store, id, { mode: 'embedded', clock: h.clock });
    const target = createMemoryEventStore();
    expect((await importBundle(target, asJson(source.control_bundle))).ok).toBe(true);
    await expect(exportAuditPackage(target, id, { mode: 'embedded', clock: h.clock })).rejects.toMatchObject({ code: 'NO_ROUTER_LINK' });
    const routerBundle = (asJson(source.router) as JsonObject)['bundle'] as JsonObject;
    const pkg = await exportAuditPackage(target, id, { mode: 'embedded', routerBundle, clock: h.clock });
    expect(pkg.integrity).toEqual(source.integrity);
    expect(verifyAuditPackage(asJson(pkg)).ok).toBe(true);
  });
});
