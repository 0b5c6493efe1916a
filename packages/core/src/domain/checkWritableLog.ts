import { NexusError, isNexusError } from '../errors/NexusError.js';
import type { JsonObject, JsonValue } from '../json/JsonValue.js';
import { canonicalJson } from '../json/canonicalJson.js';
import { parseTimestamp } from '../time/timestamp.js';
import {
  activeApprovalCount,
  applyEvent,
  emptyFold,
  hasActiveApproval,
  hasUnrevokedApproval,
  statusAt,
  type ReplayableEvent,
} from './decisionFold.js';
import { checkEvent } from './eventRules.js';

function order(seq: number, message: string): NexusError {
  return new NexusError('REPLAY_INVALID', `event ${seq}: ${message}`, { seq });
}

/**
 * Throws unless commands could have written this log, event by event and in this order:
 * each event passes its command's rules (`BUNDLE_INVALID_SCHEMA`), timestamps are instants
 * that never go backwards, and each event was allowed in the state the events before it
 * left (`REPLAY_INVALID`). The adapter an execution named cannot be checked here: it is the
 * importing server's router, not the log, that knows it.
 */
export function checkWritableLog(events: readonly ReplayableEvent[]): void {
  const fold = emptyFold('');
  let previousMicros = -Infinity;
  let created: JsonObject | undefined;
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as ReplayableEvent;
    try {
      checkEvent(event);
    } catch (error) {
      if (!isNexusError(error)) throw error;
      throw new NexusError('BUNDLE_INVALID_SCHEMA', `events[${i}] (${String(event.type)}): ${error.message}`, {
        seq: i,
        reason: error.code,
      });
    }
    const seq = event.seq;
    if (seq !== i) throw order(i, `has seq ${String(seq)}`);
    const micros = parseTimestamp(event.ts);
    if (micros < previousMicros) throw order(seq, `its ts ${event.ts} is earlier than the event before it`);
    previousMicros = micros;
    const p = event.payload;
    const status = statusAt(fold, micros);
    const actorId = event.actor.id;
    switch (event.type) {
      case 'DECISION_CREATED':
        if (seq !== 0) throw order(seq, 'DECISION_CREATED may only be the first event');
        created = p;
        break;
      case 'POLICY_ATTACHED': {
        // A request writes its policy right after the decision, once, and never changes it
        // (with its own timestamp in the reference implementation, so only the order is checked).
        if (seq !== 1) throw order(seq, 'POLICY_ATTACHED may only be the second event');
        const first = created as JsonObject;
        if (canonicalJson(first['labels'] as JsonValue) !== canonicalJson(p['labels'] as JsonValue)) {
          throw order(seq, 'the policy labels differ from the labels DECISION_CREATED recorded');
        }
        if (!(p['allowed_modes'] as string[]).includes(first['requested_mode'] as string)) {
          throw order(seq, `the requested mode ${String(first['requested_mode'])} is not among the allowed modes`);
        }
        if (event.actor.id !== events[0]?.actor.id || event.actor.type !== events[0]?.actor.type) {
          throw order(seq, 'the policy was attached by someone other than the requester');
        }
        break;
      }
      case 'APPROVAL_GRANTED': {
        if (status !== 'pending_approval' && status !== 'approved' && status !== 'failed')
          throw order(seq, `an approval while the decision is ${status}`);
        if (hasActiveApproval(fold, actorId, micros)) throw order(seq, `${actorId} already held an active approval`);
        const expiresAt = p['expires_at'];
        if (typeof expiresAt === 'string' && parseTimestamp(expiresAt) <= micros)
          throw order(seq, 'the approval expires before it was granted');
        break;
      }
      case 'APPROVAL_REVOKED':
        if (status === 'executing' || status === 'completed' || status === 'draft')
          throw order(seq, `a revocation while the decision is ${status}`);
        if (!hasUnrevokedApproval(fold, actorId)) throw order(seq, `${actorId} held no approval to revoke`);
        break;
      case 'EXECUTION_REQUESTED': {
        if (status !== 'approved' && status !== 'failed') throw order(seq, `an execution requested while the decision is ${status}`);
        const policy = fold.policy;
        const mode = p['dry_run'] === true ? 'dry_run' : 'apply';
        if (policy === null || !policy.allowedModes.includes(mode)) throw order(seq, `mode ${mode} is not allowed by the policy`);
        if (activeApprovalCount(fold, micros) < policy.minApprovals)
          throw order(seq, 'an execution requested without the required approvals');
        // Timestamps may differ: the reference implementation writes the two one after the other.
        if (events[i + 1]?.type !== 'EXECUTION_STARTED') throw order(seq, 'EXECUTION_REQUESTED is not followed by its EXECUTION_STARTED');
        break;
      }
      case 'EXECUTION_STARTED':
        if (events[i - 1]?.type !== 'EXECUTION_REQUESTED') throw order(seq, 'EXECUTION_STARTED does not follow an EXECUTION_REQUESTED');
        break;
      case 'EXECUTION_COMPLETED': {
        if (status !== 'executing') throw order(seq, `an outcome while the decision is ${status}`);
        const maxSteps = fold.policy?.maxSteps ?? null;
        if (maxSteps !== null && (p['steps_executed'] as number) > maxSteps)
          throw order(seq, 'more steps completed than the policy allows');
        break;
      }
      case 'EXECUTION_FAILED':
        if (status !== 'executing') throw order(seq, `an outcome while the decision is ${status}`);
        break;
      default:
        break;
    }
    applyEvent(fold, event);
  }
}
