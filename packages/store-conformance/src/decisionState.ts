import type { Checkpoint, DecisionSummary, EventStore, StoredEvent } from '@nexus-control/core';

export interface DecisionState {
  readonly summary: DecisionSummary | undefined;
  /** Its current log. */
  readonly events: StoredEvent[];
  /** Its feed entries, every generation. */
  readonly feed: StoredEvent[];
  readonly headCheckpoint: Checkpoint;
}

/** Everything a reader can observe about one decision, to assert that a failed write changed nothing. */
export async function decisionState(store: EventStore, decisionId: string): Promise<DecisionState> {
  return {
    summary: await store.getDecision(decisionId),
    events: await store.readEvents(decisionId),
    feed: (await store.readFeed({ decisionId })).events,
    headCheckpoint: await store.headCheckpoint(),
  };
}
