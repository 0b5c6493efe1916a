import * as crypto from 'node:crypto';
import { canonicalJson } from './canonicalJson.js';
import type { JsonValue } from './JsonValue.js';

export const DIGEST_PREFIX = 'sha256:';

// One-shot hashing (Node >= 20.12) allocates no Hash object: verifying a package digests every
// event, and those objects were most of the garbage the verifier made.
const oneShot = (crypto as { hash?: (alg: string, data: string | Uint8Array, encoding: 'hex') => string }).hash;

/** Lowercase hex SHA-256 of the UTF-8 bytes of `text`. */
export const sha256Hex: (text: string | Uint8Array) => string = oneShot
  ? (text) => oneShot('sha256', text, 'hex')
  : (text) => crypto.createHash('sha256').update(text).digest('hex');

/** Raw hex digest of a value's canonical JSON. */
export function digestOf(value: JsonValue): string {
  return sha256Hex(canonicalJson(value));
}

export function prefixDigest(hex: string): string {
  return DIGEST_PREFIX + hex;
}

const PREFIXED = /^sha256:[0-9a-f]{64}$/;
export function isPrefixedDigest(value: unknown): value is string {
  return typeof value === 'string' && PREFIXED.test(value);
}

const RAW = /^[0-9a-f]{64}$/;
export function isRawDigest(value: unknown): value is string {
  return typeof value === 'string' && RAW.test(value);
}

/** `sha256:<hex>` → `<hex>`; a raw digest is returned unchanged. */
export function unprefixDigest(value: string): string {
  return value.startsWith(DIGEST_PREFIX) ? value.slice(DIGEST_PREFIX.length) : value;
}
