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
import { NexusError, canonicalJson, exportAuditPackage, type JsonValue } from '@nexus-control/core';
import { parseObject } from '../../documents/documentTasks.js';
import type { RpcRuntime } from '../createRpcRuntime.js';
import type { ServerDeps } from '../ServerDeps.js';

export function auditService(rpc: RpcRuntime, { store, clock, documents }: ServerDeps): AuditServiceServer {
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
      if (req.routerBundleJson !== undefined) {
        // A large router bundle is parsed off the event loop first; refused there, it never reaches it.
        await documents.run('checkRouterBundle', { routerBundleJson: req.routerBundleJson }, req.routerBundleJson.length);
      }
      const pkg = await exportAuditPackage(store, req.decisionId, {
        mode,
        clock,
        ...(req.routerBundleJson === undefined ? {} : { routerBundle: parseObject(req.routerBundleJson, 'INVALID_ARGUMENT', 'router_bundle_json') }),
      });
      return { packageJson: canonicalJson(pkg as unknown as JsonValue), bindingDigest: pkg.integrity.binding_digest };
    }),

    verifyAuditPackage: rpc.unary<VerifyAuditPackageRequest, VerifyAuditPackageResponse>('AuditService/VerifyAuditPackage', async (req) => {
      const report = await documents.run('verifyAuditPackage', { packageJson: req.packageJson, publicKeys: req.publicKeys }, req.packageJson.length);
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
      documents.run('attachAttestation', { packageJson: req.packageJson, attestationJson: req.attestationJson }, req.packageJson.length + req.attestationJson.length),
    ),
  };
}
