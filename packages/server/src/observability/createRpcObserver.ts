import { randomUUID } from 'node:crypto';
import { status, type Metadata } from '@grpc/grpc-js';
import type { CounterSeries } from './createCounterFamily.js';
import type { HistogramSeries } from './createHistogramFamily.js';
import { runInScope } from './callScope.js';
import type { ServerMetrics } from './createMetrics.js';
import type { Tracing } from './Tracing.js';

export type RpcType = 'unary' | 'server_stream';

/** One call as observability sees it. */
export interface ObservedCall {
  readonly requestId: string;
  readonly traceId: string | undefined;
  /** Runs the call's work inside its scope (log fields, trace parent, adapters' traceparent). */
  run<T>(fn: () => T): T;
  end(code: status, error?: string): void;
}

export interface RpcObserver {
  start(method: string, type: RpcType, metadata: Metadata): ObservedCall;
}

const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;
const SERVICE_PACKAGE = 'nexus.control.v1';

function firstString(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The RPC middleware: request id (the caller's `x-request-id` when it is printable ASCII, else a
 * new one), the RPC span from the caller's `traceparent`, and the `grpc_server_*` metrics.
 */
export function createRpcObserver(options: { metrics?: ServerMetrics; tracing: Tracing }): RpcObserver {
  const { metrics, tracing } = options;
  // Label children per method, made once: a call then updates its series without hashing labels.
  const series = new Map<
    string,
    {
      labels: { grpc_type: RpcType; grpc_service: string; grpc_method: string };
      started?: CounterSeries;
      seconds?: HistogramSeries;
      /** By gRPC status code name, made on first use. */
      handled: Map<string, CounterSeries>;
    }
  >();
  const seriesOf = (method: string, type: RpcType) => {
    let found = series.get(method);
    if (!found) {
      const [service = '', name = method] = method.split('/');
      const labels = { grpc_type: type, grpc_service: `${SERVICE_PACKAGE}.${service}`, grpc_method: name };
      found = {
        labels,
        handled: new Map(),
        ...(metrics ? { started: metrics.rpcStarted.labels(labels), seconds: metrics.rpcSeconds.labels(labels) } : {}),
      };
      series.set(method, found);
    }
    return found;
  };
  return {
    start(method, type, metadata) {
      const { labels, started: startedCounter, seconds, handled } = seriesOf(method, type);
      startedCounter?.inc();
      const started = performance.now();
      const given = firstString(metadata, 'x-request-id');
      const requestId = given !== undefined && REQUEST_ID.test(given) ? given : randomUUID();
      const span = tracing.startRpc(method, firstString(metadata, 'traceparent'), { 'nexus.request_id': requestId });
      const scope = { call: { requestId, traceId: span.traceId, conflicts: 0 }, traceparent: span.traceparent, span: span.handle };
      let ended = false;
      return {
        requestId,
        traceId: span.traceId,
        run: (fn) => runInScope(scope, fn),
        end(code, error) {
          if (ended) return;
          ended = true;
          if (metrics) {
            const grpcCode = status[code] ?? String(code);
            let counter = handled.get(grpcCode);
            if (!counter) handled.set(grpcCode, (counter = metrics.rpcHandled.labels({ ...labels, grpc_code: grpcCode })));
            counter.inc();
          }
          seconds?.observe((performance.now() - started) / 1000);
          span.end({ grpcCode: code, ...(error === undefined ? {} : { error }) });
        },
      };
    },
  };
}
