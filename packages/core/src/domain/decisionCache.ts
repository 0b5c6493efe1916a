import type { StoredEvent } from '../events/DecisionEvent.js';
import { NexusError } from '../errors/NexusError.js';
import type { EventStore } from '../store/EventStore.js';
import { applyEvent, emptyFold, type DecisionFold } from './decisionFold.js';

export interface DecisionCache {
  /**
   * The decision's fold, brought up to date with one range read of the events after the
   * cached seq. Throws DECISION_NOT_FOUND.
   */
  load(decisionId: string): Promise<DecisionFold>;
  /**
   * The fold this process holds, without asking the store: it may be behind other processes'
   * appends. Only for deciding a write whose append the store checks against the fold's version.
   */
  peek(decisionId: string): DecisionFold | undefined;
  /** Keeps the fold of a decision this process just created. */
  remember(fold: DecisionFold): void;
  /** Applies events this process just appended (already-applied seqs are skipped). */
  applyAppended(fold: DecisionFold, events: readonly StoredEvent[]): void;
}

/**
 * Keeps replayed folds so a command costs the same on a 10-event and a 10,000-event log.
 * The cache is only a shortcut: every append still carries the fold's log version, so the
 * store's optimistic check catches a fold that another process made stale.
 */
export function createDecisionCache(store: EventStore, capacity = 1000): DecisionCache {
  const folds = new Map<string, DecisionFold>();

  function remember(fold: DecisionFold): void {
    folds.delete(fold.decisionId);
    folds.set(fold.decisionId, fold);
    if (folds.size > capacity) {
      const oldest = folds.keys().next().value;
      if (oldest !== undefined) folds.delete(oldest);
    }
  }

  async function fullLoad(decisionId: string): Promise<DecisionFold> {
    const events = await store.readEvents(decisionId);
    if (events.length === 0) throw new NexusError('DECISION_NOT_FOUND', `decision ${decisionId} does not exist`, { decisionId });
    const fold = emptyFold(decisionId);
    for (const event of events) applyEvent(fold, event);
    remember(fold);
    return fold;
  }

  return {
    async load(decisionId) {
      const cached = folds.get(decisionId);
      if (!cached) return fullLoad(decisionId);
      // Re-read the last known event too: if it is gone or of another generation, an overwrite
      // import replaced the log (even by one of the same length), and the fold starts over.
      const lastSeq = cached.eventCount - 1;
      const events = await store.readEvents(decisionId, { fromSeq: lastSeq });
      const last = events[0];
      if (!last || last.seq !== lastSeq || last.generation !== cached.generation) {
        folds.delete(decisionId);
        return fullLoad(decisionId);
      }
      for (let i = 1; i < events.length; i++) applyEvent(cached, events[i]!);
      remember(cached);
      return cached;
    },
    peek(decisionId) {
      const cached = folds.get(decisionId);
      if (cached) remember(cached);
      return cached;
    },
    remember,
    applyAppended(fold, events) {
      for (const event of events) applyEvent(fold, event);
    },
  };
}
