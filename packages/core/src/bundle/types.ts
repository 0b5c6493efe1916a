import type { JsonObject } from '../json/JsonValue.js';

/** SPEC §5: the decision bundle format version this code reads and writes. */
export const BUNDLE_VERSION = '0.5';
/** SPEC §6: the audit package format version. */
export const PACKAGE_VERSION = '0.6';

export const BUNDLE_EXPORT_METHOD_ID = 'nexus-control.export_v0_5';
export const AUDIT_EXPORT_METHOD_ID = 'nexus-control.audit_export_v0_6';

/** Bundle statuses are the replayed state, uppercase. */
export type BundleStatus = 'DRAFT' | 'PENDING_APPROVAL' | 'APPROVED' | 'EXECUTING' | 'COMPLETED' | 'FAILED';

export type BundleDecision = {
  decision_id: string;
  goal: string;
  mode: string;
  /** The first event's `ts`. */
  created_at: string;
  status: BundleStatus;
};

export type BundleActor = {
  type: string;
  id: string;
};

export type BundleEvent = {
  event_id: string;
  decision_id: string;
  seq: number;
  type: string;
  payload: JsonObject;
  ts: string;
  actor: BundleActor;
  /** Raw hex event digest (SPEC §1). */
  digest: string;
};

export type BundleTemplateSnapshot =
  | { present: false }
  | {
      present: true;
      name: string;
      /** Prefixed template digest. */
      digest: string;
      snapshot: JsonObject | null;
      overrides: JsonObject | null;
    };

/** From the latest execution; only keys whose value is not null; `{}` when nothing ran. */
export type BundleRouterLink = {
  run_id?: string;
  adapter_id?: string;
  router_request_digest?: string;
  router_result_digest?: string;
  control_router_link_digest?: string;
};

export type BundleIntegrity = {
  alg: 'sha256';
  /** Prefixed bundle digest. */
  canonical_digest: string;
};

export type ProvenanceRecord = {
  prov_id: string;
  method_id: string;
  inputs: string[];
  outputs: string[];
};

export type Provenance = {
  records: ProvenanceRecord[];
};

/** SPEC §5, version "0.5". `integrity`, `provenance` and `meta` are outside the digest. */
export type DecisionBundle = {
  bundle_version: typeof BUNDLE_VERSION;
  decision: BundleDecision;
  events: BundleEvent[];
  template_snapshot: BundleTemplateSnapshot;
  router_link: BundleRouterLink;
  integrity: BundleIntegrity;
  provenance: Provenance;
  meta: { exported_at: string };
};

/** SPEC §7: a router bundle for embedded audit packages. */
export type RouterBundle = {
  run: JsonObject;
  integrity: { alg: 'sha256'; canonical_digest: string };
};

export type AuditRouterSection = { mode: 'reference'; ref: { run_id: string; digest: string } } | { mode: 'embedded'; bundle: JsonObject };

export type AuditBinding = {
  control_digest: string;
  router_digest: string;
  control_router_link_digest: string;
};

/**
 * An Ed25519 signature over a package's binding digest (SPEC §8). The signed message is the
 * canonical JSON of `{binding_digest, key_id, signed_at, statement}` (see `attestationMessage`).
 */
export type Attestation = {
  alg: 'ed25519';
  /** `ed25519:` + the first 16 hex digits of SHA-256 of the raw 32-byte public key. */
  key_id: string;
  /** Base64 of the raw 32-byte public key. */
  public_key: string;
  signed_at: string;
  /** The prefixed binding digest that was signed. */
  binding_digest: string;
  /** Base64 of the 64-byte signature. */
  signature: string;
};

/** SPEC §6, version "0.6"; `attestations` is our addition, outside the binding digest. */
export type AuditPackage = {
  package_version: typeof PACKAGE_VERSION;
  control_bundle: DecisionBundle;
  router: AuditRouterSection;
  binding: AuditBinding;
  integrity: { alg: 'sha256'; binding_digest: string };
  provenance: Provenance;
  meta: { exported_at: string };
  attestations?: Attestation[];
};

export type ConflictMode = 'reject_on_conflict' | 'new_decision_id' | 'overwrite';
export const CONFLICT_MODES: readonly ConflictMode[] = ['reject_on_conflict', 'new_decision_id', 'overwrite'];

export type ImportReplaySummary = {
  ok: true;
  /** The replayed status (uppercase), equal to the bundle's. */
  status: BundleStatus;
  events_replayed: number;
  /** Event digests recomputed from the payloads as the store holds them. */
  event_digests_verified: number;
};

export type ImportBundleSuccess = {
  ok: true;
  imported: {
    decision_id: string;
    events_imported: number;
    original_decision_id?: string;
    new_decision_id?: string;
  };
  digest_verified: true;
  conflict_mode: ConflictMode;
  replay_ran: boolean;
  replay?: ImportReplaySummary;
};

export type ImportErrorCode =
  | 'BUNDLE_INVALID_SCHEMA'
  | 'CONFLICT_MODE_INVALID'
  | 'INTEGRITY_MISMATCH'
  | 'DECISION_EXISTS'
  | 'REPLAY_INVALID'
  | 'IMPORT_ATOMICITY_FAILED';

export type ImportBundleFailure = {
  ok: false;
  error_code: ImportErrorCode;
  error: string;
};

export type ImportBundleResult = ImportBundleSuccess | ImportBundleFailure;

/** One named verification check; `expected`/`actual` are given for comparisons. */
export type VerificationCheck = {
  name: string;
  ok: boolean;
  detail: string;
  expected?: string;
  actual?: string;
};

export type VerificationReport = {
  ok: boolean;
  /** What was verified. */
  kind: 'audit_package' | 'bundle';
  checks: VerificationCheck[];
  passed: number;
  failed: number;
  total: number;
};
