import type { JsonObject } from '../json/JsonValue.js';
import { canonicalBundleDigest, canonicalizeBundle } from './canonicalBundle.js';
import type { DecisionBundle } from './types.js';

/** Raw hex SHA-256 of a bundle's canonical content (SPEC §5; integrity, provenance and meta excluded). */
export function bundleDigest(bundle: DecisionBundle | JsonObject): string {
  return canonicalBundleDigest(canonicalizeBundle(bundle as JsonObject));
}
