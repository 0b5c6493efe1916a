import { canonicalJson } from '../json/canonicalJson.js';

/** Names what a signature means, so it cannot be replayed as a signature over anything else. */
export const ATTESTATION_PURPOSE = 'nexus-control.audit_package_binding.v1';

/**
 * The exact bytes an attestation signs: canonical JSON of
 * `{"binding_digest","key_id","purpose","signed_at"}` (UTF-8). Covering `key_id` and
 * `signed_at` means neither can be altered without breaking the signature.
 */
export function attestationMessage(bindingDigest: string, keyId: string, signedAt: string): Buffer {
  return Buffer.from(
    canonicalJson({ binding_digest: bindingDigest, key_id: keyId, purpose: ATTESTATION_PURPOSE, signed_at: signedAt }),
    'utf8',
  );
}
