import { exportBundle } from '../bundle/exportBundle.js';
import { bindingDigest, provenanceRecord } from '../bundle/digests.js';
import { AUDIT_EXPORT_METHOD_ID, PACKAGE_VERSION, type AuditPackage, type AuditRouterSection } from '../bundle/types.js';
import { NexusError } from '../errors/NexusError.js';
import { isPrefixedDigest, prefixDigest, sha256Hex, unprefixDigest } from '../json/digest.js';
import { isJsonObject, type JsonObject } from '../json/JsonValue.js';
import { parseJson } from '../json/parseJson.js';
import type { EventStore } from '../store/EventStore.js';
import type { Clock } from '../time/Clock.js';
import { buildRouterBundle, routerBundleContentDigest } from './routerBundle.js';

export interface ExportAuditPackageOptions {
  /** `reference` (default): run id and result digest; `embedded`: the full router bundle. */
  readonly mode?: 'reference' | 'embedded';
  /** Embedded mode: the router bundle to embed; default: built from the stored router result. */
  readonly routerBundle?: JsonObject;
  readonly clock: Clock;
}

/**
 * Exports a v0.6 audit package binding the control bundle, the router result and their link
 * (SPEC §6). NO_ROUTER_LINK unless the latest execution has a run id and a result digest;
 * ROUTER_DIGEST_MISMATCH when an embedded router bundle does not hash to the recorded result.
 */
export async function exportAuditPackage(store: EventStore, decisionId: string, options: ExportAuditPackageOptions): Promise<AuditPackage> {
  const mode = options.mode ?? 'reference';
  if (mode !== 'reference' && mode !== 'embedded') {
    throw new NexusError('INVALID_ARGUMENT', `mode must be 'reference' or 'embedded', not '${String(mode)}'`);
  }
  const control = await exportBundle(store, decisionId, { clock: options.clock });
  const link = control.router_link;
  if (link.run_id === undefined || link.control_router_link_digest === undefined) {
    throw new NexusError('NO_ROUTER_LINK', `decision ${decisionId} has no router run: only an executed decision can be packaged`, {
      decisionId,
    });
  }
  if (link.router_result_digest === undefined) {
    throw new NexusError('NO_ROUTER_LINK', `the latest run of decision ${decisionId} recorded no router result digest`, { decisionId });
  }
  const runId = link.run_id;
  const resultDigest = link.router_result_digest;

  let router: AuditRouterSection;
  let routerDigest: string;
  if (mode === 'reference') {
    router = { mode: 'reference', ref: { run_id: runId, digest: resultDigest } };
    routerDigest = resultDigest;
  } else {
    let bundle: JsonObject;
    if (options.routerBundle !== undefined) {
      bundle = options.routerBundle;
    } else {
      const stored = await store.getRouterResult(decisionId, runId);
      if (!stored) {
        throw new NexusError('NO_ROUTER_LINK', `no router result is stored for run ${runId}; pass the router bundle to embed`, {
          decisionId,
          runId,
        });
      }
      if (sha256Hex(stored.responseJson) !== unprefixDigest(resultDigest)) {
        throw new NexusError('ROUTER_DIGEST_MISMATCH', `the stored router result of run ${runId} does not hash to ${resultDigest}`, {
          decisionId,
          runId,
        });
      }
      const response = parseJson(stored.responseJson);
      if (!isJsonObject(response))
        throw new NexusError('ROUTER_DIGEST_MISMATCH', `the stored router result of run ${runId} is not an object`);
      bundle = buildRouterBundle(response, stored.responseJson) as unknown as JsonObject;
    }
    const integrity = bundle['integrity'];
    const claimed = isJsonObject(integrity) ? integrity['canonical_digest'] : undefined;
    if (!isPrefixedDigest(claimed)) {
      throw new NexusError('ROUTER_DIGEST_MISMATCH', 'the router bundle has no integrity.canonical_digest', { decisionId });
    }
    if (claimed !== resultDigest) {
      throw new NexusError(
        'ROUTER_DIGEST_MISMATCH',
        `the router bundle digest ${claimed} is not the recorded result digest ${resultDigest}`,
        {
          decisionId,
          expected: resultDigest,
          actual: claimed,
        },
      );
    }
    const content = routerBundleContentDigest(bundle);
    if (prefixDigest(content.hex) !== claimed) {
      throw new NexusError(
        'ROUTER_DIGEST_MISMATCH',
        `the router bundle content (${content.covers}) hashes to sha256:${content.hex}, not ${claimed}`,
        {
          decisionId,
        },
      );
    }
    router = { mode: 'embedded', bundle };
    routerDigest = claimed;
  }

  const binding = {
    control_digest: control.integrity.canonical_digest,
    router_digest: routerDigest,
    control_router_link_digest: link.control_router_link_digest,
  };
  const raw = bindingDigest(PACKAGE_VERSION, binding.control_digest, binding.router_digest, binding.control_router_link_digest);
  return {
    package_version: PACKAGE_VERSION,
    control_bundle: control,
    router,
    binding,
    integrity: { alg: 'sha256', binding_digest: prefixDigest(raw) },
    provenance: { records: [provenanceRecord(AUDIT_EXPORT_METHOD_ID, decisionId, 'audit_package', raw)] },
    meta: { exported_at: control.meta.exported_at },
  };
}
