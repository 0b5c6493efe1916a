import { NexusError, isConcurrencyConflict, type AppendRequest, type EventStore } from '@nexus-control/core';
import { currentScope } from './callScope.js';
import type { ServerMetrics } from './createMetrics.js';
import type { Tracing } from './Tracing.js';

const MEASURED = [
  'append',
  'readEvents',
  'getDecision',
  'listDecisions',
  'readFeed',
  'headCheckpoint',
  'getIdempotency',
  'getRouterResult',
  'importDecision',
  'createTemplate',
  'getTemplate',
  'listTemplates',
] as const;

/** The domain counters' series an append can move, labelled once. */
function committedCounters(metrics: ServerMetrics) {
  return {
    created: metrics.decisionsCreated,
    granted: metrics.approvals.labels({ action: 'granted' }),
    revoked: metrics.approvals.labels({ action: 'revoked' }),
    completed: metrics.executions.labels({ outcome: 'completed' }),
    failed: metrics.executions.labels({ outcome: 'failed' }),
  };
}

function countCommitted(counters: ReturnType<typeof committedCounters>, request: AppendRequest): void {
  for (const event of request.events) {
    if (event.type === 'DECISION_CREATED') counters.created.inc();
    else if (event.type === 'APPROVAL_GRANTED') counters.granted.inc();
    else if (event.type === 'APPROVAL_REVOKED') counters.revoked.inc();
    else if (event.type === 'EXECUTION_COMPLETED') counters.completed.inc();
    else if (event.type === 'EXECUTION_FAILED') counters.failed.inc();
  }
}

/**
 * Measures every store operation (latency by store and operation, failures by code), counts
 * conflicts and the retries after them, and counts the domain's decisions, approvals and
 * executions from what appends actually commit: an idempotent repeat commits nothing and so
 * counts nothing. Inside a traced call each operation is a span. The store itself is untouched.
 */
export function instrumentStore(store: EventStore, storeName: string, metrics: ServerMetrics | undefined, tracing: Tracing): EventStore {
  if (!metrics && !tracing.enabled) return store;
  const counters = metrics ? committedCounters(metrics) : undefined;
  const conflicts = metrics?.storeConflicts.labels({ store: storeName });
  const conflictRetries = metrics?.conflictRetries.labels({ store: storeName });
  const wrapped: Record<string, unknown> = {};
  for (const key of Object.keys(store)) {
    const value = (store as unknown as Record<string, unknown>)[key];
    wrapped[key] = typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(store) : value;
  }
  for (const operation of MEASURED) {
    const original = (store[operation] as (...args: unknown[]) => Promise<unknown>).bind(store);
    const seconds = metrics?.storeSeconds.labels({ store: storeName, operation });
    const spanName = `store.${operation}`;
    const attributes = Object.freeze({ 'db.system': storeName, 'db.operation': operation });
    // One promise per call and no scope of its own: this wraps every store call of every RPC.
    wrapped[operation] = (...args: unknown[]) => {
      const scope = currentScope();
      if (operation === 'append' && scope && scope.call.conflicts > 0) conflictRetries?.inc();
      const span = tracing.startLeaf(spanName, attributes);
      const started = performance.now();
      let work: Promise<unknown>;
      try {
        work = original(...args);
      } catch (error) {
        work = Promise.reject(error);
      }
      return work.then(
        (result) => {
          seconds?.observe((performance.now() - started) / 1000);
          span?.end();
          if (operation === 'append' && counters) countCommitted(counters, args[0] as AppendRequest);
          return result;
        },
        (error: unknown) => {
          seconds?.observe((performance.now() - started) / 1000);
          span?.fail(error);
          if (isConcurrencyConflict(error)) {
            conflicts?.inc();
            if (scope) scope.call.conflicts++;
          }
          metrics?.storeErrors.inc({ store: storeName, operation, code: error instanceof NexusError ? error.code : 'UNEXPECTED' });
          throw error;
        },
      );
    };
  }
  return wrapped as unknown as EventStore;
}
