import {
  attachAttestation,
  canonicalJson,
  createMemoryEventStore,
  importBundle,
  isJsonObject,
  isPrefixedDigest,
  isNexusError,
  NexusError,
  parseJson,
  prefixDigest,
  routerBundleContentDigest,
  verifyAttestation,
  verifyAuditPackage,
  type Attestation,
  type ErrorCode,
  type JsonObject,
  type JsonValue,
  type VerificationReport,
} from '@nexus-control/core';

/*
 * The document work of the API that grows with a client's document: pure functions of the
 * request, with plain results, so that large documents can run in a process of their own
 * (createDocumentRunner) while the event loop keeps serving everyone else.
 */

export interface DocumentTasks {
  verifyAuditPackage(input: { packageJson: string; publicKeys: readonly string[] }): VerificationReport;
  /** Runs every check of an import on a throwaway store; the real import follows on the caller's store. */
  checkImport(input: {
    bundleJson: string;
    conflictMode: string;
    replayAfterImport: boolean;
  }): Promise<{ ok: true } | { ok: false; code: ErrorCode; message: string }>;
  attachAttestation(input: { packageJson: string; attestationJson: string }): { packageJson: string };
  /** Parses a router bundle; says which digest it claims and whether its content hashes to it. */
  checkRouterBundle(input: { routerBundleJson: string }): { claimedDigest: string | null; consistent: boolean };
}

export function parseObject(text: string, code: ErrorCode, what: string): JsonObject {
  let value: JsonValue;
  try {
    value = parseJson(text);
  } catch (error) {
    throw new NexusError(code, `${what} is not valid JSON: ${(error as Error).message}`, isNexusError(error) ? error.details : {});
  }
  if (!isJsonObject(value)) throw new NexusError(code, `${what} must be a JSON object`);
  return value;
}

export const documentTasks: DocumentTasks = {
  verifyAuditPackage({ packageJson, publicKeys }) {
    return verifyAuditPackage(packageJson, publicKeys.length === 0 ? {} : { publicKeys });
  },

  async checkImport({ bundleJson, conflictMode, replayAfterImport }) {
    // The throwaway store is empty: a conflict cannot happen there, every other check can.
    const mode = conflictMode === 'overwrite' ? 'reject_on_conflict' : conflictMode;
    const result = await importBundle(createMemoryEventStore(), bundleJson, { conflictMode: mode, replayAfterImport });
    return result.ok ? { ok: true } : { ok: false, code: result.error_code, message: result.error };
  },

  attachAttestation({ packageJson, attestationJson }) {
    const pkg = parseObject(packageJson, 'PACKAGE_INVALID_SCHEMA', 'the audit package');
    const attestation = parseObject(attestationJson, 'INVALID_ARGUMENT', 'the attestation');
    const integrity = pkg['integrity'];
    const bindingDigest =
      isJsonObject(integrity) && typeof integrity['binding_digest'] === 'string' ? integrity['binding_digest'] : undefined;
    if (bindingDigest === undefined) throw new NexusError('PACKAGE_INVALID_SCHEMA', 'the audit package has no integrity.binding_digest');
    const check = verifyAttestation(attestation, bindingDigest);
    if (!check.ok) throw new NexusError('INTEGRITY_MISMATCH', `the attestation does not verify: ${check.detail}`);
    return { packageJson: canonicalJson(attachAttestation(pkg, attestation as unknown as Attestation)) };
  },

  checkRouterBundle({ routerBundleJson }) {
    const bundle = parseObject(routerBundleJson, 'INVALID_ARGUMENT', 'router_bundle_json');
    const integrity = bundle['integrity'];
    const claimed = isJsonObject(integrity) && isPrefixedDigest(integrity['canonical_digest']) ? integrity['canonical_digest'] : null;
    let consistent = false;
    try {
      consistent = claimed !== null && prefixDigest(routerBundleContentDigest(bundle).hex) === claimed;
    } catch {
      consistent = false;
    }
    return { claimedDigest: claimed, consistent };
  },
};
