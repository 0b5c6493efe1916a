import { createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { NexusError } from '../errors/NexusError.js';
import { sha256Hex } from '../json/digest.js';

/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw 32-byte key follows it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const RAW_KEY_BYTES = 32;

export interface SigningKeyPair {
  /** PKCS#8 PEM. */
  readonly privateKeyPem: string;
  /** SPKI PEM. */
  readonly publicKeyPem: string;
  readonly keyId: string;
}

function invalidKey(message: string, cause?: unknown): NexusError {
  return new NexusError('SIGNING_KEY_INVALID', message, {}, cause === undefined ? undefined : { cause });
}

/** The raw 32 bytes of an Ed25519 public key (from a public or a private key object). */
export function rawPublicKey(key: KeyObject): Buffer {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  if (publicKey.asymmetricKeyType !== 'ed25519') throw invalidKey(`expected an Ed25519 key, got ${String(publicKey.asymmetricKeyType)}`);
  return publicKey.export({ format: 'der', type: 'spki' }).subarray(ED25519_SPKI_PREFIX.length);
}

export function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (raw.length !== RAW_KEY_BYTES) throw invalidKey(`an Ed25519 public key has ${RAW_KEY_BYTES} bytes, not ${raw.length}`);
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** Strict base64 (canonical padding), so one key or signature has exactly one spelling. */
export function decodeBase64(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/** An Ed25519 private key from PKCS#8 PEM; SIGNING_KEY_INVALID otherwise. */
export function parsePrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw invalidKey(`not a private key PEM: ${(error as Error).message}`, error);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw invalidKey(`expected an Ed25519 private key, got ${String(key.asymmetricKeyType)}`);
  return key;
}

/** An Ed25519 public key from SPKI PEM (or a private key PEM) or base64 of the raw 32 bytes. */
export function parsePublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  if (!trimmed.startsWith('-----')) {
    const raw = decodeBase64(trimmed);
    if (raw === undefined) throw invalidKey('a public key must be PEM or base64 of the raw 32 bytes');
    return publicKeyFromRaw(raw);
  }
  let key: KeyObject;
  try {
    key = createPublicKey(trimmed);
  } catch (error) {
    throw invalidKey(`not a public key PEM: ${(error as Error).message}`, error);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw invalidKey(`expected an Ed25519 public key, got ${String(key.asymmetricKeyType)}`);
  return key;
}

/** `ed25519:` + the first 16 hex digits of SHA-256 of the raw 32-byte public key. */
export function keyIdOf(publicKey: string | KeyObject | Uint8Array): string {
  let raw: Uint8Array;
  if (publicKey instanceof KeyObject) raw = rawPublicKey(publicKey);
  else if (typeof publicKey === 'string') raw = rawPublicKey(parsePublicKey(publicKey));
  else raw = rawPublicKey(publicKeyFromRaw(publicKey));
  return `ed25519:${sha256Hex(raw).slice(0, 16)}`;
}

export function generateSigningKeyPair(): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    keyId: keyIdOf(publicKey),
  };
}
