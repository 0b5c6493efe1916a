export { ATTESTATION_PURPOSE, attestationMessage } from './attestationMessage.js';
export { attachAttestation } from './attachAttestation.js';
export { generateSigningKeyPair, keyIdOf, parsePrivateKey, parsePublicKey, type SigningKeyPair } from './keys.js';
export { signAuditPackage, type SignOptions } from './signAuditPackage.js';
export { verifyAttestation, type AttestationCheck } from './verifyAttestation.js';
export type { Attestation } from '../bundle/types.js';
