import type { DecisionFold } from '../domain/decisionFold.js';
import type { RouterRequest } from './Router.js';

/** SPEC §3: `{goal, adapter_id, dry_run}`, plus `plan`, `max_steps` and `require_capabilities` when set. */
export function compileRouterRequest(fold: DecisionFold, adapterId: string, dryRun: boolean): RouterRequest {
  const request: RouterRequest = { goal: fold.goal, adapter_id: adapterId, dry_run: dryRun };
  if (fold.plan !== null) request['plan'] = fold.plan;
  const policy = fold.policy;
  if (policy?.maxSteps != null) request['max_steps'] = policy.maxSteps;
  if (policy && policy.requireAdapterCapabilities.length > 0) {
    request['require_capabilities'] = [...policy.requireAdapterCapabilities];
  }
  return request;
}
