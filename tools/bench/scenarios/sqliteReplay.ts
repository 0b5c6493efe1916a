import { join } from 'node:path';
import Database from 'better-sqlite3';
import { newEvent, replayDecision, type NewEvent } from '@nexus-control/core';
import { createSqliteEventStore } from '@nexus-control/store-sqlite';
import { withBenchDir } from '../benchDir.js';
import { compareThroughput, describeComparison } from '../measure.js';
import type { Scenario } from '../scenario.js';

export const EVENTS = 10_000;
const APPROVERS = 50;
const BASE_MS = Date.UTC(2025, 0, 1);

export function ts(seconds: number): string {
  return `${new Date(BASE_MS + seconds * 1000).toISOString().slice(0, 19)}+00:00`;
}

/** A long-lived decision: created, a policy, then waves of approvals and revocations. */
export function decisionLog(): NewEvent[] {
  const requester = { type: 'human', id: 'requester' } as const;
  const events: NewEvent[] = [
    newEvent(
      'DECISION_CREATED',
      { goal: 'keep the payment gateway keys rotated', plan: 'rotate, verify, retire', requested_mode: 'apply', labels: ['prod', 'payments'] },
      requester,
      ts(0),
    ),
    newEvent(
      'POLICY_ATTACHED',
      {
        min_approvals: 3,
        allowed_modes: ['dry_run', 'apply'],
        require_adapter_capabilities: ['apply'],
        max_steps: 10,
        labels: ['prod', 'payments'],
      },
      requester,
      ts(0),
    ),
  ];
  for (let k = 0; events.length < EVENTS; k++) {
    const actor = { type: 'human', id: `approver-${k % APPROVERS}` } as const;
    const granting = Math.floor(k / APPROVERS) % 2 === 0;
    events.push(
      granting
        ? newEvent('APPROVAL_GRANTED', { expires_at: ts(10 * EVENTS + k), comment: `wave ${Math.floor(k / APPROVERS)}` }, actor, ts(1 + k))
        : newEvent('APPROVAL_REVOKED', { reason: 'superseded by a new plan' }, actor, ts(1 + k)),
    );
  }
  return events;
}

export const sqliteReplay: Scenario = {
  name: 'sqlite-replay',
  description: `reading and replaying a ${EVENTS.toLocaleString('en-US')}-event decision vs a raw SELECT + JSON.parse of the same rows`,
  target: 0.7,
  async run({ seconds, log }) {
    return withBenchDir(async (dir) => {
      const path = join(dir, 'replay.db');
      const store = createSqliteEventStore({ path, synchronous: 'normal' });
      const raw = new Database(path, { readonly: true });
      try {
        const setupStart = Date.now();
        const decisionId = 'dec_bench_replay';
        const events = decisionLog();
        const first = events[0]!;
        const batch = 500;
        for (let seq = 0; seq < events.length; seq += batch) {
          await store.append({
            decisionId,
            expectedVersion: { generation: 0, length: seq },
            events: events.slice(seq, seq + batch),
            status: 'pending_approval',
            ...(seq === 0
              ? {
                  header: {
                    decisionId,
                    createdAt: first.ts,
                    goal: 'keep the payment gateway keys rotated',
                    requestedMode: 'apply' as const,
                    labels: ['prod', 'payments'],
                  },
                }
              : {}),
          });
        }
        const asOf = ts(EVENTS + 1);
        const view = replayDecision(await store.readEvents(decisionId), { asOf });
        log(`wrote ${view.eventCount} events in ${Date.now() - setupStart} ms; replayed status ${view.status}, ${view.activeApprovals} active approvals`);

        const ours = async () => {
          const stored = await store.readEvents(decisionId);
          return replayDecision(stored, { asOf });
        };
        const select = raw
          .prepare('SELECT position, generation, seq, type, ts, actor_type, actor_id, payload, digest FROM events WHERE decision_id = ? AND generation = 0 ORDER BY seq')
          .raw();
        const baseline = () => {
          const rows = select.all(decisionId) as unknown[][];
          for (const row of rows) row[7] = JSON.parse(row[7] as string);
          return rows;
        };
        const budgetMs = Math.max(1000, seconds * 1000 * 0.9 - (Date.now() - setupStart));
        const comparison = await compareThroughput(
          { name: 'store.readEvents + replayDecision', operation: ours },
          { name: 'better-sqlite3 SELECT (raw rows) + JSON.parse of each payload', operation: baseline },
          { budgetMs },
        );
        return { ratio: comparison.ratio, lines: describeComparison('replay', comparison, 'replays') };
      } finally {
        raw.close();
        await store.close();
      }
    });
  },
};
