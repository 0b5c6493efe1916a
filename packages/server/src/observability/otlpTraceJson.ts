import type { SpanAttributes, SpanRecord } from './SpanRecord.js';

const STATUS_ERROR = 2;

let wholeSeconds = Number.NaN;
let wholeSecondsText = '';
const ZEROS = ['', '0', '00', '000', '0000', '00000'];

/**
 * Nanoseconds since the epoch as OTLP's JSON spells a 64-bit integer: a decimal string. The
 * clock has no grain finer than a microsecond here. Written as the second (the same for a
 * second's spans, so its digits are kept) and the microseconds within it: turning a 16-digit
 * double into text costs about twice as much as these two small integers.
 */
function unixNano(ms: number): string {
  const micros = Math.round(ms * 1000);
  const seconds = Math.floor(micros / 1_000_000);
  if (seconds !== wholeSeconds) {
    wholeSeconds = seconds;
    wholeSecondsText = String(seconds);
  }
  const within = String(micros - seconds * 1_000_000);
  return `${wholeSecondsText}${ZEROS[6 - within.length]}${within}000`;
}

/** Printable ASCII without a quote or a backslash is its own JSON string body. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const NOT_ASCII = /[\u007f-\uffff]/g;

const escapeUnit = (unit: string) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** A JSON string in ASCII alone (anything else as `\u` escapes), so the text is its own bytes. */
function jsonString(text: string): string {
  return PLAIN.test(text) ? `"${text}"` : JSON.stringify(text).replace(NOT_ASCII, escapeUnit);
}

/** Span names and attribute keys come from a small set: each is escaped once. */
const known = new Map<string, string>();
function knownString(text: string): string {
  let json = known.get(text);
  if (json === undefined) {
    json = jsonString(text);
    if (known.size < 1000) known.set(text, json);
  }
  return json;
}

function attributeValue(value: string | number | boolean): string {
  if (typeof value === 'string') return `{"stringValue":${jsonString(value)}}`;
  if (typeof value === 'boolean') return `{"boolValue":${value}}`;
  return Number.isSafeInteger(value) ? `{"intValue":"${value}"}` : `{"doubleValue":${Number.isFinite(value) ? value : 0}}`;
}

/** The attributes as the comma-separated elements of an OTLP attribute list. */
function attributeElements(attributes: Readonly<SpanAttributes>): string {
  let out = '';
  for (const key of Object.keys(attributes)) {
    out += `${out === '' ? '' : ','}{"key":${knownString(key)},"value":${attributeValue(attributes[key]!)}}`;
  }
  return out;
}

/** The text of frozen attribute objects: one per store operation or RPC method, never changed. */
const sharedText = new WeakMap<object, string>();
function sharedElements(attributes: Readonly<SpanAttributes>): string {
  if (!Object.isFrozen(attributes)) return attributeElements(attributes);
  let text = sharedText.get(attributes);
  if (text === undefined) sharedText.set(attributes, (text = attributeElements(attributes)));
  return text;
}

function attributeList(span: SpanRecord): string {
  const shared = sharedElements(span.attributes);
  if (span.ownAttributes === undefined) return `[${shared}]`;
  const own = attributeElements(span.ownAttributes);
  return shared === '' || own === '' ? `[${shared}${own}]` : `[${shared},${own}]`;
}

/** One span as an element of OTLP JSON's `spans` list, in ASCII alone. */
export function spanJson(span: SpanRecord): string {
  return (
    `{"traceId":"${span.traceId}","spanId":"${span.spanId}"` +
    (span.parentSpanId === '' ? '' : `,"parentSpanId":"${span.parentSpanId}"`) +
    `,"name":${knownString(span.name)},"kind":${span.kind}` +
    `,"startTimeUnixNano":"${unixNano(span.startMs)}","endTimeUnixNano":"${unixNano(span.endMs)}"` +
    `,"attributes":${attributeList(span)}` +
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
      `{"resourceSpans":[{"resource":{"attributes":[${attributeElements({ 'service.name': serviceName })}]},` +
      `"scopeSpans":[{"scope":{"name":${jsonString(scopeName)}},"spans":[`,
    after: ']}]}]}',
  };
}
