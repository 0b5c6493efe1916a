import type { TracingConfig } from '../config/ServerConfig.js';
import { currentScope, parseTraceparent, runInScope } from './callScope.js';
import { createIdSource } from './createIdSource.js';
import { createSpanExporter } from './createSpanExporter.js';
import { SPAN_KIND_INTERNAL, SPAN_KIND_SERVER, type SpanAttributes, type SpanRecord } from './SpanRecord.js';
import type { Tracing } from './Tracing.js';

const GRPC_CODE_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

/** Wall-clock milliseconds with the monotonic clock's fraction: spans of one call order correctly. */
const nowMs = () => performance.timeOrigin + performance.now();

const traceparentOf = (span: SpanRecord) => `00-${span.traceId}-${span.spanId}-01`;

function finish(span: SpanRecord, error?: string): void {
  span.endMs = nowMs();
  if (error !== undefined) span.error = error;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * OpenTelemetry traces exported over OTLP/HTTP (JSON) to the configured collector, recorded as
 * plain span records and written out by a small exporter of our own rather than the SDK: with
 * every call traced, the SDK's span objects and export transforms cost about a third more CPU
 * per call, these records about a third of what the SDK did (see the README's benchmarks).
 * Sampling follows the caller: a `traceparent` whose sampled flag is off records no span and
 * passes through unchanged; a call without one starts a new trace, recorded for the configured
 * share of trace ids (`sampleRatio`). Loaded only when the configuration turns tracing on.
 */
export function createOtlpTracing(config: TracingConfig, options: { onProblem?: (message: string) => void } = {}): Tracing {
  const ids = createIdSource();
  // By the trace id, like OpenTelemetry's trace-id-ratio sampler: its last 13 hex digits (52
  // random bits, exact in a double) against the ratio, so a given trace id is always decided alike.
  const threshold = config.sampleRatio * 2 ** 52;
  const sampled = (traceId: string) => config.sampleRatio >= 1 || parseInt(traceId.slice(19), 16) < threshold;
  const exporter = createSpanExporter({
    endpoint: config.endpoint,
    headers: config.headers,
    serviceName: config.serviceName,
    intervalMs: config.exportIntervalMs,
    ...(options.onProblem ? { onProblem: options.onProblem } : {}),
  });
  const record = (traceId: string, parentSpanId: string, name: string, kind: SpanRecord['kind'], attributes: Readonly<SpanAttributes>) => ({
    traceId,
    spanId: ids.spanId(),
    parentSpanId,
    name,
    kind,
    startMs: nowMs(),
    endMs: 0,
    attributes,
  });
  const settle = <T>(span: SpanRecord, work: Promise<T>): Promise<T> =>
    work.then(
      (result) => {
        finish(span);
        exporter.add(span);
        return result;
      },
      (error: unknown) => {
        finish(span, messageOf(error));
        exporter.add(span);
        throw error;
      },
    );

  return {
    enabled: true,
    startRpc(method, incoming, attributes) {
      const parsed = parseTraceparent(incoming);
      if (parsed && (parseInt(parsed.flags, 16) & 1) === 0) {
        return { traceId: parsed.traceId, traceparent: incoming!.trim().toLowerCase(), handle: undefined, end() {} };
      }
      const traceId = parsed?.traceId ?? ids.traceId();
      if (!parsed && !sampled(traceId)) {
        // Not recorded, but the trace still reaches the logs and, unsampled, the adapters.
        return { traceId, traceparent: `00-${traceId}-${ids.spanId()}-00`, handle: undefined, end() {} };
      }
      const [service = '', name = method] = method.split('/');
      const rpcAttributes: SpanAttributes = {
        'rpc.system': 'grpc',
        'rpc.service': `nexus.control.v1.${service}`,
        'rpc.method': name,
        ...attributes,
      };
      const span = record(traceId, parsed?.spanId ?? '', `nexus.control.v1.${service}/${name}`, SPAN_KIND_SERVER, rpcAttributes);
      let ended = false;
      return {
        traceId: span.traceId,
        traceparent: traceparentOf(span),
        handle: span,
        end(outcome) {
          if (ended) return;
          ended = true;
          if (outcome.attributes) Object.assign(rpcAttributes, outcome.attributes);
          rpcAttributes['rpc.grpc.status_code'] = outcome.grpcCode;
          finish(
            span,
            outcome.grpcCode === 0 ? outcome.error : (outcome.error ?? GRPC_CODE_NAMES[outcome.grpcCode] ?? String(outcome.grpcCode)),
          );
          exporter.add(span);
        },
      };
    },
    inSpan<T>(name: string, attributes: SpanAttributes, fn: () => Promise<T>, leaf = false): Promise<T> {
      const scope = currentScope();
      const parent = scope?.span as SpanRecord | undefined;
      if (!scope || parent?.spanId === undefined) return fn();
      // Records never change their attributes: a caller's are kept, not copied.
      const span = record(parent.traceId, parent.spanId, name, SPAN_KIND_INTERNAL, attributes);
      let work: Promise<T>;
      try {
        work = leaf ? fn() : runInScope({ call: scope.call, traceparent: traceparentOf(span), span }, fn);
      } catch (error) {
        work = Promise.reject(error);
      }
      return settle(span, work);
    },
    shutdown: () => exporter.shutdown(),
  };
}
