import type { StoredEvent } from '../events/DecisionEvent.js';
import { eventDigestFromPayloadJson } from '../events/newEvent.js';
import { NexusError } from '../errors/NexusError.js';
import { createNullAdapter } from '../router/createNullAdapter.js';
import { createRouter } from '../router/createRouter.js';
import type { Router } from '../router/Router.js';
import { DEFAULT_FEED_LIMIT, type EventStore } from '../store/EventStore.js';
import { systemClock, type Clock } from '../time/Clock.js';
import { parseTimestamp } from '../time/timestamp.js';
import { approveDecision } from './commands/approveDecision.js';
import { createTemplate } from './commands/createTemplate.js';
import { executeDecision } from './commands/executeDecision.js';
import { failExecution } from './commands/failExecution.js';
import { recoverExecutions } from './commands/recoverExecutions.js';
import { requestDecision } from './commands/requestDecision.js';
import { revokeApproval } from './commands/revokeApproval.js';
import { createDecisionCache } from './decisionCache.js';
import { leaseConfigOf, type ExecutionLeaseSettings } from './executionLeases.js';
import { viewOf } from './decisionFold.js';
import { lifecycleOf } from './lifecycle.js';
import type { DecisionView, NexusControl, PointInTime } from './NexusControlApi.js';
import { replayDecision } from './replay.js';
import type { ServiceDeps } from './ServiceDeps.js';
import { validateDecisionId, validateName } from './validation.js';
import { createFeedFollower } from './createFeedFollower.js';
import { newDecisionId } from './newDecisionId.js';
import { DEFAULT_WATCH_BUFFER_LIMIT, watchEvents } from './watchEvents.js';

export interface NexusControlOptions {
  readonly store: EventStore;
  /** Default: only the built-in `null` adapter. */
  readonly router?: Router;
  /** Default: the system clock. Replay never reads it; commands and "now" queries do. */
  readonly clock?: Clock;
  readonly forbidSelfApproval?: boolean;
  readonly newDecisionId?: () => string;
  /** How many replayed decisions to keep in memory. */
  readonly cacheSize?: number;
  /** Poll interval of the watches' shared feed reader, for appends the store cannot announce. */
  readonly watchPollMs?: number;
  /** Execution leases: owner id, lease length, renewal interval (defaults in `executionLeases`). */
  readonly executionLeases?: ExecutionLeaseSettings;
  /** Events buffered for one watch whose consumer falls behind, before it is ended (WATCH_BUFFER_FULL). */
  readonly watchBufferLimit?: number;
}

/** The embeddable service: commands, queries and the change feed over one store. */
export function createNexusControl(options: NexusControlOptions): NexusControl {
  const store = options.store;
  const deps: ServiceDeps = {
    store,
    router: options.router ?? createRouter([createNullAdapter()]),
    clock: options.clock ?? systemClock,
    cache: createDecisionCache(store, options.cacheSize),
    newDecisionId: options.newDecisionId ?? newDecisionId,
    forbidSelfApproval: options.forbidSelfApproval ?? false,
    maxConflictRetries: 25,
    leases: leaseConfigOf(options.executionLeases),
  };
  /** Runs this process is executing now, so its own sweep leaves them to their keepers. */
  const running = new Map<string, number>();

  // One feed reader for every watch of this service, whatever their number.
  const bufferLimit = options.watchBufferLimit ?? DEFAULT_WATCH_BUFFER_LIMIT;
  if (!Number.isSafeInteger(bufferLimit) || bufferLimit < 1) {
    throw new NexusError('INVALID_ARGUMENT', `watchBufferLimit must be a positive integer, got ${String(bufferLimit)}`);
  }
  // A page is handed to the watches in one go: one page must fit a drained buffer, so only a
  // reader that falls behind across pages is ended.
  const follower = createFeedFollower(store, {
    pageLimit: Math.min(DEFAULT_FEED_LIMIT, bufferLimit),
    ...(options.watchPollMs === undefined ? {} : { pollMs: options.watchPollMs }),
  });
  const watchLimits = { bufferLimit };

  async function eventsAt(decisionId: string, at: PointInTime = {}): Promise<StoredEvent[]> {
    validateDecisionId(decisionId);
    const toSeq = 'atSeq' in at ? at.atSeq : undefined;
    if (toSeq !== undefined && (!Number.isSafeInteger(toSeq) || toSeq < 0)) {
      throw new NexusError('INVALID_ARGUMENT', 'atSeq must be a non-negative integer');
    }
    const events = await store.readEvents(decisionId, toSeq === undefined ? {} : { toSeq });
    if (events.length === 0) throw new NexusError('DECISION_NOT_FOUND', `decision ${decisionId} does not exist`, { decisionId });
    if ('asOf' in at && at.asOf !== undefined) {
      const until = parseTimestamp(at.asOf);
      const cut = events.findIndex((e) => parseTimestamp(e.ts) > until);
      if (cut === 0) throw new NexusError('DECISION_NOT_FOUND', `decision ${decisionId} did not exist at ${at.asOf}`, { decisionId });
      return cut === -1 ? events : events.slice(0, cut);
    }
    return events;
  }

  function isPointInTime(at: PointInTime): boolean {
    return 'atSeq' in at || 'asOf' in at;
  }

  function replayAt(events: readonly StoredEvent[], at: PointInTime): DecisionView {
    return replayDecision(events, 'asOf' in at ? { asOf: at.asOf } : {});
  }

  async function viewAt(decisionId: string, at: PointInTime = {}): Promise<DecisionView> {
    if (isPointInTime(at)) return replayAt(await eventsAt(decisionId, at), at);
    validateDecisionId(decisionId);
    return viewOf(await deps.cache.load(decisionId), deps.clock.now());
  }

  /** The view and exactly the events it was built from (the current view comes from the cache). */
  async function snapshotAt(decisionId: string, at: PointInTime): Promise<{ view: DecisionView; events: StoredEvent[] }> {
    const events = await eventsAt(decisionId, at);
    const view = isPointInTime(at) ? replayAt(events, at) : await viewAt(decisionId);
    return { view, events: events.slice(0, view.eventCount) };
  }

  return {
    request: (input, ctx) => requestDecision(deps, input, ctx),
    approve: (id, input, ctx) => approveDecision(deps, id, input, ctx),
    revoke: (id, input, ctx) => revokeApproval(deps, id, input, ctx),
    async execute(id, input, ctx) {
      running.set(id, (running.get(id) ?? 0) + 1);
      try {
        return await executeDecision(deps, id, input, ctx);
      } finally {
        const left = (running.get(id) ?? 1) - 1;
        if (left === 0) running.delete(id);
        else running.set(id, left);
      }
    },
    failExecution: (id, input, ctx) => failExecution(deps, id, input, ctx),
    recoverExecutions: () => recoverExecutions(deps, (id) => running.has(id)),

    createTemplate: (input, ctx) => createTemplate(deps, input, ctx),
    async getTemplate(name) {
      const template = await store.getTemplate(validateName(name, 'template name'));
      if (!template) throw new NexusError('TEMPLATE_NOT_FOUND', `template '${name}' does not exist`, { templateName: name });
      return template;
    },
    listTemplates: () => store.listTemplates(),

    getDecision: viewAt,
    async lifecycle(id, at = {}) {
      const { view, events } = await snapshotAt(id, at);
      return lifecycleOf(view, events);
    },
    async inspect(id, at = {}) {
      const { view, events } = await snapshotAt(id, at);
      const invalid = events.filter((e) => eventDigestFromPayloadJson(e.type, e.payloadJson) !== e.digest).map((e) => e.seq);
      return {
        ...lifecycleOf(view, events),
        events,
        integrity: { eventDigestsValid: invalid.length === 0, invalidEventSeqs: invalid },
      };
    },
    events: eventsAt,
    listDecisions: (listOptions) => store.listDecisions(listOptions),
    watch: (watchOptions) => watchEvents(store, follower, watchOptions, watchLimits),
  };
}
