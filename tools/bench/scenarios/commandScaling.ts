import { join } from 'node:path';
import { createNexusControl, fixedClock, type CommandContext, type NexusControl } from '@nexus-control/core';
import { createSqliteEventStore } from '@nexus-control/store-sqlite';
import { withBenchDir } from '../benchDir.js';
import { compareThroughput, describeComparison } from '../measure.js';
import type { Scenario } from '../scenario.js';

const LONG = 10_000;
const APPROVERS = 50;

const requester: CommandContext = { actor: { type: 'human', id: 'requester' } };
const approver = (i: number): CommandContext => ({ actor: { type: 'human', id: `approver-${i % APPROVERS}` } });

/** Approve/revoke cycles until the decision holds `events` events. */
async function grow(nexus: NexusControl, events: number): Promise<string> {
  const { decisionId } = await nexus.request({ goal: 'rotate the gateway keys', policy: { minApprovals: APPROVERS + 1 } }, requester);
  let count = 2;
  for (let wave = 0; count < events; wave++) {
    for (let i = 0; i < APPROVERS && count < events; i++, count++) {
      await (wave % 2 === 0 ? nexus.approve(decisionId, {}, approver(i)) : nexus.revoke(decisionId, {}, approver(i)));
    }
  }
  return decisionId;
}

/** One command on the decision: an approval by a fresh actor, then its revocation, alternately. */
function commandLoop(nexus: NexusControl, decisionId: string) {
  let n = 0;
  return async () => {
    const ctx: CommandContext = { actor: { type: 'human', id: 'bench-actor' } };
    await (n++ % 2 === 0 ? nexus.approve(decisionId, {}, ctx) : nexus.revoke(decisionId, {}, ctx));
  };
}

export const commandScaling: Scenario = {
  name: 'core-command-10k',
  description: `a command (approve/revoke) on a ${LONG.toLocaleString('en-US')}-event decision vs the same command on a 10-event one, both through the service on SQLite`,
  target: 0.8,
  async run({ seconds, log }) {
    return withBenchDir(async (dir) => {
      const store = createSqliteEventStore({ path: join(dir, 'commands.db'), synchronous: 'normal' });
      try {
        const setupStart = Date.now();
        const nexus = createNexusControl({ store, clock: fixedClock('2025-01-01T00:00:00+00:00') });
        const short = await grow(nexus, 10);
        const long = await grow(nexus, LONG);
        // A fresh service, so the long decision's first command pays the full replay once, like after a restart.
        const fresh = createNexusControl({ store, clock: fixedClock('2025-01-01T00:00:00+00:00') });
        const coldStart = performance.now();
        await fresh.getDecision(long);
        log(
          `built decisions of 10 and ${LONG} events in ${Date.now() - setupStart} ms; cold replay of the long one: ${(performance.now() - coldStart).toFixed(1)} ms`,
        );
        const budgetMs = Math.max(1000, seconds * 1000 * 0.9 - (Date.now() - setupStart));
        const comparison = await compareThroughput(
          { name: `command on a ${LONG}-event decision`, operation: commandLoop(fresh, long) },
          { name: 'command on a 10-event decision', operation: commandLoop(fresh, short) },
          { budgetMs },
        );
        return {
          ratio: comparison.ratio,
          lines: [...describeComparison('command', comparison, 'commands'), 'store: SQLite, synchronous=normal (the same for both)'],
        };
      } finally {
        await store.close();
      }
    });
  },
};
