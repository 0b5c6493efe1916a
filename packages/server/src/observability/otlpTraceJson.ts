import type { SpanAttributes, SpanRecord } from './SpanRecord.js';

// OTLP/HTTP JSON of spans, written byte by byte straight into the export buffer: no string is
// built per span, so a traced call leaves nothing behind for the garbage collector but the span
// record itself, and nothing is copied twice. Every byte written is ASCII (anything else in a
// string is a `\u` escape), which also makes the length bound below simple.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const HEX = '0123456789abcdef';
const SHORT_ESCAPES: Readonly<Record<number, number>> = { 0x08: 0x62, 0x09: 0x74, 0x0a: 0x6e, 0x0c: 0x66, 0x0d: 0x72 };

/** Copies text already known to be ASCII (ids, digits, this module's own fragments). */
function ascii(out: Uint8Array, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) out[at++] = text.charCodeAt(i);
  return at;
}

function copy(out: Uint8Array, at: number, bytes: Uint8Array): number {
  out.set(bytes, at);
  return at + bytes.length;
}

/** A JSON string: printable ASCII as itself, the rest escaped; at most 6 bytes per UTF-16 unit, plus the quotes. */
function string(out: Uint8Array, at: number, text: string): number {
  out[at++] = QUOTE;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0x20 && unit < 0x7f) {
      if (unit === QUOTE || unit === BACKSLASH) out[at++] = BACKSLASH;
      out[at++] = unit;
    } else if (SHORT_ESCAPES[unit] !== undefined) {
      out[at++] = BACKSLASH;
      out[at++] = SHORT_ESCAPES[unit];
    } else {
      // Control characters, DEL and everything past ASCII, surrogates one by one (as JSON allows).
      out[at++] = BACKSLASH;
      out[at++] = 0x75;
      out[at++] = HEX.charCodeAt(unit >> 12);
      out[at++] = HEX.charCodeAt((unit >> 8) & 15);
      out[at++] = HEX.charCodeAt((unit >> 4) & 15);
      out[at++] = HEX.charCodeAt(unit & 15);
    }
  }
  out[at++] = QUOTE;
  return at;
}

const stringBound = (text: string) => text.length * 6 + 2;

/** A fragment of this module's own text, as bytes. */
const bytes = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

/** Text written once for reuse: into room for `bound` bytes, kept at the length written. */
function written(bound: number, write: (out: Uint8Array) => number): Uint8Array {
  const out = new Uint8Array(bound);
  return out.subarray(0, write(out));
}

/** Attribute keys come from a small set: each is written as JSON once. */
const known = new Map<string, Uint8Array>();
function knownString(text: string): Uint8Array {
  let found = known.get(text);
  if (found === undefined) {
    found = written(stringBound(text), (out) => string(out, 0, text));
    if (known.size < 1000) known.set(text, found);
  }
  return found;
}

const KEY = bytes('{"key":');
const STRING_VALUE = bytes(',"value":{"stringValue":');
const BOOL_TRUE = bytes(',"value":{"boolValue":true}}');
const BOOL_FALSE = bytes(',"value":{"boolValue":false}}');
const INT_VALUE = bytes(',"value":{"intValue":"');
const DOUBLE_VALUE = bytes(',"value":{"doubleValue":');
/** Past the key and the value: the longest value wrapper, a number's digits and the closing. */
const ATTRIBUTE_OVERHEAD = 64;

function attribute(out: Uint8Array, at: number, key: string, value: string | number | boolean): number {
  at = copy(out, at, KEY);
  at = copy(out, at, knownString(key));
  if (typeof value === 'string') {
    at = copy(out, at, STRING_VALUE);
    at = string(out, at, value);
    out[at++] = 0x7d;
    out[at++] = 0x7d;
  } else if (typeof value === 'boolean') {
    at = copy(out, at, value ? BOOL_TRUE : BOOL_FALSE);
  } else if (Number.isSafeInteger(value)) {
    at = copy(out, at, INT_VALUE);
    at = ascii(out, at, String(value));
    at = ascii(out, at, '"}}');
  } else {
    at = copy(out, at, DOUBLE_VALUE);
    at = ascii(out, at, Number.isFinite(value) ? String(value) : '0');
    at = ascii(out, at, '}}');
  }
  return at;
}

/** The attributes as the comma-separated elements of an OTLP attribute list. */
function attributes(out: Uint8Array, at: number, set: Readonly<SpanAttributes>, first: boolean): number {
  for (const key in set) {
    if (!first) out[at++] = COMMA;
    first = false;
    at = attribute(out, at, key, set[key]!);
  }
  return at;
}

function attributesBound(set: Readonly<SpanAttributes>): number {
  let bound = 0;
  for (const key in set) {
    const value = set[key]!;
    bound += stringBound(key) + (typeof value === 'string' ? stringBound(value) : 0) + ATTRIBUTE_OVERHEAD;
  }
  return bound;
}

const ATTRIBUTES = bytes('","attributes":[');

/**
 * The opening of the attribute list with the elements of a frozen attribute set (one per store
 * operation, RPC method or adapter) in it, written once; undefined for a set that is not frozen.
 */
const shared = new WeakMap<object, Uint8Array>();
function sharedOpening(set: Readonly<SpanAttributes>): Uint8Array | undefined {
  if (!Object.isFrozen(set)) return undefined;
  let found = shared.get(set);
  if (found === undefined) {
    found = written(ATTRIBUTES.length + attributesBound(set), (out) => attributes(out, copy(out, 0, ATTRIBUTES), set, true));
    shared.set(set, found);
  }
  return found;
}

let wholeSeconds = Number.NaN;
let wholeSecondsText = new Uint8Array(0);

/**
 * Nanoseconds since the epoch as OTLP's JSON spells a 64-bit integer (a decimal string), without
 * its quotes. The clock has no grain finer than a microsecond here. Written as the second (the
 * same for a second's spans, so its digits are kept) and the six digits of the microseconds
 * within it.
 */
function unixNano(out: Uint8Array, at: number, ms: number): number {
  const micros = Math.round(ms * 1000);
  const seconds = Math.floor(micros / 1_000_000);
  if (seconds !== wholeSeconds) {
    wholeSeconds = seconds;
    wholeSecondsText = bytes(String(seconds));
  }
  at = copy(out, at, wholeSecondsText);
  // Below a million: integer arithmetic from here on.
  let within = (micros - seconds * 1_000_000) | 0;
  for (let digit = at + 5; digit >= at; digit--) {
    out[digit] = 0x30 + (within % 10);
    within = (within / 10) | 0;
  }
  at += 6;
  out[at++] = 0x30;
  out[at++] = 0x30;
  out[at++] = 0x30;
  return at;
}

const TRACE_ID = bytes('{"traceId":"');
const SPAN_ID = bytes('","spanId":"');
const PARENT_SPAN_ID = bytes('","parentSpanId":"');
const END = bytes('","endTimeUnixNano":"');
const STATUS_OK = bytes('],"status":{}}');
const STATUS_ERROR = bytes('],"status":{"code":2,"message":');

/** By span kind, then name: the text from the end of the ids to the start time, written once. */
const heads = [new Map<string, Uint8Array>(), new Map<string, Uint8Array>(), new Map<string, Uint8Array>()];
function head(name: string, kind: SpanRecord['kind']): Uint8Array {
  let found = heads[kind]!.get(name);
  if (found === undefined) {
    found = written(64 + stringBound(name), (out) => {
      const at = string(out, ascii(out, 0, '","name":'), name);
      return ascii(out, at, `,"kind":${kind},"startTimeUnixNano":"`);
    });
    if (heads[kind]!.size < 1000) heads[kind]!.set(name, found);
  }
  return found;
}

/** Everything of a span but its ids, name, attributes and error message, with room to spare. */
const SPAN_OVERHEAD = 256;

/** The most bytes `writeSpanJson` can write for this span. */
export function spanJsonBound(span: SpanRecord): number {
  return (
    SPAN_OVERHEAD +
    span.traceId.length +
    span.spanId.length +
    span.parentSpanId.length +
    stringBound(span.name) +
    (sharedOpening(span.attributes)?.length ?? attributesBound(span.attributes)) +
    (span.ownAttributes === undefined ? 0 : attributesBound(span.ownAttributes)) +
    (span.error === undefined ? 0 : stringBound(span.error))
  );
}

/**
 * Writes one span as an element of OTLP JSON's `spans` list at `at`; returns where it ends. The
 * text that repeats from span to span (the fixed keys, a name's, a shared attribute set's) is
 * copied in a few whole pieces; only ids, times and a span's own attributes are written out.
 */
export function writeSpanJson(out: Uint8Array, at: number, span: SpanRecord): number {
  at = copy(out, at, TRACE_ID);
  at = ascii(out, at, span.traceId);
  at = copy(out, at, SPAN_ID);
  at = ascii(out, at, span.spanId);
  if (span.parentSpanId !== '') {
    at = copy(out, at, PARENT_SPAN_ID);
    at = ascii(out, at, span.parentSpanId);
  }
  at = copy(out, at, head(span.name, span.kind));
  at = unixNano(out, at, span.startMs);
  at = copy(out, at, END);
  at = unixNano(out, at, span.endMs);
  const opening = sharedOpening(span.attributes);
  let first: boolean;
  if (opening === undefined) {
    at = copy(out, at, ATTRIBUTES);
    const start = at;
    at = attributes(out, at, span.attributes, true);
    first = at === start;
  } else {
    at = copy(out, at, opening);
    first = opening.length === ATTRIBUTES.length;
  }
  if (span.ownAttributes !== undefined) at = attributes(out, at, span.ownAttributes, first);
  if (span.error === undefined) return copy(out, at, STATUS_OK);
  at = copy(out, at, STATUS_ERROR);
  at = string(out, at, span.error);
  out[at++] = 0x7d;
  out[at++] = 0x7d;
  return at;
}

/**
 * The text of an OTLP/HTTP JSON trace export (`ExportTraceServiceRequest`) around its spans, as
 * the part before and the part after the comma-separated span list: one resource named by
 * `service.name`, one instrumentation scope.
 */
export function otlpTraceEnvelope(serviceName: string, scopeName: string): { readonly before: Uint8Array; readonly after: Uint8Array } {
  const resource = { 'service.name': serviceName };
  const before = written(128 + attributesBound(resource) + stringBound(scopeName), (out) => {
    let at = ascii(out, 0, '{"resourceSpans":[{"resource":{"attributes":[');
    at = attributes(out, at, resource, true);
    at = ascii(out, at, ']},"scopeSpans":[{"scope":{"name":');
    at = string(out, at, scopeName);
    return ascii(out, at, '},"spans":[');
  });
  return { before, after: bytes(']}]}]}') };
}
