import type { EventStore } from '@nexus-control/core';
import { approvalEvent } from './fixtures.js';

/**
 * A writer as the service layer is one: read the log's version, append one approval there,
 * and on a lost race read again and retry. Returns the number of conflicts it met.
 */
export async function approveWithRetry(store: EventStore, decisionId: string, actorId: string): Promise<number> {
  for (let conflicts = 0; conflicts < 200; conflicts++) {
    const summary = await store.getDecision(decisionId);
    if (summary === undefined) throw new Error(`${decisionId} does not exist`);
    try {
      await store.append({
        decisionId,
        expectedVersion: { generation: summary.generation, length: summary.eventCount },
        events: [approvalEvent(actorId)],
        status: 'approved',
      });
      return conflicts;
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'CONCURRENCY_CONFLICT') throw error;
    }
  }
  throw new Error(`${actorId} gave up after 200 conflicts`);
}
