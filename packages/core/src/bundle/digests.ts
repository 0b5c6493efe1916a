import { canonicalJson } from '../json/canonicalJson.js';
import { sha256Hex } from '../json/digest.js';
import type { JsonValue } from '../json/JsonValue.js';
import type { ProvenanceRecord } from './types.js';

/**
 * SPEC §5 control–router link digest (raw hex): proves this decision authorized that run.
 * The two inner digests are raw (unprefixed); absent ones are `null`.
 */
export function routerLinkDigest(
  decisionId: JsonValue,
  runId: JsonValue,
  routerRequestDigest: JsonValue,
  routerResultDigest: JsonValue,
): string {
  return sha256Hex(
    canonicalJson({
      decision_id: decisionId,
      run_id: runId,
      router_request_digest: routerRequestDigest,
      router_result_digest: routerResultDigest,
    }),
  );
}

/** SPEC §6 binding digest (raw hex) over the three prefixed digests and the package version. */
export function bindingDigest(
  packageVersion: JsonValue,
  controlDigest: JsonValue,
  routerDigest: JsonValue,
  controlRouterLinkDigest: JsonValue,
): string {
  return sha256Hex(
    canonicalJson({
      package_version: packageVersion,
      control_digest: controlDigest,
      router_digest: routerDigest,
      control_router_link_digest: controlRouterLinkDigest,
    }),
  );
}

/** `prov_` + the first 12 hex digits of SHA-256 of `"<decision_id>:<raw digest>"`. */
export function provenanceId(decisionId: string, rawDigest: string): string {
  return `prov_${sha256Hex(`${decisionId}:${rawDigest}`).slice(0, 12)}`;
}

/** The single deterministic provenance record an export writes. */
export function provenanceRecord(methodId: string, decisionId: string, outputKind: string, rawDigest: string): ProvenanceRecord {
  return {
    prov_id: provenanceId(decisionId, rawDigest),
    method_id: methodId,
    inputs: [`decision:${decisionId}`],
    outputs: [`${outputKind}:sha256:${rawDigest}`],
  };
}
