import type { TracingConfig } from '../config/ServerConfig.js';
import { currentScope, parseTraceparent, runInScope, type CallScope, type CallState } from './callScope.js';
import { createIdSource } from './createIdSource.js';
import { createSpanExporter } from './createSpanExporter.js';
import { SPAN_KIND_INTERNAL, SPAN_KIND_SERVER, type SpanAttributes, type SpanRecord } from './SpanRecord.js';
import type { LeafSpan, Tracing } from './Tracing.js';

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

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The scope a child span's work runs in; its `traceparent` is written only when something (an adapter) asks for it. */
class ChildScope implements CallScope {
  constructor(
    readonly call: CallState,
    readonly span: SpanRecord,
  ) {}
  get traceparent(): string {
    return traceparentOf(this.span);
  }
}

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
  /** A span record that ends itself into the exporter. */
  class Span implements SpanRecord, LeafSpan {
    readonly spanId = ids.spanId();
    readonly startMs = nowMs();
    endMs = 0;
    error: string | undefined = undefined;
    constructor(
      readonly traceId: string,
      readonly parentSpanId: string,
      readonly name: string,
      readonly kind: SpanRecord['kind'],
      readonly attributes: Readonly<SpanAttributes>,
      readonly ownAttributes?: SpanAttributes,
    ) {}
    end(): void {
      this.endMs = nowMs();
      exporter.add(this);
    }
    fail(error: unknown): void {
      this.error = messageOf(error);
      this.end();
    }
  }
  // Per RPC method: its span name and the attributes every call of it has, made once.
  const methods = new Map<string, { readonly name: string; readonly attributes: Readonly<SpanAttributes> }>();
  const methodOf = (method: string) => {
    let found = methods.get(method);
    if (found === undefined) {
      const [service = '', name = method] = method.split('/');
      found = {
        name: `nexus.control.v1.${service}/${name}`,
        attributes: Object.freeze({ 'rpc.system': 'grpc', 'rpc.service': `nexus.control.v1.${service}`, 'rpc.method': name }),
      };
      if (methods.size < 1000) methods.set(method, found);
    }
    return found;
  };

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
      const { name, attributes: shared } = methodOf(method);
      const own: SpanAttributes = { ...attributes };
      const span = new Span(traceId, parsed?.spanId ?? '', name, SPAN_KIND_SERVER, shared, own);
      let ended = false;
      return {
        traceId: span.traceId,
        traceparent: traceparentOf(span),
        handle: span,
        end(outcome) {
          if (ended) return;
          ended = true;
          if (outcome.attributes) Object.assign(own, outcome.attributes);
          own['rpc.grpc.status_code'] = outcome.grpcCode;
          const error =
            outcome.grpcCode === 0 ? outcome.error : (outcome.error ?? GRPC_CODE_NAMES[outcome.grpcCode] ?? String(outcome.grpcCode));
          if (error === undefined) span.end();
          else span.fail(error);
        },
      };
    },
    inSpan<T>(name: string, attributes: Readonly<SpanAttributes>, fn: () => Promise<T>): Promise<T> {
      const scope = currentScope();
      const parent = scope?.span as Span | undefined;
      if (scope === undefined || parent === undefined) return fn();
      // Records never change their attributes: a caller's are kept, not copied.
      const span = new Span(parent.traceId, parent.spanId, name, SPAN_KIND_INTERNAL, attributes);
      let work: Promise<T>;
      try {
        work = runInScope(new ChildScope(scope.call, span), fn);
      } catch (error) {
        work = Promise.reject(error);
      }
      return work.then(
        (result) => {
          span.end();
          return result;
        },
        (error: unknown) => {
          span.fail(error);
          throw error;
        },
      );
    },
    startLeaf(name, attributes) {
      const parent = currentScope()?.span as Span | undefined;
      return parent === undefined ? undefined : new Span(parent.traceId, parent.spanId, name, SPAN_KIND_INTERNAL, attributes);
    },
    shutdown: () => exporter.shutdown(),
  };
}
