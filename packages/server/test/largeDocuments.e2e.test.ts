import { performance } from 'node:perf_hooks';
import { status } from '@grpc/grpc-js';
import { NexusClientError, RouterMode, type NexusClient } from '@nexus-control/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { castOf, startTestServer, type TestServer } from './helpers/testServer.js';

let t: TestServer;
let auditor: NexusClient, root: NexusClient, alice: NexusClient;

beforeAll(async () => {
  t = await startTestServer();
  ({ auditor, root, alice } = castOf(t));
});
afterAll(() => t.close());

/** About `bytes` of JSON: an array of `1.0`, the float-heavy shape that froze the server. */
function floatArray(bytes: number): string {
  return `[${Array.from({ length: Math.floor(bytes / 4) }, () => '1.0').join(',')}]`;
}

/** Echo round trips from another caller while `work` runs; resolves with the slowest one in ms. */
async function slowestEchoDuring(client: NexusClient, work: Promise<unknown>): Promise<{ slowest: number; echoes: number }> {
  let done = false;
  const finished = work
    .then(
      () => undefined,
      () => undefined,
    )
    .finally(() => {
      done = true;
    });
  let slowest = 0;
  let echoes = 0;
  while (!done) {
    const started = performance.now();
    await client.echo({ message: 'still there?' });
    slowest = Math.max(slowest, performance.now() - started);
    echoes++;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await finished;
  return { slowest, echoes };
}

async function failureOf(call: Promise<unknown>): Promise<NexusClientError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof NexusClientError)) throw new Error(`expected a NexusClientError, got ${String(error)}`);
  return error;
}

describe('a large document does not stall other callers', () => {
  // Generous: one document used to hold every other call for about ten seconds.
  const BOUND_MS = 1_000;

  it('Echo answers promptly while a 10 MB float document is verified', async () => {
    const text = `{"package_version":"0.6","router":{"mode":"embedded","bundle":{"samples":${floatArray(10 * 1024 * 1024)}}}}`;
    await alice.echo({ message: 'warm up' });
    const verify = auditor.verifyAuditPackage({ packageJson: text });
    const { slowest, echoes } = await slowestEchoDuring(alice, verify);
    const report = await verify;
    console.info(`verify of ${text.length} characters: ${echoes} echoes, slowest ${slowest.toFixed(1)} ms`);
    expect(report.ok).toBe(false);
    expect(echoes).toBeGreaterThan(1);
    expect(slowest).toBeLessThan(BOUND_MS);
  }, 60_000);

  it('Echo answers promptly while a 10 MB hostile bundle is imported, and the import is refused as a client error', async () => {
    const text = `{"bundle_version":"0.5","decision":{"decision_id":"dec_x"},"events":${floatArray(10 * 1024 * 1024)}}`;
    const before = (await root.listDecisions({})).decisions.length;
    const importing = failureOf(root.importBundle({ bundleJson: text }));
    const { slowest, echoes } = await slowestEchoDuring(alice, importing);
    const error = await importing;
    console.info(`import of ${text.length} characters: ${echoes} echoes, slowest ${slowest.toFixed(1)} ms`);
    expect({ code: error.code, grpc: error.grpcStatusName }).toEqual({
      code: 'BUNDLE_INVALID_SCHEMA',
      grpc: status[status.INVALID_ARGUMENT],
    });
    expect(error.message.length).toBeLessThan(2_000);
    expect(echoes).toBeGreaterThan(1);
    expect(slowest).toBeLessThan(BOUND_MS);
    expect((await root.listDecisions({})).decisions.length).toBe(before);
  }, 60_000);

  it('Echo answers promptly while a 10 MB router bundle that is not the recorded one is refused', async () => {
    const { decision } = await alice.createDecision({ goal: 'g' });
    await castOf(t).bob.approve({ decisionId: decision!.decisionId });
    await castOf(t).deployer.execute({ decisionId: decision!.decisionId, adapterId: 'null' });
    const routerBundleJson = `{"integrity":{"canonical_digest":"sha256:${'0'.repeat(64)}"},"samples":${floatArray(10 * 1024 * 1024)}}`;
    const exporting = failureOf(
      auditor.exportAuditPackage({ decisionId: decision!.decisionId, mode: RouterMode.ROUTER_MODE_EMBEDDED, routerBundleJson }),
    );
    const { slowest, echoes } = await slowestEchoDuring(alice, exporting);
    console.info(`router bundle of ${routerBundleJson.length} characters: ${echoes} echoes, slowest ${slowest.toFixed(1)} ms`);
    const error = await exporting;
    expect({ code: error.code, grpc: error.grpcStatusName }).toEqual({ code: 'ROUTER_DIGEST_MISMATCH', grpc: 'FAILED_PRECONDITION' });
    expect(slowest).toBeLessThan(BOUND_MS);
  }, 60_000);

  it('refuses a document nested beyond the depth limit with a clear client error', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const error = await failureOf(root.importBundle({ bundleJson: deep }));
    expect(error.code).toBe('BUNDLE_INVALID_SCHEMA');
    expect(error.message).toMatch(/nested deeper than 128 levels/);
  }, 30_000);
});
