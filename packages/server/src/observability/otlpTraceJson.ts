import type { SpanAttributes, SpanRecord } from './SpanRecord.js';

const STATUS_ERROR = 2;

/** Nanoseconds since the epoch as OTLP's JSON spells a 64-bit integer: a decimal string. */
function unixNano(ms: number): string {
  // Microseconds stay exact in a double up to the year 2255; the clock has no finer grain here.
  return `${Math.round(ms * 1000)}000`;
}

/** Printable ASCII without a quote or a backslash is its own JSON string body. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function jsonString(text: string): string {
  return PLAIN.test(text) ? `"${text}"` : JSON.stringify(text);
}

/** Span names and attribute keys come from a small set: each is escaped once. */
const known = new Map<string, string>();
function knownString(text: string): string {
  let json = known.get(text);
  if (json === undefined) {
    json = JSON.stringify(text);
    if (known.size < 1000) known.set(text, json);
  }
  return json;
}

function attributeValue(value: string | number | boolean): string {
  if (typeof value === 'string') return `{"stringValue":${jsonString(value)}}`;
  if (typeof value === 'boolean') return `{"boolValue":${value}}`;
  return Number.isSafeInteger(value) ? `{"intValue":"${value}"}` : `{"doubleValue":${Number.isFinite(value) ? value : 0}}`;
}

function attributeList(attributes: SpanAttributes): string {
  let out = '';
  for (const key of Object.keys(attributes)) {
    out += `${out === '' ? '' : ','}{"key":${knownString(key)},"value":${attributeValue(attributes[key]!)}}`;
  }
  return `[${out}]`;
}

/** One span as an element of OTLP JSON's `spans` list. */
export function spanJson(span: SpanRecord): string {
  return (
    `{"traceId":"${span.traceId}","spanId":"${span.spanId}"` +
    (span.parentSpanId === '' ? '' : `,"parentSpanId":"${span.parentSpanId}"`) +
    `,"name":${knownString(span.name)},"kind":${span.kind}` +
    `,"startTimeUnixNano":"${unixNano(span.startMs)}","endTimeUnixNano":"${unixNano(span.endMs)}"` +
    `,"attributes":${attributeList(span.attributes)}` +
    `,"status":${span.error === undefined ? '{}' : `{"code":${STATUS_ERROR},"message":${jsonString(span.error)}}`}}`
  );
}

/**
 * The text of an OTLP/HTTP JSON trace export (`ExportTraceServiceRequest`) around its spans, as
 * the part before and the part after the comma-separated span list: one resource named by
 * `service.name`, one instrumentation scope. Written directly as text: the spans are flat
 * records, and building the protocol's object tree first would cost the event loop more than
 * the spans themselves.
 */
export function otlpTraceEnvelope(serviceName: string, scopeName: string): { readonly before: string; readonly after: string } {
  return {
    before:
      `{"resourceSpans":[{"resource":{"attributes":${attributeList({ 'service.name': serviceName })}},` +
      `"scopeSpans":[{"scope":{"name":${JSON.stringify(scopeName)}},"spans":[`,
    after: ']}]}]}',
  };
}
