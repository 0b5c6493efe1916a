import { NexusError } from '../errors/NexusError.js';
import type { EventStore } from '../store/EventStore.js';
import type { Clock } from '../time/Clock.js';
import { formatTimestamp } from '../time/timestamp.js';
import { buildBundle } from './buildBundle.js';
import type { DecisionBundle } from './types.js';

export interface ExportBundleOptions {
  /** Only `meta.exported_at` reads it. */
  readonly clock: Clock;
}

/** Exports a stored decision as a v0.5 bundle; DECISION_NOT_FOUND for an unknown id. */
export async function exportBundle(store: EventStore, decisionId: string, options: ExportBundleOptions): Promise<DecisionBundle> {
  const events = await store.readEvents(decisionId);
  if (events.length === 0) {
    throw new NexusError('DECISION_NOT_FOUND', `decision ${decisionId} does not exist`, { decisionId });
  }
  return buildBundle(decisionId, events, formatTimestamp(options.clock.now()));
}
