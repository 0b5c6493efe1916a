import { describe, expect, it } from 'vitest';
import { otlpTraceEnvelope, spanJsonBound, writeSpanJson } from '../src/observability/otlpTraceJson.js';
import { SPAN_KIND_INTERNAL, SPAN_KIND_SERVER, type SpanAttributes, type SpanRecord } from '../src/observability/SpanRecord.js';

/** A small seeded generator: every run writes the same spans. */
function random(seed: number) {
  let state = seed;
  const next = () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const pick = <T>(choices: readonly T[]): T => choices[Math.floor(next() * choices.length)]!;
  // Plain text, JSON's own escapes, control characters, DEL, accents, a lone and a paired surrogate.
  const pieces = [
    'a',
    'Z',
    '9',
    ' ',
    '"',
    '\\',
    '/',
    '\n',
    '\t',
    '\r',
    '\b',
    '\f',
    '\u0000',
    '\u001f',
    '\u007f',
    'é',
    '€',
    '\ud83e',
    '\ud83e\udd90',
  ];
  const text = (max: number) => Array.from({ length: Math.floor(next() * max) }, () => pick(pieces)).join('');
  const value = (): string | number | boolean =>
    pick([
      () => text(40),
      () => Math.floor(next() * 2 ** 53) * pick([1, -1]),
      () => (next() - 0.5) * 10 ** Math.floor(next() * 40 - 20),
      () => next() < 0.5,
      () => Number.NaN,
    ])();
  const set = (): SpanAttributes => Object.fromEntries(Array.from({ length: Math.floor(next() * 4) }, () => [text(12), value()]));
  return { next, text, set };
}

const hex = (n: number, digits: number) => n.toString(16).padStart(digits, '0').slice(-digits);

/** What an OTLP JSON reader must find for a span: written here from the record, independently of the writer. */
function expected(span: SpanRecord) {
  const list = (set: SpanAttributes | undefined) =>
    Object.entries(set ?? {}).map(([key, value]) => ({
      key,
      value:
        typeof value === 'string'
          ? { stringValue: value }
          : typeof value === 'boolean'
            ? { boolValue: value }
            : Number.isSafeInteger(value)
              ? { intValue: String(value) }
              : { doubleValue: Number.isFinite(value) ? value : 0 },
    }));
  const nanos = (ms: number) => (BigInt(Math.round(ms * 1000)) * 1000n).toString();
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    ...(span.parentSpanId === '' ? {} : { parentSpanId: span.parentSpanId }),
    name: span.name,
    kind: span.kind,
    startTimeUnixNano: nanos(span.startMs),
    endTimeUnixNano: nanos(span.endMs),
    attributes: [...list(span.attributes), ...list(span.ownAttributes)],
    status: span.error === undefined ? {} : { code: 2, message: span.error },
  };
}

describe('OTLP JSON written straight into bytes', () => {
  it('reads back as exactly the span, within the bound it promised, in ASCII alone, for a thousand odd spans', () => {
    const r = random(7);
    const out = Buffer.alloc(1 << 20);
    for (let i = 0; i < 1000; i++) {
      const startMs = 1_600_000_000_000 + r.next() * 10 ** 11;
      const attributes = r.set();
      const span: SpanRecord = {
        traceId: hex(i + 1, 32),
        spanId: hex(i * 7919 + 1, 16),
        parentSpanId: r.next() < 0.3 ? '' : hex(i * 104_729 + 3, 16),
        name: r.text(20),
        kind: r.next() < 0.5 ? SPAN_KIND_INTERNAL : SPAN_KIND_SERVER,
        startMs,
        endMs: startMs + r.next() * 5000,
        // Frozen sets are written once and reused: the same set appears in several spans.
        attributes: r.next() < 0.5 ? Object.freeze(attributes) : attributes,
        ...(r.next() < 0.5 ? { ownAttributes: r.set() } : {}),
        ...(r.next() < 0.3 ? { error: r.text(60) } : {}),
      };
      const at = 100;
      const end = writeSpanJson(out, at, span);
      expect(end - at).toBeLessThanOrEqual(spanJsonBound(span));
      const text = out.toString('latin1', at, end);
      expect(text).toMatch(/^[\x20-\x7e]*$/);
      expect(JSON.parse(text)).toEqual(expected(span));
      if (Object.isFrozen(span.attributes))
        expect(JSON.parse(out.toString('latin1', at, writeSpanJson(out, at, span)))).toEqual(expected(span));
    }
  });

  it('writes the same text for a frozen set of attributes as for a fresh copy of it', () => {
    const base = {
      traceId: hex(1, 32),
      spanId: hex(2, 16),
      parentSpanId: '',
      name: 'store.append',
      kind: SPAN_KIND_INTERNAL,
      startMs: 1,
      endMs: 2,
    } as const;
    const set = { 'db.system': 'sqlite', 'db.operation': 'append', retries: 2, ok: true };
    const frozen = Object.freeze({ ...set });
    const write = (span: SpanRecord) => {
      const out = Buffer.alloc(spanJsonBound(span));
      return out.toString('latin1', 0, writeSpanJson(out, 0, span));
    };
    expect(write({ ...base, attributes: frozen })).toBe(write({ ...base, attributes: { ...set } }));
    expect(write({ ...base, attributes: frozen, ownAttributes: { n: 1 } })).toBe(write({ ...base, attributes: { ...set, n: 1 } }));
  });

  it('wraps spans in one resource named by service.name and one scope', () => {
    const { before, after } = otlpTraceEnvelope('nexus "prod" ü', 'nexus-control');
    const span: SpanRecord = {
      traceId: hex(1, 32),
      spanId: hex(2, 16),
      parentSpanId: '',
      name: 'x',
      kind: SPAN_KIND_SERVER,
      startMs: 1,
      endMs: 2,
      attributes: {},
    };
    const out = Buffer.alloc(spanJsonBound(span) * 2 + 1);
    let at = writeSpanJson(out, 0, span);
    out[at++] = 0x2c;
    at = writeSpanJson(out, at, span);
    const body = JSON.parse(Buffer.concat([before, out.subarray(0, at), after]).toString('latin1')) as {
      resourceSpans: { resource: unknown; scopeSpans: { scope: unknown; spans: unknown[] }[] }[];
    };
    expect(body.resourceSpans).toHaveLength(1);
    expect(body.resourceSpans[0]!.resource).toEqual({ attributes: [{ key: 'service.name', value: { stringValue: 'nexus "prod" ü' } }] });
    expect(body.resourceSpans[0]!.scopeSpans[0]!.scope).toEqual({ name: 'nexus-control' });
    expect(body.resourceSpans[0]!.scopeSpans[0]!.spans).toHaveLength(2);
  });
});
