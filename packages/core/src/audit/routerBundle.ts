import { canonicalJson } from '../json/canonicalJson.js';
import { prefixDigest, sha256Hex } from '../json/digest.js';
import { isJsonObject, type JsonObject } from '../json/JsonValue.js';
import type { RouterBundle } from '../bundle/types.js';

/** SPEC §7: wraps a router response so the bundle's digest is the recorded response digest. */
export function buildRouterBundle(response: JsonObject, responseJson: string = canonicalJson(response)): RouterBundle {
  return { run: response, integrity: { alg: 'sha256', canonical_digest: prefixDigest(sha256Hex(responseJson)) } };
}

/**
 * The digest a router bundle's content gives (raw hex): the digest of `run` for a SPEC §7
 * bundle; for other shapes, of everything but `integrity`.
 */
export function routerBundleContentDigest(bundle: JsonObject): { hex: string; covers: string } {
  if (isJsonObject(bundle['run'])) return { hex: sha256Hex(canonicalJson(bundle['run'])), covers: 'run' };
  const { integrity: _integrity, ...content } = bundle;
  return { hex: sha256Hex(canonicalJson(content)), covers: 'the bundle without integrity' };
}
