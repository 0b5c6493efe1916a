import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { currentScope, parseTraceparent, runInScope } from './callScope.js';
import type { TracingConfig } from '../config/ServerConfig.js';
import type { SpanEnd, Tracing } from './Tracing.js';

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

function traceparentOf(span: Span): string {
  const context = span.spanContext();
  return `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 1) === 1 ? '01' : '00'}`;
}

function finish(span: Span, end: SpanEnd): void {
  if (end.attributes) span.setAttributes(end.attributes);
  if (end.error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: end.error });
  span.end();
}

/**
 * OpenTelemetry tracing exported over OTLP/HTTP (JSON). Loaded only when the configuration
 * turns tracing on, so a server without it pays nothing. Spans are parented explicitly through
 * the call scope rather than a global context manager: several servers in one process (tests,
 * embedding) keep their trees apart.
 */
export function createOtelTracing(config: TracingConfig): Tracing {
  const exporter = new OTLPTraceExporter({ url: config.endpoint, headers: { ...config.headers } });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: config.exportIntervalMs })],
  });
  const tracer: Tracer = provider.getTracer('nexus-control');

  return {
    enabled: true,
    startRpc(method, incoming, attributes) {
      const parsed = parseTraceparent(incoming);
      const parent = parsed
        ? trace.setSpanContext(ROOT_CONTEXT, {
            traceId: parsed.traceId,
            spanId: parsed.spanId,
            traceFlags: parseInt(parsed.flags, 16) & 1,
            isRemote: true,
          })
        : ROOT_CONTEXT;
      const [service = '', name = method] = method.split('/');
      const span = tracer.startSpan(
        `nexus.control.v1.${service}/${name}`,
        {
          kind: SpanKind.SERVER,
          attributes: { 'rpc.system': 'grpc', 'rpc.service': `nexus.control.v1.${service}`, 'rpc.method': name, ...attributes },
        },
        parent,
      );
      return {
        traceId: span.spanContext().traceId,
        traceparent: traceparentOf(span),
        handle: span,
        end(outcome) {
          span.setAttribute('rpc.grpc.status_code', outcome.grpcCode);
          finish(
            span,
            outcome.grpcCode === 0
              ? outcome
              : { ...outcome, error: outcome.error ?? GRPC_CODE_NAMES[outcome.grpcCode] ?? String(outcome.grpcCode) },
          );
        },
      };
    },
    async inSpan(name, attributes, fn, leaf = false) {
      const scope = currentScope();
      if (!scope || !(scope.span as Span | undefined)?.spanContext) return fn();
      const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, trace.setSpan(ROOT_CONTEXT, scope.span as Span));
      if (leaf) {
        return fn().then(
          (result) => {
            finish(span, {});
            return result;
          },
          (error: unknown) => {
            finish(span, { error: error instanceof Error ? error.message : String(error) });
            throw error;
          },
        );
      }
      try {
        const result = await runInScope({ call: scope.call, traceparent: traceparentOf(span), span }, fn);
        finish(span, {});
        return result;
      } catch (error) {
        finish(span, { error: error instanceof Error ? error.message : String(error) });
        throw error;
      }
    },
    async shutdown() {
      await provider.shutdown();
    },
  };
}
