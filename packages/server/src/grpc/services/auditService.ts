import {
  RouterMode,
  routerModeNames,
  type AttachAttestationRequest,
  type AttachAttestationResponse,
  type AuditServiceServer,
  type ExportAuditPackageRequest,
  type ExportAuditPackageResponse,
  type VerifyAuditPackageRequest,
  type VerifyAuditPackageResponse,
} from '@nexus-control/client';
import { NexusError, canonicalJson, exportAuditPackage, prefixDigest, type JsonObject, type JsonValue } from '@nexus-control/core';
import { parseObject } from '../../documents/documentTasks.js';
import type { RpcRuntime } from '../createRpcRuntime.js';
import type { ServerDeps } from '../ServerDeps.js';

export function auditService(rpc: RpcRuntime, { nexus, store, clock, documents }: ServerDeps): AuditServiceServer {
  return {
    exportAuditPackage: rpc.unary<ExportAuditPackageRequest, ExportAuditPackageResponse>('AuditService/ExportAuditPackage', async (req) => {
      let mode: 'reference' | 'embedded' = 'reference';
      if (req.mode !== RouterMode.ROUTER_MODE_UNSPECIFIED) {
        const named = routerModeNames.toSpec(req.mode);
        if (named === undefined) throw new NexusError('INVALID_ARGUMENT', `unknown router mode ${req.mode}`, { field: 'mode' });
        mode = named;
      }
      if (req.routerBundleJson !== undefined && mode !== 'embedded') {
        throw new NexusError('INVALID_ARGUMENT', 'router_bundle_json is only used in embedded mode', { field: 'router_bundle_json' });
      }
      let routerBundle: JsonObject | undefined;
      if (req.routerBundleJson !== undefined) {
        // A router bundle is parsed and hashed off the event loop first. Only one that hashes to
        // the result this decision recorded (bounded by what its adapter returned) is parsed
        // again here; anything else is refused without stalling other callers.
        const check = await documents.run('checkRouterBundle', { routerBundleJson: req.routerBundleJson }, req.routerBundleJson.length);
        const latest = (await nexus.getDecision(req.decisionId)).executions.at(-1);
        const recorded = latest?.runId && latest.responseDigest ? prefixDigest(latest.responseDigest) : undefined;
        if (recorded === undefined) {
          // Nothing to embed into: the export fails with NO_ROUTER_LINK before reading the bundle.
          routerBundle = {};
        } else if (!check.consistent || check.claimedDigest !== recorded) {
          throw new NexusError('ROUTER_DIGEST_MISMATCH', `the router bundle does not hash to the recorded result digest ${recorded}`, {
            decisionId: req.decisionId,
            expected: recorded,
            ...(check.claimedDigest === null ? {} : { actual: check.claimedDigest }),
          });
        } else {
          routerBundle = parseObject(req.routerBundleJson, 'INVALID_ARGUMENT', 'router_bundle_json');
        }
      }
      const pkg = await exportAuditPackage(store, req.decisionId, { mode, clock, ...(routerBundle === undefined ? {} : { routerBundle }) });
      return { packageJson: canonicalJson(pkg as unknown as JsonValue), bindingDigest: pkg.integrity.binding_digest };
    }),

    verifyAuditPackage: rpc.unary<VerifyAuditPackageRequest, VerifyAuditPackageResponse>('AuditService/VerifyAuditPackage', async (req) => {
      const report = await documents.run(
        'verifyAuditPackage',
        { packageJson: req.packageJson, publicKeys: req.publicKeys },
        req.packageJson.length,
      );
      return {
        ok: report.ok,
        checks: report.checks.map((check) => ({
          name: check.name,
          ok: check.ok,
          detail: check.detail,
          ...(check.expected === undefined ? {} : { expected: check.expected }),
          ...(check.actual === undefined ? {} : { actual: check.actual }),
        })),
        passed: report.passed,
        failed: report.failed,
        total: report.total,
      };
    }),

    attachAttestation: rpc.unary<AttachAttestationRequest, AttachAttestationResponse>('AuditService/AttachAttestation', async (req) =>
      documents.run(
        'attachAttestation',
        { packageJson: req.packageJson, attestationJson: req.attestationJson },
        req.packageJson.length + req.attestationJson.length,
      ),
    ),
  };
}
