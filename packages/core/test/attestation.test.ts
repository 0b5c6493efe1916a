import { createHash, generateKeyPairSync, verify as cryptoVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { attachAttestation, attestationMessage, generateSigningKeyPair, keyIdOf, signAuditPackage } from '../src/attestation/index.js';
import { exportAuditPackage, verifyAuditPackage } from '../src/audit/index.js';
import { canonicalJson } from '../src/json/canonicalJson.js';
import type { JsonObject, JsonValue } from '../src/json/JsonValue.js';
import { asJson, cloneJson, harness, makeDecision } from './bundleTestKit.js';
import { failedChecks } from './verifyTestKit.js';

const SIGNED_AT = '2025-05-01T09:00:00+00:00';

async function exportedPackage(): Promise<JsonObject> {
  const h = harness();
  const id = await makeDecision(h);
  return asJson(await exportAuditPackage(h.store, id, { clock: h.clock }));
}

function attestationNames(report: ReturnType<typeof verifyAuditPackage>): string[] {
  return report.checks.filter((c) => c.name.startsWith('attestation')).map((c) => c.name);
}

describe('keys', () => {
  it('a generated pair has the key id derived from the raw public key, whatever form it is given in', () => {
    const pair = generateSigningKeyPair();
    expect(pair.keyId).toMatch(/^ed25519:[0-9a-f]{16}$/);
    expect(keyIdOf(generateKeyPairSync('ed25519').publicKey)).not.toBe(pair.keyId);
    const spki = Buffer.from(pair.publicKeyPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const rawBytes = spki.subarray(spki.length - 32);
    expect(pair.keyId).toBe(`ed25519:${createHash('sha256').update(rawBytes).digest('hex').slice(0, 16)}`);
    expect(keyIdOf(pair.publicKeyPem)).toBe(pair.keyId);
    expect(keyIdOf(pair.privateKeyPem)).toBe(pair.keyId);
    expect(keyIdOf(rawBytes.toString('base64'))).toBe(pair.keyId);
    expect(keyIdOf(new Uint8Array(rawBytes))).toBe(pair.keyId);
  });

  it('an unusable key is SIGNING_KEY_INVALID: garbage, another algorithm, a public key to sign with', async () => {
    const pkg = await exportedPackage();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const pair = generateSigningKeyPair();
    for (const key of ['not a key', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', rsa, pair.publicKeyPem]) {
      expect(() => signAuditPackage(pkg, key)).toThrow(expect.objectContaining({ code: 'SIGNING_KEY_INVALID' }));
    }
    expect(() => keyIdOf('c2hvcnQ=')).toThrow(expect.objectContaining({ code: 'SIGNING_KEY_INVALID' }));
    expect(() => verifyAuditPackage(pkg, { publicKeys: ['garbage'] })).toThrow(expect.objectContaining({ code: 'SIGNING_KEY_INVALID' }));
  });
});

describe('signing and attaching', () => {
  it('an attestation signs the binding digest; attaching it leaves the binding digest as it was', async () => {
    const pkg = await exportedPackage();
    const pair = generateSigningKeyPair();
    const attestation = signAuditPackage(pkg, pair.privateKeyPem, { signedAt: SIGNED_AT });
    const integrity = pkg['integrity'] as JsonObject;
    expect(attestation).toMatchObject({
      alg: 'ed25519',
      key_id: pair.keyId,
      signed_at: SIGNED_AT,
      binding_digest: integrity['binding_digest'],
    });
    expect(Buffer.from(attestation.public_key, 'base64')).toHaveLength(32);
    expect(Buffer.from(attestation.signature, 'base64')).toHaveLength(64);

    const signed = attachAttestation(pkg, attestation);
    expect(signed['integrity']).toEqual(pkg['integrity']);
    expect(signed['binding']).toEqual(pkg['binding']);
    expect(pkg['attestations']).toBeUndefined();
    expect(signed['attestations']).toEqual([attestation]);

    // The documented message: canonical {binding_digest, key_id, purpose, signed_at}.
    const message = canonicalJson({
      binding_digest: attestation.binding_digest,
      key_id: pair.keyId,
      purpose: 'nexus-control.audit_package_binding.v1',
      signed_at: SIGNED_AT,
    });
    expect(attestationMessage(attestation.binding_digest, pair.keyId, SIGNED_AT).toString('utf8')).toBe(message);
    expect(cryptoVerify(null, Buffer.from(message), pair.publicKeyPem, Buffer.from(attestation.signature, 'base64'))).toBe(true);
  });

  it('verification adds one passing check per attestation, also from the package text', async () => {
    const pkg = await exportedPackage();
    const a = generateSigningKeyPair();
    const b = generateSigningKeyPair();
    let signed = attachAttestation(pkg, signAuditPackage(pkg, a.privateKeyPem));
    signed = attachAttestation(signed, signAuditPackage(signed, b.privateKeyPem));
    const report = verifyAuditPackage(canonicalJson(signed));
    expect(report.ok).toBe(true);
    expect(attestationNames(report)).toEqual([`attestation[0]:${a.keyId}`, `attestation[1]:${b.keyId}`]);
    expect(report.total).toBe(verifyAuditPackage(pkg).total + 2);
  });

  it('re-signing with the same key replaces its earlier attestation', async () => {
    const pkg = await exportedPackage();
    const pair = generateSigningKeyPair();
    const first = attachAttestation(pkg, signAuditPackage(pkg, pair.privateKeyPem, { signedAt: SIGNED_AT }));
    const second = attachAttestation(first, signAuditPackage(first, pair.privateKeyPem, { signedAt: '2025-06-01T00:00:00+00:00' }));
    const attestations = second['attestations'] as JsonObject[];
    expect(attestations).toHaveLength(1);
    expect(attestations[0]!['signed_at']).toBe('2025-06-01T00:00:00+00:00');
  });

  it('refuses to attach an attestation of another package, or to sign a package whose binding does not recompute (INTEGRITY_MISMATCH)', async () => {
    const pkg = await exportedPackage();
    const other = await exportedPackage();
    const pair = generateSigningKeyPair();
    expect(() => attachAttestation(other, signAuditPackage(pkg, pair.privateKeyPem))).toThrow(
      expect.objectContaining({ code: 'INTEGRITY_MISMATCH' }),
    );
    const broken = cloneJson(pkg);
    (broken['binding'] as JsonObject)['router_digest'] = `sha256:${'0'.repeat(64)}`;
    expect(() => signAuditPackage(broken, pair.privateKeyPem)).toThrow(expect.objectContaining({ code: 'INTEGRITY_MISMATCH' }));
    expect(() => signAuditPackage(pkg, pair.privateKeyPem, { signedAt: 'yesterday' })).toThrow(
      expect.objectContaining({ code: 'INVALID_TIMESTAMP' }),
    );
  });
});

describe('verifying attestations', () => {
  async function signedPackage() {
    const pkg = await exportedPackage();
    const pair = generateSigningKeyPair();
    return { pair, signed: attachAttestation(pkg, signAuditPackage(pkg, pair.privateKeyPem, { signedAt: SIGNED_AT })) };
  }

  it('every field of an attestation, changed alone, fails that attestation check and nothing else', async () => {
    const { signed } = await signedPackage();
    const original = (signed['attestations'] as JsonValue[])[0] as JsonObject;
    const other = generateSigningKeyPair();
    const changes: Record<string, JsonValue> = {
      alg: 'rsa',
      key_id: other.keyId,
      public_key: Buffer.from(other.publicKeyPem.replace(/-----[^-]+-----|\s/g, ''), 'base64')
        .subarray(12)
        .toString('base64'),
      signed_at: '2025-05-01T09:00:01+00:00',
      binding_digest: `sha256:${'a'.repeat(64)}`,
      signature: Buffer.alloc(64, 7).toString('base64'),
    };
    expect(Object.keys(changes).sort()).toEqual(Object.keys(original).sort());
    for (const [field, value] of Object.entries(changes)) {
      const tampered = cloneJson(signed);
      ((tampered['attestations'] as JsonValue[])[0] as JsonObject)[field] = value;
      const failed = failedChecks(verifyAuditPackage(tampered));
      expect(failed, field).toHaveLength(1);
      expect(failed[0], field).toMatch(/^attestation\[0\]:/);
    }
  });

  it('a flipped bit in the signature fails the signature check', async () => {
    const { signed } = await signedPackage();
    const tampered = cloneJson(signed);
    const attestation = (tampered['attestations'] as JsonValue[])[0] as JsonObject;
    const bytes = Buffer.from(attestation['signature'] as string, 'base64');
    bytes[10] = (bytes[10] as number) ^ 1;
    attestation['signature'] = bytes.toString('base64');
    const check = verifyAuditPackage(tampered).checks.find((c) => c.name.startsWith('attestation[0]'))!;
    expect(check.ok).toBe(false);
    expect(check.detail).toContain('does not verify');
  });

  it('an attestation stays bound to the binding: editing the binding fails it too', async () => {
    const { signed } = await signedPackage();
    const tampered = cloneJson(signed);
    (tampered['binding'] as JsonObject)['control_digest'] = `sha256:${'b'.repeat(64)}`;
    expect(failedChecks(verifyAuditPackage(tampered))).toEqual(
      expect.arrayContaining(['binding_digest', expect.stringMatching(/^attestation\[0\]/)]),
    );
  });

  it('with public keys given: the signer must be one of them and each given key must have signed (an empty list requires nothing)', async () => {
    const { pair, signed } = await signedPackage();
    const stranger = generateSigningKeyPair();

    const trusted = verifyAuditPackage(signed, { publicKeys: [pair.publicKeyPem] });
    expect(trusted.ok).toBe(true);
    expect(attestationNames(trusted)).toEqual([`attestation[0]:${pair.keyId}`, `attestation_required:${pair.keyId}`]);

    const wrongKey = verifyAuditPackage(signed, { publicKeys: [stranger.publicKeyPem] });
    expect(failedChecks(wrongKey)).toEqual([`attestation[0]:${pair.keyId}`, `attestation_required:${stranger.keyId}`]);

    const both = verifyAuditPackage(signed, { publicKeys: [pair.publicKeyPem, stranger.publicKeyPem] });
    expect(failedChecks(both)).toEqual([`attestation_required:${stranger.keyId}`]);

    expect(verifyAuditPackage(signed, { publicKeys: [] })).toEqual(verifyAuditPackage(signed));

    const unsigned = cloneJson(signed);
    delete unsigned['attestations'];
    expect(failedChecks(verifyAuditPackage(unsigned, { publicKeys: [pair.publicKeyPem] }))).toEqual([`attestation_required:${pair.keyId}`]);
  });

  it('a malformed attestations section fails visibly', async () => {
    const { signed } = await signedPackage();
    const notArray = cloneJson(signed);
    notArray['attestations'] = { a: 1 };
    expect(failedChecks(verifyAuditPackage(notArray))).toEqual(['schema']);
    const notObject = cloneJson(signed);
    notObject['attestations'] = ['x'];
    expect(failedChecks(verifyAuditPackage(notObject))).toEqual(['attestation[0]:?']);
  });
});
