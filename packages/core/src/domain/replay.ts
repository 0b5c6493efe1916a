import { NexusError } from '../errors/NexusError.js';
import { parseTimestamp } from '../time/timestamp.js';
import { applyEvent, emptyFold, lastEventMicros, viewOf, type DecisionFold, type ReplayableEvent } from './decisionFold.js';
import type { DecisionView } from './NexusControlApi.js';

export interface ReplayOptions {
  /** Evaluate approvals at this instant (timestamp with zone). Default: the last replayed event's ts. */
  readonly asOf?: string;
  /** Replay only events with seq <= atSeq. */
  readonly atSeq?: number;
  /** Replay only events with ts <= until (and evaluate at it unless `asOf` says otherwise). */
  readonly until?: string;
}

/** Folds events (in seq order) into a fold; stops at `atSeq` / `until`. Never reads the clock. */
export function foldEvents(events: readonly ReplayableEvent[], options: ReplayOptions = {}): DecisionFold {
  const first = events[0];
  if (!first) throw new NexusError('DECISION_NOT_FOUND', 'there are no events to replay');
  const decisionId = first.decisionId ?? '';
  const fold = emptyFold(decisionId);
  const untilMicros = options.until === undefined ? undefined : parseTimestamp(options.until);
  for (const event of events) {
    if (options.atSeq !== undefined && event.seq > options.atSeq) break;
    if (untilMicros !== undefined && parseTimestamp(event.ts) > untilMicros) break;
    applyEvent(fold, event);
  }
  if (fold.eventCount === 0) {
    throw new NexusError('DECISION_NOT_FOUND', `decision ${decisionId} did not exist at that point in time`, { decisionId });
  }
  return fold;
}

/**
 * Replays a decision's log into its state (SPEC §2). The same events and the same `asOf`
 * always give the same state.
 */
export function replayDecision(events: readonly ReplayableEvent[], options: ReplayOptions = {}): DecisionView {
  const fold = foldEvents(events, options);
  const asOf =
    options.asOf !== undefined
      ? parseTimestamp(options.asOf)
      : options.until !== undefined
        ? parseTimestamp(options.until)
        : lastEventMicros(fold);
  return viewOf(fold, asOf);
}
