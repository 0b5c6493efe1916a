import type { DecisionView } from '../domain/NexusControlApi.js';
import { prefixDigest } from '../json/digest.js';
import type { JsonObject } from '../json/JsonValue.js';
import { pyTruthy } from './canonicalBundle.js';
import { routerLinkDigest } from './digests.js';
import type { BundleDecision, BundleRouterLink, BundleStatus, BundleTemplateSnapshot } from './types.js';

export interface DerivedSections {
  readonly decision: BundleDecision;
  readonly template_snapshot: BundleTemplateSnapshot;
  readonly router_link: BundleRouterLink;
}

/**
 * The bundle sections that are functions of the replayed log (SPEC §5). Export writes them;
 * verification recomputes them to catch a bundle whose header or links disagree with its events.
 */
export function deriveSections(decisionId: string, view: DecisionView, firstTs: string): DerivedSections {
  const decision: BundleDecision = {
    decision_id: decisionId,
    goal: view.goal,
    mode: view.requestedMode || 'dry_run',
    created_at: firstTs,
    status: view.status.toUpperCase() as BundleStatus,
  };

  const template = view.policy?.template;
  const template_snapshot: BundleTemplateSnapshot = template
    ? {
        present: true,
        name: template.name,
        digest: prefixDigest(template.digest),
        // The reference writes empty objects as null.
        snapshot: pyTruthy(template.snapshot) ? template.snapshot : null,
        overrides: pyTruthy(template.overridesApplied) ? (template.overridesApplied as JsonObject) : null,
      }
    : { present: false };

  const router_link: BundleRouterLink = {};
  const latest = view.executions[view.executions.length - 1];
  if (latest) {
    const runId = latest.runId ?? null;
    const requestDigest = latest.routerRequestDigest ?? null;
    const resultDigest = latest.responseDigest ?? null;
    if (runId !== null) router_link.run_id = runId;
    router_link.adapter_id = latest.adapterId;
    if (requestDigest) router_link.router_request_digest = prefixDigest(requestDigest);
    if (resultDigest) router_link.router_result_digest = prefixDigest(resultDigest);
    if (runId !== null) {
      router_link.control_router_link_digest = prefixDigest(routerLinkDigest(decisionId, runId, requestDigest, resultDigest));
    }
  }
  return { decision, template_snapshot, router_link };
}
