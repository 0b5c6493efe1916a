import { Metadata } from '@grpc/grpc-js';
import {
  DecisionStatus,
  DecisionSummary,
  HEAD_POSITION_HEADER,
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
import { NexusError, checkIdentifier, type ListDecisionsOptions } from '@nexus-control/core';
import { decisionOut, eventOut, lifecycleOut, modeIn, pointInTimeIn, policyInputIn, summaryOut } from '../convert.js';
import type { RpcRuntime } from '../createRpcRuntime.js';
import { renderInspection } from '../renderInspection.js';
import type { ServerDeps } from '../ServerDeps.js';

function feedPosition(value: string, field: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new NexusError('INVALID_ARGUMENT', `${field} must be a feed position (0 … 2^53-1)`, { field });
  return n;
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

export function decisionService(rpc: RpcRuntime, { nexus, store }: ServerDeps): DecisionServiceServer {
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

    listEvents: rpc.unary<ListEventsRequest, ListEventsResponse>('DecisionService/ListEvents', async (req) => {
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

    watchDecisions: rpc.serverStream<WatchDecisionsRequest, WatchDecisionsResponse>('DecisionService/WatchDecisions', async (req, ctx, sink) => {
      // Resolve "from now" here, so the header can tell the client exactly where the stream starts.
      const after = req.afterPosition === undefined ? await store.headPosition() : feedPosition(req.afterPosition, 'after_position');
      const headers = new Metadata();
      headers.set(HEAD_POSITION_HEADER, String(after));
      sink.sendHeaders(headers);
      const events = nexus.watch({
        afterPosition: after,
        signal: ctx.signal,
        ...(req.decisionId === '' ? {} : { decisionId: req.decisionId }),
      });
      for await (const event of events) {
        await sink.write({ event: eventOut(event) });
      }
    }),
  };
}
