import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createNullAdapter, createRouter } from '@nexus-control/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createSpanExporter } from '../src/observability/createSpanExporter.js';
import { instrumentRouter } from '../src/observability/instrumentRouter.js';
import { createOtlpTracing } from '../src/observability/createOtlpTracing.js';
import { SPAN_KIND_INTERNAL, type SpanRecord } from '../src/observability/SpanRecord.js';

function span(n: number, extra: Partial<SpanRecord> = {}): SpanRecord {
  return {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: n.toString(16).padStart(16, '0'),
    parentSpanId: 'b7ad6b7169203331',
    name: 'store.append',
    kind: SPAN_KIND_INTERNAL,
    startMs: 1_700_000_000_000.25,
    endMs: 1_700_000_000_001.5,
    attributes: { n },
    ...extra,
  };
}

interface Received {
  readonly headers: IncomingMessage['headers'];
  readonly spanIds: string[];
  readonly attributes: { key: string; value: unknown }[][];
  /** The request body as sent. */
  readonly body: string;
}

/** A collector stand-in whose answers the test scripts: status codes in order, then 200. */
async function collector(statuses: number[] = []) {
  const received: Received[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const status = statuses.shift() ?? 200;
      if (status === 200) {
        const data = JSON.parse(body) as {
          resourceSpans: { scopeSpans: { spans: { spanId: string; attributes: { key: string; value: unknown }[] }[] }[] }[];
        };
        const spans = data.resourceSpans[0]!.scopeSpans[0]!.spans;
        received.push({ headers: req.headers, spanIds: spans.map((s) => s.spanId), attributes: spans.map((s) => s.attributes), body });
      }
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}/v1/traces`,
    received,
    sent: () => received.flatMap((r) => r.spanIds),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('OTLP JSON of span records', () => {
  it('spells ids in hex, times as decimal nanosecond strings, typed attributes and an error status', async () => {
    const sink = await collector();
    closers.push(sink.close);
    const exporter = createSpanExporter({ endpoint: sink.endpoint, headers: {}, serviceName: 'svc "quoted"', intervalMs: 60_000 });
    exporter.add(span(1, { attributes: { text: 'a"b\\c\u0001é', count: 3, ratio: 0.5, ok: true }, error: 'failed: "x"' }));
    exporter.add(span(2, { parentSpanId: '' }));
    await exporter.shutdown();
    expect(sink.received.length).toBe(1);
    const data = JSON.parse(sink.received[0]!.body) as {
      resourceSpans: {
        resource: { attributes: { key: string; value: unknown }[] };
        scopeSpans: { scope: { name: string }; spans: Record<string, unknown>[] }[];
      }[];
    };
    const resource = data.resourceSpans[0]!;
    expect(resource.resource.attributes).toEqual([{ key: 'service.name', value: { stringValue: 'svc "quoted"' } }]);
    expect(resource.scopeSpans[0]!.scope).toEqual({ name: 'nexus-control' });
    const [first, second] = resource.scopeSpans[0]!.spans;
    expect(first).toEqual({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: '0000000000000001',
      parentSpanId: 'b7ad6b7169203331',
      name: 'store.append',
      kind: 1,
      startTimeUnixNano: '1700000000000250000',
      endTimeUnixNano: '1700000000001500000',
      attributes: [
        { key: 'text', value: { stringValue: 'a"b\\c\u0001é' } },
        { key: 'count', value: { intValue: '3' } },
        { key: 'ratio', value: { doubleValue: 0.5 } },
        { key: 'ok', value: { boolValue: true } },
      ],
      status: { code: 2, message: 'failed: "x"' },
    });
    expect(second).not.toHaveProperty('parentSpanId');
    expect(second!['status']).toEqual({});
  });

  it('writes only ASCII, shared attributes before a span’s own, and times on, just before and rounded up to whole seconds', async () => {
    const sink = await collector();
    closers.push(sink.close);
    const exporter = createSpanExporter({ endpoint: sink.endpoint, headers: {}, serviceName: 'svc', intervalMs: 60_000 });
    const shared = Object.freeze({ 'rpc.method': 'Approve', 'rpc.service': 'nexus.control.v1.ApprovalService' });
    exporter.add(span(1, { attributes: shared, ownAttributes: { 'nexus.request_id': 'räksmörgås 🦐' }, error: 'nicht gefunden: ü' }));
    exporter.add(span(2, { attributes: shared, startMs: 1_700_000_001_000, endMs: 1_700_000_001_999.999 }));
    exporter.add(
      span(3, { attributes: {}, ownAttributes: { only: 'own' }, startMs: 1_700_000_001_999.9996, endMs: 1_700_000_002_000.001 }),
    );
    await exporter.shutdown();
    const body = sink.received[0]!.body;
    expect(body).toMatch(/^[\x20-\x7e]*$/);
    const spans = (JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[] }).resourceSpans[0]!
      .scopeSpans[0]!.spans;
    expect(spans[0]!['attributes']).toEqual([
      { key: 'rpc.method', value: { stringValue: 'Approve' } },
      { key: 'rpc.service', value: { stringValue: 'nexus.control.v1.ApprovalService' } },
      { key: 'nexus.request_id', value: { stringValue: 'räksmörgås 🦐' } },
    ]);
    expect(spans[0]!['status']).toEqual({ code: 2, message: 'nicht gefunden: ü' });
    expect(spans[1]!['attributes']).toEqual((spans[0]!['attributes'] as unknown[]).slice(0, 2));
    expect([spans[1]!['startTimeUnixNano'], spans[1]!['endTimeUnixNano']]).toEqual(['1700000001000000000', '1700000001999999000']);
    expect(spans[2]!['attributes']).toEqual([{ key: 'only', value: { stringValue: 'own' } }]);
    expect([spans[2]!['startTimeUnixNano'], spans[2]!['endTimeUnixNano']]).toEqual(['1700000002000000000', '1700000002000001000']);
  });
});

describe('span export', () => {
  it('sends finished spans to the collector with its headers, and sends what is left on shutdown', async () => {
    const sink = await collector();
    closers.push(sink.close);
    const exporter = createSpanExporter({
      endpoint: sink.endpoint,
      headers: { authorization: 'Bearer collector-secret' },
      serviceName: 'test',
      intervalMs: 60_000,
    });
    for (let i = 1; i <= 3; i++) exporter.add(span(i));
    await exporter.shutdown();
    expect(sink.sent()).toEqual(['0000000000000001', '0000000000000002', '0000000000000003']);
    expect(sink.received[0]!.headers['authorization']).toBe('Bearer collector-secret');
    expect(sink.received[0]!.headers['content-type']).toBe('application/json');
  });

  it('sends at most maxBatch spans per request, in order, text outside ASCII intact however long', async () => {
    const sink = await collector();
    closers.push(sink.close);
    const exporter = createSpanExporter({ endpoint: sink.endpoint, headers: {}, serviceName: 'test', intervalMs: 60_000, maxBatch: 2 });
    // Long enough that the batch's first buffer has to grow while it fills.
    const long = 'é☃ "naïve" \\ '.repeat(4_000);
    for (let i = 1; i <= 5; i++) exporter.add(span(i, { attributes: { text: `${i}:${long}` } }));
    await exporter.shutdown();
    expect(sink.received.map((r) => r.spanIds.length)).toEqual([2, 2, 1]);
    expect(sink.sent()).toEqual([1, 2, 3, 4, 5].map((n) => n.toString(16).padStart(16, '0')));
    expect(sink.received.flatMap((r) => r.attributes)).toEqual(
      [1, 2, 3, 4, 5].map((i) => [{ key: 'text', value: { stringValue: `${i}:${long}` } }]),
    );
  });

  it('keeps the spans while the collector asks for a retry, and sends them once it accepts', async () => {
    const sink = await collector([503, 429]);
    closers.push(sink.close);
    const problems: string[] = [];
    const exporter = createSpanExporter({
      endpoint: sink.endpoint,
      headers: { authorization: 'Bearer collector-secret' },
      serviceName: 'test',
      intervalMs: 20,
      onProblem: (message) => problems.push(message),
    });
    closers.push(() => exporter.shutdown());
    exporter.add(span(1));
    exporter.add(span(2));
    await expect.poll(() => sink.sent(), { timeout: 5_000 }).toEqual(['0000000000000001', '0000000000000002']);
    // A kind of problem is reported once a minute at most, naming the collector but never its headers.
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('HTTP 503');
    expect(problems.join(' ')).not.toContain('collector-secret');
  });

  it('drops a batch the collector refuses outright, and carries on with the next', async () => {
    const sink = await collector([400]);
    closers.push(sink.close);
    const problems: string[] = [];
    const exporter = createSpanExporter({
      endpoint: sink.endpoint,
      headers: {},
      serviceName: 'test',
      intervalMs: 20,
      onProblem: (message) => problems.push(message),
    });
    closers.push(() => exporter.shutdown());
    exporter.add(span(1));
    await expect.poll(() => problems.length, { timeout: 5_000 }).toBe(1);
    exporter.add(span(2));
    await expect.poll(() => sink.sent(), { timeout: 5_000 }).toEqual(['0000000000000002']);
    expect(problems[0]).toContain('HTTP 400');
  });

  it('holds at most maxQueue spans while the collector is away, dropping and counting the rest', async () => {
    const sink = await collector();
    const endpoint = sink.endpoint;
    await sink.close();
    const problems: string[] = [];
    const exporter = createSpanExporter({
      endpoint,
      headers: {},
      serviceName: 'test',
      intervalMs: 60_000,
      maxQueue: 5,
      onProblem: (m) => problems.push(m),
    });
    for (let i = 1; i <= 8; i++) exporter.add(span(i));
    await expect(exporter.shutdown()).rejects.toThrow('5 spans could not be exported');
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^cannot export 5 spans to the trace collector at http:\/\/127\.0\.0\.1:\d+\/v1\/traces: /);
    expect(problems[1]).toMatch(/^dropped 3 spans: the trace collector at http:\/\/127\.0\.0\.1:\d+\/v1\/traces did not keep up$/);
  });
});

/** Tracing to a collector stand-in, exporting only when shut down. */
async function tracingFor(sampleRatio: number) {
  const sink = await collector();
  closers.push(sink.close);
  const tracing = createOtlpTracing({ endpoint: sink.endpoint, headers: {}, serviceName: 'test', exportIntervalMs: 60_000, sampleRatio });
  closers.push(() => tracing.shutdown());
  return tracing;
}

describe('sampling', () => {
  it('records about sampleRatio of the calls that start their own trace, and every call whose caller sampled it', async () => {
    const tracing = await tracingFor(0.25);
    const calls = 4000;
    let recorded = 0;
    for (let i = 0; i < calls; i++) if (tracing.startRpc('S/M', undefined, {}).handle !== undefined) recorded++;
    // 1,000 expected; the bounds are more than six standard deviations away.
    expect(recorded).toBeGreaterThan(820);
    expect(recorded).toBeLessThan(1180);
    const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    for (let i = 0; i < 50; i++) expect(tracing.startRpc('S/M', parent, {}).handle).toBeDefined();
  });
});

describe('tracing wrappers', () => {
  it('an instrumented router keeps what its adapters declare, such as running without side effects', async () => {
    const tracing = await tracingFor(1);
    const adapter = instrumentRouter(createRouter([createNullAdapter()]), tracing).adapter('null')!;
    expect(adapter.sideEffects).toBe(false);
    expect(adapter.capabilities).toEqual(['dry_run']);
  });
});
