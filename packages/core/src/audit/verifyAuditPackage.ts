import { keyIdOf } from '../attestation/keys.js';
import { verifyAttestation } from '../attestation/verifyAttestation.js';
import {
  addBundleDeepChecks,
  addBundleDigestCheck,
  analyzeBundle,
  bundleProvenanceProblems,
  provenanceProblems,
} from '../bundle/bundleChecks.js';
import { createCheckList, show } from '../bundle/checkList.js';
import { bindingDigest, provenanceRecord } from '../bundle/digests.js';
import { parseDocument } from '../bundle/parseInput.js';
import { AUDIT_EXPORT_METHOD_ID, PACKAGE_VERSION, type AuditPackage, type VerificationReport } from '../bundle/types.js';
import { isPrefixedDigest, prefixDigest, unprefixDigest } from '../json/digest.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../json/JsonValue.js';
import { routerBundleContentDigest } from './routerBundle.js';

export interface VerifyAuditPackageOptions {
  /**
   * Public keys (PEM, or base64 of the raw key) whose attestations are required. When given
   * (non-empty), each must have signed the package, and an attestation by any other key fails.
   */
  readonly publicKeys?: readonly string[];
}

function objectAt(value: JsonValue | undefined): JsonObject {
  return isJsonObject(value) ? value : {};
}

function packageSchemaProblems(pkg: JsonObject): string[] {
  const problems: string[] = [];
  if (pkg['package_version'] !== PACKAGE_VERSION)
    problems.push(`package_version must be "${PACKAGE_VERSION}", got ${show(pkg['package_version'])}`);
  if (!isJsonObject(pkg['control_bundle'])) problems.push('control_bundle must be an object');
  const router = pkg['router'];
  if (!isJsonObject(router)) {
    problems.push('router must be an object');
  } else if (router['mode'] === 'reference') {
    const ref = router['ref'];
    if (!isJsonObject(ref) || typeof ref['run_id'] !== 'string' || typeof ref['digest'] !== 'string') {
      problems.push('router.ref must be {run_id, digest} strings');
    }
  } else if (router['mode'] === 'embedded') {
    if (!isJsonObject(router['bundle'])) problems.push('router.bundle must be an object');
  } else {
    problems.push(`router.mode must be "reference" or "embedded", got ${show(router['mode'])}`);
  }
  const binding = pkg['binding'];
  if (!isJsonObject(binding)) problems.push('binding must be an object');
  else {
    for (const key of ['control_digest', 'router_digest', 'control_router_link_digest']) {
      if (!isPrefixedDigest(binding[key])) problems.push(`binding.${key} must be "sha256:" + 64 hex digits`);
    }
  }
  const integrity = pkg['integrity'];
  if (!isJsonObject(integrity) || !isPrefixedDigest(integrity['binding_digest']))
    problems.push('integrity.binding_digest must be "sha256:" + 64 hex digits');
  if (pkg['attestations'] !== undefined && !Array.isArray(pkg['attestations'])) problems.push('attestations must be an array');
  return problems;
}

/**
 * Verifies an audit package offline (SPEC §6): the six named checks of the reference, then
 * the deeper ones (event digests, sequence, identity, link digest, replayed status, derived
 * sections, embedded router result, provenance, schema) and one check per attestation
 * (SPEC §8). Never short-circuits. Throws PACKAGE_INVALID_SCHEMA only when the input is not
 * a JSON object, and SIGNING_KEY_INVALID for an unusable public key.
 */
export function verifyAuditPackage(input: string | AuditPackage | JsonValue, options: VerifyAuditPackageOptions = {}): VerificationReport {
  const trusted =
    options.publicKeys === undefined || options.publicKeys.length === 0 ? undefined : options.publicKeys.map((key) => keyIdOf(key));
  const pkg = parseDocument(input as string | JsonValue, 'PACKAGE_INVALID_SCHEMA', 'the audit package');
  const cb = analyzeBundle(pkg['control_bundle']);
  const binding = objectAt(pkg['binding']);
  const integrity = objectAt(pkg['integrity']);
  const router = objectAt(pkg['router']);
  const routerMode = router['mode'];
  const embedded = routerMode === 'embedded' ? objectAt(router['bundle']) : undefined;
  const ref = routerMode === 'reference' ? objectAt(router['ref']) : undefined;
  const bundleDigestClaim = cb.integrity['canonical_digest'];
  const bundleLink = objectAt(cb.bundle['router_link']);
  const checks = createCheckList();

  const recomputedBinding = prefixDigest(
    bindingDigest(
      pkg['package_version'] ?? null,
      binding['control_digest'] ?? null,
      binding['router_digest'] ?? null,
      binding['control_router_link_digest'] ?? null,
    ),
  );

  // 1–6: the reference's checks, by name and in order.
  checks.run('binding_digest', () => {
    const claimed = integrity['binding_digest'];
    const alg = integrity['alg'];
    if (alg !== 'sha256')
      return { ok: false, detail: `integrity.alg must be "sha256", got ${show(alg)}`, expected: show(claimed), actual: recomputedBinding };
    return {
      ok: typeof claimed === 'string' && unprefixDigest(claimed) === unprefixDigest(recomputedBinding),
      detail: 'recomputed the binding digest from package_version and the binding fields',
      expected: show(claimed),
      actual: recomputedBinding,
    };
  });

  addBundleDigestCheck(checks, 'control_bundle_digest', cb);

  checks.add(
    'binding_control_match',
    typeof bundleDigestClaim === 'string' && binding['control_digest'] === bundleDigestClaim,
    "binding.control_digest must be the control bundle's integrity.canonical_digest",
    show(bundleDigestClaim),
    show(binding['control_digest']),
  );

  const sectionDigest = embedded !== undefined ? objectAt(embedded['integrity'])['canonical_digest'] : ref?.['digest'];
  checks.add(
    'binding_router_match',
    typeof sectionDigest === 'string' && binding['router_digest'] === sectionDigest,
    embedded !== undefined
      ? "binding.router_digest must be the embedded router bundle's integrity.canonical_digest"
      : ref !== undefined
        ? 'binding.router_digest must be router.ref.digest'
        : `router.mode ${show(routerMode)} names no router section`,
    show(sectionDigest),
    show(binding['router_digest']),
  );

  const linkClaim = bundleLink['control_router_link_digest'];
  checks.add(
    'binding_link_match',
    typeof linkClaim === 'string' && binding['control_router_link_digest'] === linkClaim,
    "binding.control_router_link_digest must be the control bundle's router_link.control_router_link_digest",
    show(linkClaim),
    show(binding['control_router_link_digest']),
  );

  checks.run('router_digest', () => {
    if (embedded !== undefined) {
      const routerIntegrity = objectAt(embedded['integrity']);
      const claimed = routerIntegrity['canonical_digest'];
      const content = routerBundleContentDigest(embedded);
      const alg = routerIntegrity['alg'];
      if (alg !== undefined && alg !== 'sha256') {
        return {
          ok: false,
          detail: `the router bundle's integrity.alg must be "sha256", got ${show(alg)}`,
          expected: show(claimed),
          actual: prefixDigest(content.hex),
        };
      }
      return {
        ok: typeof claimed === 'string' && unprefixDigest(claimed) === content.hex,
        detail: `recomputed the embedded router bundle digest from its content (${content.covers})`,
        expected: show(claimed),
        actual: prefixDigest(content.hex),
      };
    }
    if (ref !== undefined) {
      const wellFormed = isPrefixedDigest(ref['digest']);
      const runMatches = typeof ref['run_id'] === 'string' && ref['run_id'] === bundleLink['run_id'];
      return {
        ok: wellFormed && runMatches,
        detail: !wellFormed
          ? 'router.ref.digest must be "sha256:" + 64 hex digits'
          : "router.ref.digest is well formed; router.ref.run_id must be the control bundle's router_link.run_id",
        expected: show(bundleLink['run_id']),
        actual: show(ref['run_id']),
      };
    }
    return { ok: false, detail: `router.mode must be "reference" or "embedded", got ${show(routerMode)}` };
  });

  // Deeper checks.
  addBundleDeepChecks(checks, cb);

  if (embedded !== undefined) {
    checks.run('router_result_match', () => {
      const claimed = objectAt(embedded['integrity'])['canonical_digest'];
      const recorded = bundleLink['router_result_digest'];
      return {
        ok: typeof claimed === 'string' && claimed === recorded,
        detail: "the embedded router bundle's digest must be the result digest the control bundle recorded",
        expected: show(recorded),
        actual: show(claimed),
      };
    });
  }

  checks.run('provenance', () => {
    const problems = bundleProvenanceProblems(cb).map((p) => `control_bundle: ${p}`);
    const claimed = integrity['binding_digest'];
    if (cb.decisionId === undefined || typeof claimed !== 'string') {
      problems.push('package provenance cannot be derived without decision_id and integrity.binding_digest');
    } else {
      const expected = provenanceRecord(AUDIT_EXPORT_METHOD_ID, cb.decisionId, 'audit_package', unprefixDigest(claimed));
      problems.push(...provenanceProblems('package', pkg['provenance'], expected as unknown as JsonObject));
    }
    return problems.length === 0
      ? { ok: true, detail: 'the provenance records are the ones the exports derive' }
      : { ok: false, detail: problems.join('; ') };
  });

  checks.run('schema', () => {
    const problems = [...packageSchemaProblems(pkg), ...cb.schemaProblems.map((p) => `control_bundle.${p}`)];
    return problems.length === 0
      ? { ok: true, detail: 'every field has the v0.6 / v0.5 shape' }
      : { ok: false, detail: problems.slice(0, 10).join('; ') + (problems.length > 10 ? `; …and ${problems.length - 10} more` : '') };
  });

  // Attestations (SPEC §8): one check each, then one per required key.
  const attestations = Array.isArray(pkg['attestations']) ? pkg['attestations'] : [];
  const trustedSet = trusted === undefined ? undefined : new Set(trusted);
  const validBy = new Set<string>();
  attestations.forEach((attestation, i) => {
    const result = verifyAttestation(attestation, recomputedBinding, trustedSet);
    if (result.ok && result.keyId !== undefined) validBy.add(result.keyId);
    checks.add(`attestation[${i}]:${result.keyId ?? '?'}`, result.ok, result.detail);
  });
  for (const keyId of trusted ?? []) {
    checks.add(
      `attestation_required:${keyId}`,
      validBy.has(keyId),
      validBy.has(keyId) ? `the package carries a valid attestation by ${keyId}` : `the package carries no valid attestation by ${keyId}`,
    );
  }

  return checks.report('audit_package');
}
