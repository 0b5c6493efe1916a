import { sign } from 'node:crypto';
import { bindingDigest } from '../bundle/digests.js';
import { parseDocument } from '../bundle/parseInput.js';
import type { Attestation, AuditPackage } from '../bundle/types.js';
import { NexusError } from '../errors/NexusError.js';
import { prefixDigest } from '../json/digest.js';
import { isJsonObject, type JsonObject } from '../json/JsonValue.js';
import { systemClock, type Clock } from '../time/Clock.js';
import { formatTimestamp, parseTimestamp } from '../time/timestamp.js';
import { attestationMessage } from './attestationMessage.js';
import { keyIdOf, parsePrivateKey, rawPublicKey } from './keys.js';

export interface SignOptions {
  /** The signing instant to record (a timestamp with a zone); default: now. */
  readonly signedAt?: string;
  readonly clock?: Clock;
}

/** The package's binding digest (prefixed), required to be the one its binding fields give. */
export function verifiedBindingDigest(pkg: JsonObject): string {
  const binding = isJsonObject(pkg['binding']) ? pkg['binding'] : {};
  const integrity = isJsonObject(pkg['integrity']) ? pkg['integrity'] : {};
  const recomputed = prefixDigest(
    bindingDigest(
      pkg['package_version'] ?? null,
      binding['control_digest'] ?? null,
      binding['router_digest'] ?? null,
      binding['control_router_link_digest'] ?? null,
    ),
  );
  if (integrity['binding_digest'] !== recomputed) {
    throw new NexusError(
      'INTEGRITY_MISMATCH',
      `the package's binding digest is ${String(integrity['binding_digest'])}, its binding fields give ${recomputed}`,
    );
  }
  return recomputed;
}

/**
 * Signs an audit package's binding digest with an Ed25519 private key (SPEC §8). The package
 * itself is not changed: attach the result with `attachAttestation`. INTEGRITY_MISMATCH when
 * the binding digest does not recompute (verify the whole package first to sign with care).
 */
export function signAuditPackage(pkg: string | AuditPackage | JsonObject, privateKeyPem: string, options: SignOptions = {}): Attestation {
  const document = parseDocument(pkg as string | JsonObject, 'PACKAGE_INVALID_SCHEMA', 'the audit package');
  const key = parsePrivateKey(privateKeyPem);
  const digest = verifiedBindingDigest(document);
  let signedAt: string;
  if (options.signedAt !== undefined) {
    parseTimestamp(options.signedAt);
    signedAt = options.signedAt;
  } else {
    signedAt = formatTimestamp((options.clock ?? systemClock).now());
  }
  const raw = rawPublicKey(key);
  const keyId = keyIdOf(raw);
  const signature = sign(null, attestationMessage(digest, keyId, signedAt), key);
  return {
    alg: 'ed25519',
    key_id: keyId,
    public_key: raw.toString('base64'),
    signed_at: signedAt,
    binding_digest: digest,
    signature: signature.toString('base64'),
  };
}
