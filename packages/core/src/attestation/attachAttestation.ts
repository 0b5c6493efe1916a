import type { Attestation, AuditPackage } from '../bundle/types.js';
import { NexusError } from '../errors/NexusError.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../json/JsonValue.js';

/**
 * Returns a copy of the package carrying the attestation in its top-level `attestations`
 * array, outside the binding digest, so attaching never changes it. An attestation by a key
 * that already signed replaces the earlier one (re-signing is idempotent per key).
 */
export function attachAttestation<P extends AuditPackage | JsonObject>(pkg: P, attestation: Attestation): P {
  const document = pkg as JsonObject;
  const integrity = isJsonObject(document['integrity']) ? document['integrity'] : {};
  if (attestation.binding_digest !== integrity['binding_digest']) {
    throw new NexusError(
      'INTEGRITY_MISMATCH',
      `the attestation signs ${attestation.binding_digest}, the package's binding digest is ${String(integrity['binding_digest'])}`,
    );
  }
  const existing = Array.isArray(document['attestations']) ? (document['attestations'] as JsonValue[]) : [];
  const others = existing.filter((a) => !(isJsonObject(a) && a['key_id'] === attestation.key_id));
  return { ...pkg, attestations: [...others, { ...attestation }] };
}
