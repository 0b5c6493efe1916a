import { describe, expect, it } from 'vitest';
import { exportAuditPackage, verifyAuditPackage } from '../src/audit/index.js';
import { exportBundle, importBundle, verifyBundle } from '../src/bundle/index.js';
import { canonicalJson } from '../src/json/canonicalJson.js';
import { JsonFloat, isJsonObject, type JsonObject, type JsonValue } from '../src/json/JsonValue.js';
import { formatTimestamp, parseTimestamp } from '../src/time/timestamp.js';
import { ALICE, asJson, BOB, CAROL, cloneJson, harness, makeDecision, REQUESTER, storeState } from './bundleTestKit.js';
import { failedChecks } from './verifyTestKit.js';

/*
 * Systematic tampering: every leaf of a real exported document is changed, one at a time, and
 * the change must be caught by the check responsible for that field. Nothing is hand-picked.
 */

type Path = (string | number)[];

/** Every leaf path of a JSON document (scalars, and empty arrays/objects). */
function leafPaths(value: JsonValue, path: Path = []): Path[] {
  if (Array.isArray(value)) {
    return value.length === 0 ? [path] : value.flatMap((item, i) => leafPaths(item, [...path, i]));
  }
  if (isJsonObject(value)) {
    const keys = Object.keys(value);
    return keys.length === 0 ? [path] : keys.flatMap((key) => leafPaths(value[key] as JsonValue, [...path, key]));
  }
  return [path];
}

const HEX_DIGEST = /^(sha256:)?[0-9a-f]{64}$/;
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/;

/** A different value of the same kind, as a careful forger would write it. */
function mutated(value: JsonValue): JsonValue {
  if (typeof value === 'string') {
    if (HEX_DIGEST.test(value)) return value.slice(0, -1) + (value.endsWith('0') ? '1' : '0');
    if (TIMESTAMP.test(value)) return formatTimestamp(parseTimestamp(value) + 1_000_000);
    return `${value}~`;
  }
  if (typeof value === 'number') return value + 1;
  if (typeof value === 'bigint') return value + 1n;
  if (typeof value === 'boolean') return !value;
  if (value === null) return 'x';
  if (value instanceof JsonFloat) return new JsonFloat(value.value === 0 ? 1 : value.value * 2);
  if (Array.isArray(value)) return ['x'];
  return { x: 1 };
}

function withMutation(document: JsonObject, path: Path): JsonObject {
  const copy = cloneJson(document);
  let node: JsonValue = copy;
  for (const key of path.slice(0, -1)) node = (node as Record<string | number, JsonValue>)[key] as JsonValue;
  const last = path[path.length - 1] as string | number;
  const holder = node as Record<string | number, JsonValue>;
  holder[last] = mutated(holder[last] as JsonValue);
  return copy;
}

/** Fields outside every digest by the formats' own definition (SPEC §5/§6: meta). */
function outsideIntegrity(path: Path): boolean {
  return path[0] === 'meta' || (path[0] === 'control_bundle' && path[1] === 'meta');
}

/** The check(s) responsible for a field of a bundle (digest check named by context). */
function bundleChecksFor(path: Path, digestCheck: string, inPackage: boolean): string[] {
  const [section, field] = path;
  if (section === 'provenance') return ['provenance'];
  if (section === 'integrity') return field === 'canonical_digest' && inPackage ? [digestCheck, 'binding_control_match'] : [digestCheck];
  return [digestCheck];
}

/** The check(s) responsible for a field of an audit package. */
function packageChecksFor(path: Path): string[] {
  const [section, a, b] = path;
  switch (section) {
    case 'package_version':
    case 'integrity':
      return ['binding_digest'];
    case 'provenance':
      return ['provenance'];
    case 'binding':
      return [
        'binding_digest',
        {
          control_digest: 'binding_control_match',
          router_digest: 'binding_router_match',
          control_router_link_digest: 'binding_link_match',
        }[a as string]!,
      ];
    case 'router':
      if (a === 'mode') return ['binding_router_match', 'router_digest'];
      if (a === 'ref') return b === 'run_id' ? ['router_digest'] : ['binding_router_match'];
      if (b === 'integrity')
        return path[3] === 'canonical_digest' ? ['binding_router_match', 'router_digest', 'router_result_match'] : ['router_digest'];
      return ['router_digest'];
    case 'control_bundle':
      return bundleChecksFor(path.slice(1), 'control_bundle_digest', true);
    default:
      throw new Error(`no check is responsible for ${path.join('.')}`);
  }
}

/** A decision with a bit of everything: a template, comments, a revocation, floats in the response. */
async function richDecision() {
  const h = harness();
  await h.control.createTemplate(
    { name: 'payments', description: 'two of three', policy: { minApprovals: 2, labels: ['finance'] } },
    { actor: REQUESTER },
  );
  const id = await makeDecision(h, { templateName: 'payments', approvers: [ALICE, BOB], execute: false });
  await h.control.revoke(id, { reason: 'second thoughts' }, { actor: BOB });
  await h.control.approve(id, { comment: 'covering for bob', expiresAt: '2030-01-01T00:00:00+00:00' }, { actor: CAROL });
  await h.control.execute(id, { adapterId: 'lossy' }, { actor: REQUESTER });
  return { h, id };
}

describe('every single-field change to an exported audit package is caught by the right check', () => {
  for (const mode of ['reference', 'embedded'] as const) {
    it(`${mode} mode: each leaf, changed alone, fails verification naming its check`, async () => {
      const { h, id } = await richDecision();
      const pkg = asJson(await exportAuditPackage(h.store, id, { mode, clock: h.clock }));
      expect(verifyAuditPackage(pkg).ok).toBe(true);
      const paths = leafPaths(pkg);
      expect(paths.length).toBeGreaterThan(100);
      let checked = 0;
      for (const path of paths) {
        const tampered = withMutation(pkg, path);
        const report = verifyAuditPackage(canonicalJson(tampered));
        if (outsideIntegrity(path)) {
          expect(report.ok, path.join('.')).toBe(true);
          continue;
        }
        expect(report.ok, path.join('.')).toBe(false);
        const expected = packageChecksFor(path).filter((name) => mode === 'embedded' || name !== 'router_result_match');
        expect(failedChecks(report), path.join('.')).toEqual(expect.arrayContaining(expected));
        checked++;
      }
      expect(checked).toBeGreaterThan(100);
    });
  }
});

describe('every single-field change to an exported bundle', () => {
  it('fails verifyBundle naming its check', async () => {
    const { h, id } = await richDecision();
    const bundle = asJson(await exportBundle(h.store, id, { clock: h.clock }));
    for (const path of leafPaths(bundle)) {
      const report = verifyBundle(withMutation(bundle, path));
      if (path[0] === 'meta') {
        expect(report.ok).toBe(true);
        continue;
      }
      expect(report.ok, path.join('.')).toBe(false);
      expect(failedChecks(report), path.join('.')).toEqual(expect.arrayContaining(bundleChecksFor(path, 'bundle_digest', false)));
    }
  });

  it('makes the import fail and write nothing, in every conflict mode', async () => {
    const { h, id } = await richDecision();
    const bundle = asJson(await exportBundle(h.store, id, { clock: h.clock }));
    // Import checks what the digest covers; provenance and meta are descriptive.
    const paths = leafPaths(bundle).filter((path) => path[0] !== 'meta' && path[0] !== 'provenance');
    const before = await storeState(h.store);
    for (const path of paths) {
      const tampered = withMutation(bundle, path);
      for (const conflictMode of ['overwrite', 'new_decision_id', 'reject_on_conflict']) {
        const result = await importBundle(h.store, canonicalJson(tampered), { conflictMode });
        expect(result.ok, `${path.join('.')} (${conflictMode})`).toBe(false);
      }
    }
    expect(await storeState(h.store)).toBe(before);
  });
});
