import { describe, expect, it } from 'vitest';
import { newEvent } from '../../src/events/newEvent.js';
import type { JsonObject } from '../../src/json/JsonValue.js';
import { replayDecision } from '../../src/domain/replay.js';
import { NexusError } from '../../src/errors/NexusError.js';

const requester = { type: 'human', id: 'alice' } as const;
const ts = '2025-03-01T12:00:00+00:00';

function log(created: JsonObject, policy: JsonObject) {
  return [newEvent('DECISION_CREATED', created, requester, ts), newEvent('POLICY_ATTACHED', policy, requester, ts)].map((e, seq) => ({
    ...e,
    seq,
    decisionId: 'dec_legacy',
  }));
}

const POLICY = { min_approvals: 1, allowed_modes: ['dry_run'], require_adapter_capabilities: [], max_steps: null, labels: [] };
const CREATED = { goal: 'g', plan: null, requested_mode: 'dry_run', labels: [] };

function replayCode(events: ReturnType<typeof log>): string {
  try {
    replayDecision(events);
    return 'ok';
  } catch (error) {
    if (error instanceof NexusError) return error.code;
    throw error;
  }
}

describe('logs stored by earlier releases', () => {
  it('stay readable when they only exceed today’s size limits', () => {
    const labels = Array.from({ length: 70 }, (_, i) => `label ${i}`);
    expect(replayCode(log({ ...CREATED, goal: 'g'.repeat(20_000), labels }, { ...POLICY, min_approvals: 5_000, labels }))).toBe('ok');
  });

  it('fail to replay when the request or policy holds values of the wrong kind', () => {
    for (const policy of [
      { min_approvals: null },
      { min_approvals: 0 },
      { min_approvals: 2.5 },
      { min_approvals: '2' },
      { allowed_modes: ['teleport'] },
      { allowed_modes: [] },
      { max_steps: -1 },
      { labels: 'prod' },
    ]) {
      expect(replayCode(log(CREATED, { ...POLICY, ...policy } as JsonObject)), JSON.stringify(policy)).toBe('REPLAY_INVALID');
    }
    for (const created of [{ goal: 12345 }, { requested_mode: 'teleport' }, { plan: 7 }]) {
      expect(replayCode(log({ ...CREATED, ...created } as JsonObject, POLICY)), JSON.stringify(created)).toBe('REPLAY_INVALID');
    }
  });
});
