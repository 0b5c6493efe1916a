import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JsonFloat, canonicalJson, type RouterRequest } from '@nexus-control/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpAdapter } from '../src/createHttpAdapter.js';

let server: Server;
let base: string;
const received: { body: string; headers: IncomingMessage['headers'] }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      received.push({ body, headers: req.headers });
      switch (req.url) {
        case '/ok':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(`{"run_id":"r-9","status":"completed","steps_executed":1,"big":98765432109876543210,"ratio":2.0}`);
          return;
        case '/slow':
          return; // never answers
        case '/error':
          res.writeHead(503);
          res.end('executor overloaded');
          return;
        case '/redirect':
          res.writeHead(302, { location: '/ok' });
          res.end();
          return;
        default:
          res.writeHead(200);
          res.end('<html>not json</html>');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const request: RouterRequest = { goal: 'pay invoice 7', adapter_id: 'pay', dry_run: false, max_steps: 3 };

describe('http adapter', () => {
  it('POSTs the request as canonical JSON with the configured headers and reads the response losslessly', async () => {
    const adapter = createHttpAdapter({
      id: 'pay',
      url: `${base}/ok`,
      headers: { authorization: 'Bearer executor-key' },
      timeoutMs: 5_000,
    });
    const response = await adapter.run(request);
    expect(response).toMatchObject({ run_id: 'r-9', status: 'completed', steps_executed: 1 });
    expect(response['big']).toBe(98765432109876543210n);
    expect(response['ratio']).toBeInstanceOf(JsonFloat);
    const last = received.at(-1)!;
    expect(last.body).toBe(canonicalJson(request));
    expect(last.headers['content-type']).toBe('application/json');
    expect(last.headers['authorization']).toBe('Bearer executor-key');
    expect(last.headers['x-nexus-adapter-id']).toBe('pay');
  });

  it('names the run in headers, percent-encoded, so the executor can refuse to repeat a side effect', async () => {
    const adapter = createHttpAdapter({ id: 'pay', url: `${base}/ok`, timeoutMs: 5_000 });
    await adapter.run(request, { execution: { decisionId: 'dec é', executionId: 'dec é:0:3' } });
    const last = received.at(-1)!;
    expect(last.headers['x-nexus-decision-id']).toBe('dec%20%C3%A9');
    expect(last.headers['x-nexus-execution-id']).toBe('dec%20%C3%A9%3A0%3A3');
  });

  it('a non-2xx answer fails the run with the status and body', async () => {
    const adapter = createHttpAdapter({ id: 'pay', url: `${base}/error`, timeoutMs: 5_000 });
    await expect(adapter.run(request)).rejects.toThrow(/answered HTTP 503: executor overloaded/);
  });

  it('a body that is not a JSON object fails the run', async () => {
    const adapter = createHttpAdapter({ id: 'pay', url: `${base}/html`, timeoutMs: 5_000 });
    await expect(adapter.run(request)).rejects.toThrow(/did not return JSON/);
  });

  it('redirects are not followed', async () => {
    const adapter = createHttpAdapter({ id: 'pay', url: `${base}/redirect`, timeoutMs: 5_000 });
    await expect(adapter.run(request)).rejects.toThrow(/failed/);
  });

  it('a slow executor fails the run at the timeout; an aborted signal cancels it', async () => {
    const adapter = createHttpAdapter({ id: 'pay', url: `${base}/slow`, timeoutMs: 300 });
    const started = Date.now();
    await expect(adapter.run(request)).rejects.toThrow(/timed out after 300 ms/);
    expect(Date.now() - started).toBeLessThan(3_000);

    const patient = createHttpAdapter({ id: 'pay', url: `${base}/slow`, timeoutMs: 30_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expect(patient.run(request, { signal: controller.signal })).rejects.toThrow(/was cancelled/);
  });

  it('an unreachable executor fails the run', async () => {
    const adapter = createHttpAdapter({ id: 'pay', url: 'http://127.0.0.1:1/run', timeoutMs: 2_000 });
    await expect(adapter.run(request)).rejects.toThrow(/failed: fetch failed/);
  });
});
