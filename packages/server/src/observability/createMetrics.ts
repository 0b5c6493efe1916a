import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { createCounter, createCounterFamily, type Counter, type CounterFamily } from './createCounterFamily.js';
import { createHistogramFamily, type HistogramFamily } from './createHistogramFamily.js';

/** Seconds; the go-grpc-prometheus default buckets. */
const RPC_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** A watch stream as the lag gauge sees it: the `ts` (ms) of the event it is delivering, if any. */
export interface WatchStreamProbe {
  delivering(): number | undefined;
}

/**
 * Every metric the server exports (listed with their meaning in the README's operations section).
 * prom-client keeps the registry, renders the exposition and measures the process; the series a
 * call updates are this server's own (`createCounterFamily`, `createHistogramFamily`), because a
 * prom-client series hashes its label values on every update, even through a labelled child.
 */
export interface ServerMetrics {
  readonly registry: Registry;
  readonly rpcStarted: CounterFamily<'grpc_type' | 'grpc_service' | 'grpc_method'>;
  readonly rpcHandled: CounterFamily<'grpc_type' | 'grpc_service' | 'grpc_method' | 'grpc_code'>;
  readonly rpcSeconds: HistogramFamily<'grpc_type' | 'grpc_service' | 'grpc_method'>;
  readonly storeSeconds: HistogramFamily<'store' | 'operation'>;
  readonly storeErrors: CounterFamily<'store' | 'operation' | 'code'>;
  readonly storeConflicts: CounterFamily<'store'>;
  readonly conflictRetries: CounterFamily<'store'>;
  readonly decisionsCreated: Counter;
  readonly approvals: CounterFamily<'action'>;
  readonly executions: CounterFamily<'outcome'>;
  readonly executionsRecovered: Counter;
  readonly recoveryFailures: Counter;
  /** Registers an open watch stream; the returned function unregisters it. */
  openWatch(stream: WatchStreamProbe): () => void;
}

export function createMetrics(options: { processMetrics?: boolean } = {}): ServerMetrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const streams = new Set<WatchStreamProbe>();
  const rpcLabels = ['grpc_type', 'grpc_service', 'grpc_method'] as const;
  new Gauge({
    name: 'nexus_watch_streams_open',
    help: 'Open WatchDecisions streams.',
    registers: [registry],
    collect() {
      this.set(streams.size);
    },
  });
  new Gauge({
    name: 'nexus_watch_lag_seconds',
    help: 'How far behind the live head the slowest open watch stream is: the age of the oldest event a stream is still delivering (0 when every stream waits for new events).',
    registers: [registry],
    collect() {
      const now = Date.now();
      let worst = 0;
      for (const stream of streams) {
        const ts = stream.delivering();
        if (ts !== undefined && now - ts > worst) worst = now - ts;
      }
      this.set(worst / 1000);
    },
  });
  return {
    registry,
    rpcStarted: createCounterFamily({
      name: 'grpc_server_started_total',
      help: 'RPCs started on the server.',
      labelNames: rpcLabels,
      registers: [registry],
    }),
    rpcHandled: createCounterFamily({
      name: 'grpc_server_handled_total',
      help: 'RPCs completed on the server, whatever their status.',
      labelNames: [...rpcLabels, 'grpc_code'],
      registers: [registry],
    }),
    rpcSeconds: createHistogramFamily({
      name: 'grpc_server_handling_seconds',
      help: 'Time from the start of an RPC to its status being sent.',
      labelNames: rpcLabels,
      buckets: RPC_BUCKETS,
      registers: [registry],
    }),
    storeSeconds: createHistogramFamily({
      name: 'nexus_store_operation_seconds',
      help: 'Latency of event store operations, by store and operation (failures included).',
      labelNames: ['store', 'operation'],
      buckets: STORE_BUCKETS,
      registers: [registry],
    }),
    storeErrors: createCounterFamily({
      name: 'nexus_store_operation_errors_total',
      help: 'Event store operations that failed, by error code.',
      labelNames: ['store', 'operation', 'code'],
      registers: [registry],
    }),
    storeConflicts: createCounterFamily({
      name: 'nexus_store_conflicts_total',
      help: 'Appends that lost an optimistic-concurrency race.',
      labelNames: ['store'],
      registers: [registry],
    }),
    conflictRetries: createCounterFamily({
      name: 'nexus_store_conflict_retries_total',
      help: 'Appends made by a command after one of its appends lost a race (retries).',
      labelNames: ['store'],
      registers: [registry],
    }),
    decisionsCreated: createCounter({
      name: 'nexus_decisions_created_total',
      help: 'Decisions created (committed; idempotent repeats not counted).',
      registers: [registry],
    }),
    approvals: createCounterFamily({
      name: 'nexus_approvals_total',
      help: 'Approvals committed, by action (granted, revoked).',
      labelNames: ['action'],
      registers: [registry],
    }),
    executions: createCounterFamily({
      name: 'nexus_executions_total',
      help: 'Executions finished, by outcome (completed, failed).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    executionsRecovered: createCounter({
      name: 'nexus_executions_recovered_total',
      help: "Executions whose server died mid-run (lease lapsed), closed as failed by this server's recovery sweep.",
      registers: [registry],
    }),
    recoveryFailures: createCounter({
      name: 'nexus_execution_recovery_failures_total',
      help: 'Interrupted executions the recovery sweep found but could not close yet (it retries on its next sweep).',
      registers: [registry],
    }),
    openWatch(stream) {
      streams.add(stream);
      return () => streams.delete(stream);
    },
  };
}
