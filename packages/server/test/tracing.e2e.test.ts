import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Mode, type NexusClient } from '@nexus-control/client';
import { createNullAdapter, createRouter } from '@nexus-control/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpAdapter, createSubprocessAdapter } from '@nexus-control/adapters';
import { currentTraceparent } from '../src/observability/callScope.js';
import { startOtlpReceiver, type ReceivedSpan } from './helpers/otlpReceiver.js';
import { castOf, executorScript, startTestServer, type TestServer } from './helpers/testServer.js';

let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
let executor: Server;
const executorHeaders: (string | undefined)[] = [];
let t: TestServer;
let alice: NexusClient, bob: NexusClient, deployer: NexusClient;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  executor = createServer((req, res) => {
    executorHeaders.push(req.headers['traceparent'] as string | undefined);
    req.resume();
    req.on('end', () =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"run_id":"h-1","status":"completed","steps_executed":1}'),
    );
  });
  await new Promise<void>((resolve) => executor.listen(0, '127.0.0.1', resolve));
  const router = createRouter([
    createNullAdapter(),
    createSubprocessAdapter({
      id: 'deploy',
      command: [process.execPath, executorScript],
      timeoutMs: 20_000,
      capabilities: ['dry_run'],
      traceparent: currentTraceparent,
    }),
    createHttpAdapter({
      id: 'hook',
      url: `http://127.0.0.1:${(executor.address() as AddressInfo).port}/run`,
      timeoutMs: 5_000,
      capabilities: ['dry_run'],
      traceparent: currentTraceparent,
    }),
  ]);
  t = await startTestServer({
    router,
    tracing: { endpoint: receiver.endpoint, headers: {}, serviceName: 'nexus-under-test', exportIntervalMs: 50, sampleRatio: 1 },
  });
  ({ alice, bob, deployer } = castOf(t));
});
afterAll(async () => {
  await t.close();
  executor.closeAllConnections();
  await new Promise((resolve) => executor.close(resolve));
  await receiver.close();
});

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

async function approvedDecision(): Promise<string> {
  const { decision } = await alice.createDecision({ goal: 'ship it', policy: { minApprovals: 1 } });
  await bob.approve({ decisionId: decision!.decisionId });
  return decision!.decisionId;
}

async function spansOf(traceId: string, until: (spans: ReceivedSpan[]) => boolean): Promise<ReceivedSpan[]> {
  await expect.poll(() => until(receiver.spans.filter((s) => s.traceId === traceId)), { timeout: 10_000 }).toBe(true);
  return receiver.spans.filter((s) => s.traceId === traceId);
}

describe('tracing over OTLP/HTTP', () => {
  it('one span tree per RPC under the caller’s traceparent: RPC → command → store calls → adapter run; the subprocess gets TRACEPARENT', async () => {
    const decisionId = await approvedDecision();
    const traceId = hex(16);
    const callerSpan = hex(8);
    const result = await deployer.execute(
      { decisionId, adapterId: 'deploy', mode: Mode.MODE_DRY_RUN },
      { metadata: { traceparent: `00-${traceId}-${callerSpan}-01`, 'x-request-id': 'req-trace-1' } },
    );
    const spans = await spansOf(traceId, (found) => found.some((s) => s.name === 'nexus.control.v1.ExecutionService/Execute'));

    const rpc = spans.find((s) => s.name === 'nexus.control.v1.ExecutionService/Execute')!;
    expect(rpc).toMatchObject({ parentSpanId: callerSpan, kind: 2, serviceName: 'nexus-under-test' });
    expect(rpc.attributes).toMatchObject({
      'rpc.system': 'grpc',
      'rpc.method': 'Execute',
      'rpc.grpc.status_code': 0,
      'nexus.request_id': 'req-trace-1',
    });
    const command = spans.find((s) => s.name === 'command.execute')!;
    expect(command.parentSpanId).toBe(rpc.spanId);
    expect(command.attributes['nexus.decision_id']).toBe(decisionId);
    const stores = spans.filter((s) => s.name.startsWith('store.'));
    // The command decides on the decision it holds, so its store calls are the appends (start and outcome).
    expect(stores.map((s) => s.name)).toEqual(['store.append', 'store.append']);
    for (const store of stores) expect(store.parentSpanId).toBe(command.spanId);
    expect(stores[0]!.attributes['db.system']).toBe('sqlite');
    const run = spans.find((s) => s.name === 'adapter.run')!;
    expect(run.parentSpanId).toBe(command.spanId);
    expect(run.attributes).toMatchObject({ 'nexus.adapter_id': 'deploy', 'nexus.dry_run': true });
    // Every span of this call is in the caller's trace; nothing of it leaked into another.
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([traceId]));

    const response = JSON.parse(result.routerResponseJson) as { env: { traceparent: string | null } };
    expect(response.env.traceparent).toBe(`00-${traceId}-${run.spanId}-01`);

    const line = t.logs.find((l) => l['msg'] === 'rpc' && l['method'] === 'ExecutionService/Execute' && l['trace_id'] === traceId);
    expect(line).toMatchObject({ request_id: 'req-trace-1', actor: 'deployer', decision_id: decisionId, status: 'OK' });
  });

  it('the HTTP adapter sends the adapter run’s traceparent header', async () => {
    const decisionId = await approvedDecision();
    const traceId = hex(16);
    await deployer.execute(
      { decisionId, adapterId: 'hook', mode: Mode.MODE_DRY_RUN },
      { metadata: { traceparent: `00-${traceId}-${hex(8)}-01` } },
    );
    const spans = await spansOf(traceId, (found) => found.some((s) => s.name === 'adapter.run'));
    const run = spans.find((s) => s.name === 'adapter.run')!;
    expect(executorHeaders.at(-1)).toBe(`00-${traceId}-${run.spanId}-01`);
  });

  it('a call without a traceparent starts a new trace; a failed call’s span records its status', async () => {
    await expect(alice.getDecision({ decisionId: 'missing-one' }, { metadata: { 'x-request-id': 'req-missing' } })).rejects.toThrow();
    const line = t.logs.find((l) => l['msg'] === 'rpc' && l['request_id'] === 'req-missing')!;
    expect(line['trace_id']).toMatch(/^[0-9a-f]{32}$/);
    const spans = await spansOf(line['trace_id'] as string, (found) => found.some((s) => s.name.endsWith('/GetDecision')));
    const rpc = spans.find((s) => s.name === 'nexus.control.v1.DecisionService/GetDecision')!;
    expect(rpc.parentSpanId).toBe('');
    expect(rpc.statusCode).toBe(2);
    expect(rpc.attributes['rpc.grpc.status_code']).toBe(5);
  });
});

describe('sampling', () => {
  it('a caller’s unsampled traceparent records no span for its call, yet its trace id still reaches the log', async () => {
    const unsampled = hex(16);
    const sampled = hex(16);
    await alice
      .getDecision({ decisionId: 'missing-two' }, { metadata: { traceparent: `00-${unsampled}-${hex(8)}-00` } })
      .catch(() => undefined);
    await alice
      .getDecision({ decisionId: 'missing-three' }, { metadata: { traceparent: `00-${sampled}-${hex(8)}-01` } })
      .catch(() => undefined);
    // Spans are exported in order: once the later sampled call's span arrived, the earlier one would have too.
    await spansOf(sampled, (found) => found.length > 0);
    expect(receiver.spans.filter((s) => s.traceId === unsampled)).toEqual([]);
    expect(t.logs.some((l) => l['msg'] === 'rpc' && l['trace_id'] === unsampled)).toBe(true);
  });
});

describe('sampling of calls without a trace context', () => {
  it('with sampleRatio 0 such a call records no span, yet its trace id reaches the log and, unsampled, the executor; a caller’s sampled traceparent is still recorded', async () => {
    const sparse = await startTestServer({
      tracing: { endpoint: receiver.endpoint, headers: {}, serviceName: 'nexus-sparse', exportIntervalMs: 50, sampleRatio: 0 },
    });
    try {
      const cast = castOf(sparse);
      const { decision } = await cast.alice.createDecision({ goal: 'ship it', policy: { minApprovals: 1 } });
      await cast.bob.approve({ decisionId: decision!.decisionId });
      const result = await cast.deployer.execute({ decisionId: decision!.decisionId, adapterId: 'deploy', mode: Mode.MODE_DRY_RUN });
      const line = sparse.logs.find((l) => l['method'] === 'ExecutionService/Execute')!;
      const traceId = line['trace_id'] as string;
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      const passed = (JSON.parse(result.routerResponseJson) as { env: { traceparent: string } }).env.traceparent;
      expect(passed).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
      const sampled = hex(16);
      await cast.alice
        .getDecision({ decisionId: 'missing-four' }, { metadata: { traceparent: `00-${sampled}-${hex(8)}-01` } })
        .catch(() => undefined);
      // Exported in order: once the later sampled call's span arrived, the earlier ones would have too.
      await spansOf(sampled, (found) => found.length > 0);
      expect(receiver.spans.filter((s) => s.serviceName === 'nexus-sparse' && s.traceId !== sampled)).toEqual([]);
    } finally {
      await sparse.close();
    }
  });
});

describe('tracing off', () => {
  it('the span code is loaded only when tracing is configured', () => {
    const root = fileURLToPath(new URL('../src', import.meta.url));
    const importers: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (/\.(ts|mjs)$/.test(entry.name) && /from '\.\/(createOtlpTracing|createSpanExporter)\.js'/.test(readFileSync(path, 'utf8')))
          importers.push(path.slice(root.length + 1));
      }
    };
    walk(root);
    // Only the tracing module itself imports the exporter; nothing imports the tracing module statically.
    expect(importers).toEqual(['observability/createOtlpTracing.ts']);
    const dynamic = readFileSync(join(root, 'startServer.ts'), 'utf8');
    expect(dynamic).toContain("await import('./observability/createOtlpTracing.js')");
    expect(dynamic).not.toMatch(/^import .*createOtlpTracing/m);
  });

  it('without tracing the caller’s traceparent still reaches the logs and the executor unchanged, and no span is exported', async () => {
    const plain = await startTestServer();
    try {
      const cast = castOf(plain);
      const { decision } = await cast.alice.createDecision({ goal: 'ship it', policy: { minApprovals: 1 } });
      await cast.bob.approve({ decisionId: decision!.decisionId });
      const traceparent = `00-${hex(16)}-${hex(8)}-01`;
      const result = await cast.deployer.execute(
        { decisionId: decision!.decisionId, adapterId: 'deploy', mode: Mode.MODE_DRY_RUN },
        { metadata: { traceparent } },
      );
      expect((JSON.parse(result.routerResponseJson) as { env: { traceparent: string } }).env.traceparent).toBe(traceparent);
      const line = plain.logs.find((l) => l['method'] === 'ExecutionService/Execute');
      expect(line?.['trace_id']).toBe(traceparent.split('-')[1]);
      expect(receiver.spans.some((s) => s.traceId === traceparent.split('-')[1])).toBe(false);
    } finally {
      await plain.close();
    }
  });
});
