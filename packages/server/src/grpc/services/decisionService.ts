import {
  DecisionStatus,
  DecisionSummary,
  decisionStatusNames,
  type CreateDecisionRequest,
  type CreateDecisionResponse,
  type DecisionServiceServer,
  type GetDecisionRequest,
  type GetDecisionResponse,
  type InspectDecisionRequest,
  type InspectDecisionResponse,
  type ListDecisionsRequest,
  type ListDecisionsResponse,
  type ListEventsRequest,
  type ListEventsResponse,
  type WatchDecisionsRequest,
  type WatchDecisionsResponse,
} from '@nexus-control/client';
import { FEED_START, NexusError, checkIdentifier, type ListDecisionsOptions } from '@nexus-control/core';
import { decisionOut, eventOut, lifecycleOut, modeIn, pointInTimeIn, policyInputIn, summaryOut } from '../convert.js';
import type { RpcRuntime } from '../createRpcRuntime.js';
import { renderInspection } from '../renderInspection.js';
import type { ServerDeps } from '../ServerDeps.js';

const DEFAULT_CHECKPOINT_INTERVAL_MS = 5000;
const MIN_CHECKPOINT_INTERVAL_MS = 100;
const MAX_CHECKPOINT_INTERVAL_MS = 3_600_000;

/** Where a watch starts: absent `after` is "from now" (the domain reads the head watermark). */
function watchStart(req: WatchDecisionsRequest): { after?: string } {
  if (req.after !== undefined) return { after: req.after };
  if (req.fromStart !== undefined) return { after: FEED_START };
  return {};
}

function checkpointInterval(ms: number): number {
  if (ms === 0) return DEFAULT_CHECKPOINT_INTERVAL_MS;
  if (ms < MIN_CHECKPOINT_INTERVAL_MS || ms > MAX_CHECKPOINT_INTERVAL_MS) {
    throw new NexusError(
      'INVALID_ARGUMENT',
      `checkpoint_interval_ms must be 0 (default) or ${MIN_CHECKPOINT_INTERVAL_MS} … ${MAX_CHECKPOINT_INTERVAL_MS}`,
      { field: 'checkpoint_interval_ms' },
    );
  }
  return ms;
}

/** Reading a superseded log is the audit view of what an overwrite import replaced. */
function canReadSuperseded(roles: ReadonlySet<string>): boolean {
  return roles.has('auditor') || roles.has('admin');
}

/** The most bytes of summaries one ListDecisions page carries (README "Field limits and hostile input"). */
export const MAX_PAGE_BYTES = 1024 * 1024;

function countWithin<T>(items: readonly T[], size: (item: T) => number, budget: number): number {
  let used = 0;
  for (let i = 0; i < items.length; i++) {
    used += size(items[i] as T);
    if (used > budget) return Math.max(1, i);
  }
  return items.length;
}

export function decisionService(rpc: RpcRuntime, { nexus, store, metrics }: ServerDeps): DecisionServiceServer {
  return {
    createDecision: rpc.unary<CreateDecisionRequest, CreateDecisionResponse>('DecisionService/CreateDecision', async (req, ctx) => {
      const mode = modeIn(req.mode, 'mode');
      const policy = policyInputIn(req.policy);
      const view = await nexus.request(
        {
          goal: req.goal,
          ...(req.plan === undefined ? {} : { plan: req.plan }),
          ...(mode === undefined ? {} : { mode }),
          ...(policy === undefined ? {} : { policy }),
          ...(req.templateName === '' ? {} : { templateName: req.templateName }),
        },
        { actor: ctx.identity.actor, ...(req.idempotencyKey === '' ? {} : { idempotencyKey: req.idempotencyKey }) },
      );
      return { decision: decisionOut(view) };
    }),

    getDecision: rpc.unary<GetDecisionRequest, GetDecisionResponse>('DecisionService/GetDecision', async (req) => {
      const at = pointInTimeIn(req.at);
      if (req.includeLifecycle) {
        const lifecycle = await nexus.lifecycle(req.decisionId, at);
        return { decision: decisionOut(lifecycle.decision), lifecycle: lifecycleOut(lifecycle) };
      }
      return { decision: decisionOut(await nexus.getDecision(req.decisionId, at)), lifecycle: undefined };
    }),

    listDecisions: rpc.unary<ListDecisionsRequest, ListDecisionsResponse>('DecisionService/ListDecisions', async (req) => {
      if (req.pageSize < 0) throw new NexusError('INVALID_ARGUMENT', 'page_size must not be negative', { field: 'page_size' });
      let status: ListDecisionsOptions['status'];
      if (req.status !== DecisionStatus.DECISION_STATUS_UNSPECIFIED) {
        status = decisionStatusNames.toSpec(req.status);
        if (status === undefined) throw new NexusError('INVALID_ARGUMENT', `unknown status ${req.status}`, { field: 'status' });
      }
      if (req.label !== '') checkIdentifier(req.label, 'label', 'INVALID_ARGUMENT');
      const options: ListDecisionsOptions = {
        ...(req.pageSize === 0 ? {} : { limit: req.pageSize }),
        ...(req.pageToken === '' ? {} : { cursor: req.pageToken }),
        ...(req.label === '' ? {} : { label: req.label }),
        ...(status === undefined ? {} : { status }),
      };
      let page = await nexus.listDecisions(options);
      let decisions = page.items.map(summaryOut);
      // A page is bounded by its encoded size as well as by its count: when the summaries
      // would exceed the budget, the page holds as many as fit (at least one) and the next
      // page token continues after them.
      const fitting = countWithin(decisions, (summary) => DecisionSummary.encode(summary).finish().length + 8, MAX_PAGE_BYTES);
      if (fitting < decisions.length) {
        page = await nexus.listDecisions({ ...options, limit: fitting });
        decisions = page.items.map(summaryOut);
      }
      return { decisions, nextPageToken: page.nextCursor ?? '' };
    }),

    listEvents: rpc.unary<ListEventsRequest, ListEventsResponse>('DecisionService/ListEvents', async (req, ctx) => {
      if (req.generation !== undefined) {
        if (!canReadSuperseded(ctx.identity.roles)) {
          throw new NexusError('PERMISSION_DENIED', 'reading a superseded generation needs the auditor or admin role', {
            field: 'generation',
          });
        }
        if (req.at !== undefined) {
          throw new NexusError('INVALID_ARGUMENT', 'generation cannot be combined with at', { field: 'generation' });
        }
        if (req.generation < 0) {
          throw new NexusError('INVALID_ARGUMENT', 'generation must not be negative', { field: 'generation' });
        }
        const events = await store.readEvents(req.decisionId, { generation: req.generation });
        return { events: events.map(eventOut) };
      }
      const events = await nexus.events(req.decisionId, pointInTimeIn(req.at));
      return { events: events.map(eventOut) };
    }),

    inspectDecision: rpc.unary<InspectDecisionRequest, InspectDecisionResponse>('DecisionService/InspectDecision', async (req) => {
      const inspection = await nexus.inspect(req.decisionId, pointInTimeIn(req.at));
      return {
        decision: decisionOut(inspection.decision),
        lifecycle: lifecycleOut(inspection),
        events: inspection.events.map(eventOut),
        integrity: {
          eventDigestsValid: inspection.integrity.eventDigestsValid,
          invalidEventSeqs: [...inspection.integrity.invalidEventSeqs],
        },
        rendered: renderInspection(inspection),
      };
    }),

    watchDecisions: rpc.serverStream<WatchDecisionsRequest, WatchDecisionsResponse>(
      'DecisionService/WatchDecisions',
      async (req, ctx, sink) => {
        const items = nexus.watch({
          ...watchStart(req),
          checkpointIntervalMs: checkpointInterval(req.checkpointIntervalMs),
          signal: ctx.signal,
          ...(req.decisionId === '' ? {} : { decisionId: req.decisionId }),
        });
        // The lag gauge reads the time of the event this stream is handing over (none while it waits).
        let delivering: number | undefined;
        const closeWatch = metrics?.openWatch({ delivering: () => delivering });
        try {
          for await (const item of items) {
            if (item.type === 'event') {
              delivering = Date.parse(item.event.ts);
              await sink.write({ event: eventOut(item.event) });
              delivering = undefined;
            } else if (item.type === 'checkpoint') await sink.write({ checkpoint: { checkpoint: item.checkpoint } });
            else await sink.write({ caughtUp: { checkpoint: item.checkpoint } });
          }
        } finally {
          closeWatch?.();
        }
      },
    ),
  };
}
