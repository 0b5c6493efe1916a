import { bindingDigest, routerBundleContentDigest } from '../src/audit/index.js';
import { bundleDigest, provenanceId, routerLinkDigest } from '../src/bundle/index.js';
import { unprefixDigest } from '../src/json/digest.js';
import type { JsonObject, JsonValue } from '../src/json/JsonValue.js';
import type { VerificationReport } from '../src/bundle/types.js';

/*
 * A forger who knows the formats: after editing a package, recomputes every digest the
 * reference's six checks look at, so only the deeper checks can notice the edit.
 */

function obj(value: JsonValue | undefined): JsonObject {
  return value as JsonObject;
}

export interface ResealOptions {
  /** Also recompute the control-router link digest from the router link (default false). */
  readonly link?: boolean;
}

export function resealBundle(bundle: JsonObject, options: ResealOptions = {}): JsonObject {
  const decisionId = obj(bundle['decision'])['decision_id'] as string;
  const link = obj(bundle['router_link']);
  if (options.link && typeof link['run_id'] === 'string') {
    const raw = (v: JsonValue | undefined) => (typeof v === 'string' ? unprefixDigest(v) : null);
    link['control_router_link_digest'] =
      `sha256:${routerLinkDigest(decisionId, link['run_id'], raw(link['router_request_digest']), raw(link['router_result_digest']))}`;
  }
  const digest = bundleDigest(bundle);
  obj(bundle['integrity'])['canonical_digest'] = `sha256:${digest}`;
  const record = obj((obj(bundle['provenance'])['records'] as JsonValue[])[0]);
  record['prov_id'] = provenanceId(decisionId, digest);
  record['outputs'] = [`bundle:sha256:${digest}`];
  return bundle;
}

export function resealPackage(pkg: JsonObject, options: ResealOptions = {}): JsonObject {
  const bundle = resealBundle(obj(pkg['control_bundle']), options);
  const router = obj(pkg['router']);
  let routerDigest: JsonValue;
  if (router['mode'] === 'embedded') {
    const routerBundle = obj(router['bundle']);
    routerDigest = `sha256:${routerBundleContentDigest(routerBundle).hex}`;
    obj(routerBundle['integrity'])['canonical_digest'] = routerDigest;
  } else {
    routerDigest = obj(router['ref'])['digest'] ?? null;
  }
  const binding = obj(pkg['binding']);
  binding['control_digest'] = obj(bundle['integrity'])['canonical_digest'] ?? null;
  binding['router_digest'] = routerDigest;
  binding['control_router_link_digest'] = obj(bundle['router_link'])['control_router_link_digest'] ?? null;
  const raw = bindingDigest(
    pkg['package_version'] ?? null,
    binding['control_digest'],
    binding['router_digest'],
    binding['control_router_link_digest'],
  );
  obj(pkg['integrity'])['binding_digest'] = `sha256:${raw}`;
  const record = obj((obj(pkg['provenance'])['records'] as JsonValue[])[0]);
  record['prov_id'] = provenanceId(obj(bundle['decision'])['decision_id'] as string, raw);
  record['outputs'] = [`audit_package:sha256:${raw}`];
  return pkg;
}

export function failedChecks(report: VerificationReport): string[] {
  return report.checks.filter((c) => !c.ok).map((c) => c.name);
}

export const REFERENCE_CHECKS = [
  'binding_digest',
  'control_bundle_digest',
  'binding_control_match',
  'binding_router_match',
  'binding_link_match',
  'router_digest',
];
export const DEEPER_CHECKS = ['event_digests', 'event_sequence', 'event_identity', 'link_digest', 'replay_status', 'derived_fields'];
