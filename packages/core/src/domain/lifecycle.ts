import type { StoredEvent } from '../events/DecisionEvent.js';
import type { JsonObject } from '../json/JsonValue.js';
import type { BlockingReason, DecisionView, Lifecycle, TimelineEntry } from './NexusControlApi.js';

/** Why the decision cannot execute at the view's instant (adapter checks happen at execute time). */
export function blockingReasons(view: DecisionView): BlockingReason[] {
  const reasons: BlockingReason[] = [];
  switch (view.status) {
    case 'draft':
      return [{ code: 'NO_POLICY', message: 'no policy is attached yet' }];
    case 'executing':
      return [{ code: 'EXECUTION_IN_PROGRESS', message: 'an execution is in progress' }];
    case 'completed':
      return [{ code: 'ALREADY_COMPLETED', message: 'the decision has been executed' }];
    default:
      break;
  }
  const required = view.policy?.minApprovals ?? 0;
  if (view.activeApprovals < required) {
    const missing = required - view.activeApprovals;
    reasons.push({
      code: 'APPROVALS_NEEDED',
      message: `needs ${missing} more approval${missing === 1 ? '' : 's'} (${view.activeApprovals} of ${required} active)`,
    });
    for (const approval of view.approvals) {
      if (approval.expired && approval.revokedAt === undefined) {
        reasons.push({ code: 'APPROVAL_EXPIRED', message: `the approval by ${approval.actor.id} expired at ${approval.expiresAt}` });
      }
    }
  }
  return reasons;
}

function describe(event: StoredEvent): string {
  const p: JsonObject = event.payload;
  const who = event.actor.id;
  switch (event.type) {
    case 'DECISION_CREATED':
      return `${who} requested "${String(p['goal'])}" (${String(p['requested_mode'])})`;
    case 'POLICY_ATTACHED':
      return (
        `policy attached: ${String(p['min_approvals'])} approval(s), modes ${(p['allowed_modes'] as string[]).join('/')}` +
        (typeof p['template_name'] === 'string' ? `, from template ${p['template_name']}` : '')
      );
    case 'APPROVAL_GRANTED':
      return (
        `${who} approved` + (p['expires_at'] ? ` until ${String(p['expires_at'])}` : '') + (p['comment'] ? `: ${String(p['comment'])}` : '')
      );
    case 'APPROVAL_REVOKED':
      return `${who} revoked their approval` + (p['reason'] ? `: ${String(p['reason'])}` : '');
    case 'EXECUTION_REQUESTED':
      return `${who} requested execution on ${String(p['adapter_id'])} (${p['dry_run'] ? 'dry run' : 'apply'})`;
    case 'EXECUTION_STARTED':
      return 'execution started';
    case 'EXECUTION_COMPLETED':
      return `execution completed: run ${String(p['run_id'])}, ${String(p['steps_executed'])} step(s)`;
    case 'EXECUTION_FAILED':
      return `execution failed: ${String(p['error_code'])}: ${String(p['error_message'])}`;
    default:
      return event.type;
  }
}

export function timelineOf(events: readonly StoredEvent[]): TimelineEntry[] {
  return events.map((e) => ({ seq: e.seq, ts: e.ts, type: e.type, actor: e.actor, summary: describe(e) }));
}

export function lifecycleOf(view: DecisionView, events: readonly StoredEvent[]): Lifecycle {
  const required = view.policy?.minApprovals ?? 0;
  const done = view.status === 'completed';
  return {
    decision: view,
    blockingReasons: blockingReasons(view),
    progress: {
      activeApprovals: view.activeApprovals,
      requiredApprovals: required,
      fraction: done ? 1 : required === 0 ? 0 : Math.min(1, view.activeApprovals / required),
    },
    timeline: timelineOf(events),
  };
}
