import type { JsonValue } from '../json/JsonValue.js';
import { addBundleDeepChecks, addBundleDigestCheck, analyzeBundle, bundleProvenanceProblems } from './bundleChecks.js';
import { createCheckList } from './checkList.js';
import { parseDocument } from './parseInput.js';
import type { DecisionBundle, VerificationReport } from './types.js';

/**
 * Verifies a bare v0.5 bundle offline: its digest, then every deeper check (event digests,
 * sequence, identity, link digest, replayed status, derived sections, provenance, schema).
 * Never short-circuits. Throws BUNDLE_INVALID_SCHEMA only when the input is not a JSON object.
 */
export function verifyBundle(input: string | DecisionBundle | JsonValue): VerificationReport {
  const bundle = parseDocument(input as string | JsonValue, 'BUNDLE_INVALID_SCHEMA', 'the bundle');
  const analysis = analyzeBundle(bundle);
  const checks = createCheckList();
  addBundleDigestCheck(checks, 'bundle_digest', analysis);
  addBundleDeepChecks(checks, analysis);
  checks.run('provenance', () => {
    const problems = bundleProvenanceProblems(analysis);
    return problems.length === 0
      ? { ok: true, detail: 'the provenance record is the one the export derives' }
      : { ok: false, detail: problems.join('; ') };
  });
  checks.run('schema', () =>
    analysis.schemaProblems.length === 0
      ? { ok: true, detail: 'every field has the v0.5 shape' }
      : {
          ok: false,
          detail:
            analysis.schemaProblems.slice(0, 10).join('; ') +
            (analysis.schemaProblems.length > 10 ? `; …and ${analysis.schemaProblems.length - 10} more` : ''),
        },
  );
  return checks.report('bundle');
}
