import {
  ConflictMode,
  conflictModeNames,
  type BundleServiceServer,
  type ExportBundleRequest,
  type ExportBundleResponse,
  type ImportBundleRequest,
  type ImportBundleResponse,
} from '@nexus-control/client';
import { NexusError, canonicalJson, exportBundle, importBundle, type ErrorCode, type JsonValue } from '@nexus-control/core';
import type { RpcRuntime } from '../createRpcRuntime.js';
import type { ServerDeps } from '../ServerDeps.js';

/** Bundles below this size are checked by the import itself: a worker would cost more. */
const IMPORT_PRECHECK_MIN_CHARS = 256 * 1024;

export function bundleService(rpc: RpcRuntime, { store, clock, documents }: ServerDeps): BundleServiceServer {
  return {
    exportBundle: rpc.unary<ExportBundleRequest, ExportBundleResponse>('BundleService/ExportBundle', async (req) => {
      const bundle = await exportBundle(store, req.decisionId, { clock });
      return { bundleJson: canonicalJson(bundle as unknown as JsonValue), canonicalDigest: bundle.integrity.canonical_digest };
    }),

    importBundle: rpc.unary<ImportBundleRequest, ImportBundleResponse>('BundleService/ImportBundle', async (req, ctx) => {
      // An unknown enum value is passed on by name so the domain reports CONFLICT_MODE_INVALID.
      const conflictMode =
        req.conflictMode === ConflictMode.CONFLICT_MODE_UNSPECIFIED
          ? 'reject_on_conflict'
          : (conflictModeNames.toSpec(req.conflictMode) ?? `unknown conflict mode ${req.conflictMode}`);
      const replayAfterImport = req.replayAfterImport ?? true;
      if (req.bundleJson.length > IMPORT_PRECHECK_MIN_CHARS) {
        // Every check but the conflict runs first off the event loop, so a large hostile bundle
        // is refused without stalling other callers; what passes is imported for real below.
        const check = await documents.run(
          'checkImport',
          { bundleJson: req.bundleJson, conflictMode, replayAfterImport },
          req.bundleJson.length,
        );
        if (!check.ok) throw new NexusError(check.code, check.message);
      }
      const result = await importBundle(store, req.bundleJson, { conflictMode, replayAfterImport });
      if (!result.ok) throw new NexusError(result.error_code as ErrorCode, result.error);
      ctx.decisionId = result.imported.decision_id;
      return {
        decisionId: result.imported.decision_id,
        eventsImported: result.imported.events_imported,
        ...(result.imported.original_decision_id === undefined ? {} : { originalDecisionId: result.imported.original_decision_id }),
        ...(result.imported.new_decision_id === undefined ? {} : { newDecisionId: result.imported.new_decision_id }),
        digestVerified: result.digest_verified,
        conflictMode: conflictModeNames.fromSpec(result.conflict_mode) ?? ConflictMode.UNRECOGNIZED,
        replayRan: result.replay_ran,
        resultJson: canonicalJson(result as unknown as JsonValue),
      };
    }),
  };
}
