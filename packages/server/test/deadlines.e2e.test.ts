import { DecisionStatus, ExecutionStatus, type NexusClient } from '@nexus-control/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/testServer.js';

let t: TestServer;
let alice: NexusClient;
let bob: NexusClient;

beforeAll(async () => {
  t = await startTestServer();
  alice = t.client('alice');
  bob = t.client('bob');
});
afterAll(() => t.close());

/** A decision whose execution through `deploy` hangs until stopped (the executor sleeps). */
async function hangingDecision(): Promise<string> {
  const { decision } = await alice.createDecision({ goal: 'sleep' });
  await bob.approve({ decisionId: decision!.decisionId });
  return decision!.decisionId;
}

async function settledExecution(decisionId: string) {
  let latest;
  await expect
    .poll(
      async () => {
        latest = (await alice.getDecision({ decisionId })).decision;
        return latest?.status;
      },
      { timeout: 10_000 },
    )
    .toBe(DecisionStatus.DECISION_STATUS_FAILED);
  return latest!;
}

describe('deadlines and cancellation', () => {
  it('a call past its deadline fails with DEADLINE_EXCEEDED, and the server stops the run and records the failure', async () => {
    const id = await hangingDecision();
    const started = Date.now();
    await expect(t.client('deployer').execute({ decisionId: id, adapterId: 'deploy' }, { deadlineMs: 500 })).rejects.toMatchObject({
      code: 'DEADLINE_EXCEEDED',
    });
    expect(Date.now() - started).toBeLessThan(3_000);
    const decision = await settledExecution(id);
    expect(decision.executions[0]).toMatchObject({ status: ExecutionStatus.EXECUTION_STATUS_FAILED, errorCode: 'ROUTER_ERROR' });
    expect(decision.executions[0]?.errorMessage).toMatch(/cancelled/);
    await expect
      .poll(() => t.logs.find((line) => line['method'] === 'ExecutionService/Execute' && line['decision_id'] === id))
      .toMatchObject({ status: 'DEADLINE_EXCEEDED', actor: 'deployer' });
  });

  it('the client’s default deadline applies to every unary call', async () => {
    const id = await hangingDecision();
    const hasty = t.client('deployer', { deadlineMs: 300 });
    await expect(hasty.execute({ decisionId: id, adapterId: 'deploy' })).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    await settledExecution(id);
  });

  it('cancelling a call stops the run on the server; the decision can then be retried', async () => {
    const id = await hangingDecision();
    const controller = new AbortController();
    const pending = t.client('deployer').execute({ decisionId: id, adapterId: 'deploy' }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
    const failed = await settledExecution(id);
    expect(failed.executions).toHaveLength(1);
    await expect
      .poll(() => t.logs.find((line) => line['method'] === 'ExecutionService/Execute' && line['decision_id'] === id))
      .toMatchObject({ status: 'CANCELLED' });
    // A failed decision may execute again; the null adapter finishes at once.
    const retry = await t.client('deployer').execute({ decisionId: id, adapterId: 'null' });
    expect(retry.decision?.status).toBe(DecisionStatus.DECISION_STATUS_COMPLETED);
    expect(retry.decision?.executions).toHaveLength(2);
  });
});

describe('message size limits', () => {
  it('the server refuses requests above its limit with RESOURCE_EXHAUSTED', async () => {
    const small = await startTestServer({ limits: { maxReceiveMessageBytes: 4 * 1024 } });
    try {
      const client = small.client('alice');
      await expect(client.echo({ payload: Buffer.alloc(1024) })).resolves.toBeDefined();
      await expect(client.echo({ payload: Buffer.alloc(16 * 1024) })).rejects.toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
    } finally {
      await small.close();
    }
  });

  it('the client refuses responses above its limit, and large messages pass under the default 64 MiB', async () => {
    const limited = t.client('alice', { maxMessageBytes: 4 * 1024 });
    await expect(limited.echo({ payload: Buffer.alloc(2 * 1024) })).resolves.toBeDefined();
    const big = Buffer.alloc(8 * 1024 * 1024, 7);
    const echoed = await alice.echo({ payload: big });
    expect(echoed.payload.equals(big)).toBe(true);
    await expect(
      t
        .client('alice', { maxMessageBytes: 4 * 1024, channelOptions: { 'grpc.max_send_message_length': -1 } })
        .echo({ payload: Buffer.alloc(16 * 1024) }),
    ).rejects.toMatchObject({
      code: 'RESOURCE_EXHAUSTED',
    });
  });
});
