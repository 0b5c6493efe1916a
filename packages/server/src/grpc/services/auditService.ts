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
import {
  NexusError,
  attachAttestation,
  canonicalJson,
  exportAuditPackage,
  isJsonObject,
  parseJson,
  verifyAttestation,
  verifyAuditPackage,
  type Attestation,
  type JsonObject,
  type JsonValue,
} from '@nexus-control/core';
import type { RpcRuntime } from '../createRpcRuntime.js';
import type { ServerDeps } from '../ServerDeps.js';

function parseObject(text: string, code: 'INVALID_ARGUMENT' | 'PACKAGE_INVALID_SCHEMA', what: string): JsonObject {
  let value: JsonValue;
  try {
    value = parseJson(text);
  } catch (error) {
    throw new NexusError(code, `${what} is not valid JSON: ${(error as Error).message}`);
  }
  if (!isJsonObject(value)) throw new NexusError(code, `${what} must be a JSON object`);
  return value;
}

export function auditService(rpc: RpcRuntime, { store, clock }: ServerDeps): AuditServiceServer {
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
      const pkg = await exportAuditPackage(store, req.decisionId, {
        mode,
        clock,
        ...(req.routerBundleJson === undefined ? {} : { routerBundle: parseObject(req.routerBundleJson, 'INVALID_ARGUMENT', 'router_bundle_json') }),
      });
      return { packageJson: canonicalJson(pkg as unknown as JsonValue), bindingDigest: pkg.integrity.binding_digest };
    }),

    verifyAuditPackage: rpc.unary<VerifyAuditPackageRequest, VerifyAuditPackageResponse>('AuditService/VerifyAuditPackage', async (req) => {
      const report = verifyAuditPackage(req.packageJson, req.publicKeys.length === 0 ? {} : { publicKeys: req.publicKeys });
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

    attachAttestation: rpc.unary<AttachAttestationRequest, AttachAttestationResponse>('AuditService/AttachAttestation', async (req) => {
      const pkg = parseObject(req.packageJson, 'PACKAGE_INVALID_SCHEMA', 'the audit package');
      const attestation = parseObject(req.attestationJson, 'INVALID_ARGUMENT', 'the attestation');
      const integrity = pkg['integrity'];
      const bindingDigest = isJsonObject(integrity) && typeof integrity['binding_digest'] === 'string' ? integrity['binding_digest'] : undefined;
      if (bindingDigest === undefined) throw new NexusError('PACKAGE_INVALID_SCHEMA', 'the audit package has no integrity.binding_digest');
      const check = verifyAttestation(attestation, bindingDigest);
      if (!check.ok) throw new NexusError('INTEGRITY_MISMATCH', `the attestation does not verify: ${check.detail}`);
      const signed = attachAttestation(pkg, attestation as unknown as Attestation);
      return { packageJson: canonicalJson(signed) };
    }),
  };
}
