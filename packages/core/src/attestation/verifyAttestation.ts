import { verify } from 'node:crypto';
import { isJsonObject, type JsonValue } from '../json/JsonValue.js';
import { attestationMessage } from './attestationMessage.js';
import { decodeBase64, keyIdOf, publicKeyFromRaw } from './keys.js';

export interface AttestationCheck {
  readonly ok: boolean;
  readonly detail: string;
  readonly keyId?: string;
}

/**
 * Checks one attestation against the package's recomputed binding digest (prefixed). With
 * `trustedKeyIds`, a signature by any other key fails even when it is mathematically valid.
 */
export function verifyAttestation(
  attestation: JsonValue | undefined,
  bindingDigest: string,
  trustedKeyIds?: ReadonlySet<string>,
): AttestationCheck {
  if (!isJsonObject(attestation)) return { ok: false, detail: 'an attestation must be an object' };
  const { alg, key_id: keyId, public_key: publicKey, signed_at: signedAt, binding_digest: signedDigest, signature } = attestation;
  const id = typeof keyId === 'string' ? keyId : undefined;
  const fail = (detail: string): AttestationCheck => ({ ok: false, detail, ...(id === undefined ? {} : { keyId: id }) });
  if (alg !== 'ed25519') return fail(`alg must be "ed25519", got ${JSON.stringify(alg ?? null)}`);
  if (typeof publicKey !== 'string') return fail('public_key must be base64 of the raw 32-byte key');
  const raw = decodeBase64(publicKey);
  if (raw === undefined || raw.length !== 32) return fail('public_key must be base64 of the raw 32-byte key');
  const derivedId = keyIdOf(raw);
  if (id !== derivedId) return fail(`key_id ${JSON.stringify(keyId ?? null)} is not the id of its public key (${derivedId})`);
  if (trustedKeyIds !== undefined && !trustedKeyIds.has(derivedId))
    return fail(`signed by ${derivedId}, which is not one of the given public keys`);
  if (typeof signedAt !== 'string') return fail('signed_at must be a timestamp string');
  if (signedDigest !== bindingDigest)
    return fail(`signs binding digest ${String(signedDigest)}, but the package's binding recomputes to ${bindingDigest}`);
  const signatureBytes = typeof signature === 'string' ? decodeBase64(signature) : undefined;
  if (signatureBytes === undefined || signatureBytes.length !== 64) return fail('signature must be base64 of 64 bytes');
  const valid = verify(null, attestationMessage(bindingDigest, derivedId, signedAt), publicKeyFromRaw(raw), signatureBytes);
  return valid
    ? { ok: true, detail: `valid Ed25519 signature by ${derivedId} over the binding digest, signed at ${signedAt}`, keyId: derivedId }
    : fail(`the Ed25519 signature by ${derivedId} does not verify`);
}
