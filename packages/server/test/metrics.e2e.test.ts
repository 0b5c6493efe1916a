import { DecisionStatus, ExecutionStatus, Mode, type NexusClient } from '@nexus-control/client';
import type { AppendRequest, EventStore } from '@nexus-control/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrape, type Scrape } from './helpers/scrape.js';
import { castOf, startTestServer, type TestServer } from './helpers/testServer.js';

/**
 * Holds bob's first approval append until carol's approval of the same decision has committed,
 * so that bob's append meets a real optimistic-concurrency conflict in the store and the domain
 * retries it.
 */
function approvalRace() {
  let armed = false;
  let bobHeld = false;
  let onBobHeld = () => {};
  let carolDone = () => {};
  const carolCommitted = new Promise<void>((resolve) => (carolDone = resolve));
  const bobWaiting = new Promise<void>((resolve) => (onBobHeld = resolve));
  const grantBy = (request: AppendRequest) => request.events.find((e) => e.type === 'APPROVAL_GRANTED')?.actor.id;
  return {
    arm: () => (armed = true),
    bobWaiting,
    wrap(store: EventStore): EventStore {
      return {
        ...store,
        async append(request) {
          const by = grantBy(request);
          if (armed && by === 'bob' && !bobHeld) {
            bobHeld = true;
            onBobHeld();
            await carolCommitted;
          }
          const result = await store.append(request);
          if (armed && by === 'carol') carolDone();
          return result;
        },
      };
    },
  };
}

const race = approvalRace();
let t: TestServer;
let alice: NexusClient, bob: NexusClient, carol: NexusClient, deployer: NexusClient, auditor: NexusClient;

beforeAll(async () => {
  t = await startTestServer({ metrics: { listen: '127.0.0.1:0' }, wrapStore: (store) => race.wrap(store) });
  ({ alice, bob, carol, deployer, auditor } = castOf(t));
});
afterAll(() => t.close());

const rpc = (method: string, service = 'DecisionService', type = 'unary') => ({
  grpc_type: type,
  grpc_service: `nexus.control.v1.${service}`,
  grpc_method: method,
});
const handled = (method: string, code: string, service = 'DecisionService') => ({ ...rpc(method, service), grpc_code: code });

describe('the metrics endpoint', () => {
  it('listens on its own port, not the gRPC one, and answers only GET /metrics', async () => {
    expect(t.server.metricsAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(t.server.metricsAddress).not.toBe(t.server.address);
    expect((await fetch(`http://${t.server.metricsAddress}/`)).status).toBe(404);
    expect((await fetch(`http://${t.server.metricsAddress}/metrics`, { method: 'POST' })).status).toBe(404);
    const first = await scrape(t.server.metricsAddress!);
    expect(first.text).toContain('# TYPE grpc_server_handling_seconds histogram');
    expect(first.value('process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(first.value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  });

  it('counters move by exactly what a lifecycle did: RPCs by method and code, decisions, approvals, conflicts, retries, executions', async () => {
    const before = await scrape(t.server.metricsAddress!);

    // Two decisions, one created twice with the same idempotency key (one decision, two RPCs).
    const { decision: first } = await alice.createDecision({
      goal: 'rotate keys',
      policy: { minApprovals: 2 },
      idempotencyKey: 'metrics-1',
    });
    const again = await alice.createDecision({ goal: 'rotate keys', policy: { minApprovals: 2 }, idempotencyKey: 'metrics-1' });
    expect(again.decision?.decisionId).toBe(first?.decisionId);
    const { decision: second } = await alice.createDecision({ goal: 'fail', policy: { minApprovals: 1 } });
    const id = first!.decisionId;

    // bob and carol approve concurrently; bob's append loses the race once and is retried.
    race.arm();
    const bobApproving = bob.approve({ decisionId: id });
    await race.bobWaiting;
    await carol.approve({ decisionId: id });
    await bobApproving;
    await bob.approve({ decisionId: second!.decisionId });

    const ran = await deployer.execute({ decisionId: id, adapterId: 'null', mode: Mode.MODE_DRY_RUN });
    expect(ran.execution?.status).toBe(ExecutionStatus.EXECUTION_STATUS_COMPLETED);
    await deployer.execute({ decisionId: second!.decisionId, adapterId: 'deploy', mode: Mode.MODE_DRY_RUN }).catch(() => undefined);
    expect((await auditor.getDecision({ decisionId: second!.decisionId })).decision?.status).toBe(DecisionStatus.DECISION_STATUS_FAILED);
    await expect(auditor.getDecision({ decisionId: 'no-such-decision' })).rejects.toThrow();

    const after = await scrape(t.server.metricsAddress!);
    const delta = (name: string, labels?: Record<string, string>) => after.value(name, labels) - before.value(name, labels);

    expect(delta('grpc_server_started_total', rpc('CreateDecision'))).toBe(3);
    expect(delta('grpc_server_handled_total', handled('CreateDecision', 'OK'))).toBe(3);
    expect(delta('grpc_server_handling_seconds_count', rpc('CreateDecision'))).toBe(3);
    expect(delta('grpc_server_handled_total', handled('Approve', 'OK', 'ApprovalService'))).toBe(3);
    expect(delta('grpc_server_started_total', rpc('Execute', 'ExecutionService'))).toBe(2);
    expect(delta('grpc_server_handled_total', handled('GetDecision', 'NOT_FOUND'))).toBe(1);
    expect(delta('grpc_server_handled_total', handled('GetDecision', 'OK'))).toBe(1);

    expect(delta('nexus_decisions_created_total')).toBe(2);
    expect(delta('nexus_approvals_total', { action: 'granted' })).toBe(3);
    expect(delta('nexus_approvals_total', { action: 'revoked' })).toBe(0);
    expect(delta('nexus_store_conflicts_total', { store: 'sqlite' })).toBe(1);
    expect(delta('nexus_store_conflict_retries_total', { store: 'sqlite' })).toBe(1);
    expect(delta('nexus_executions_total', { outcome: 'completed' })).toBe(1);
    expect(delta('nexus_executions_total', { outcome: 'failed' })).toBe(1);
    expect(delta('nexus_store_operation_errors_total', { store: 'sqlite', operation: 'append', code: 'CONCURRENCY_CONFLICT' })).toBe(1);
    expect(delta('nexus_store_operation_seconds_count', { store: 'sqlite', operation: 'append' })).toBeGreaterThanOrEqual(8);
    expect(after.value('nexus_executions_recovered_total')).toBe(0);
  });

  it('counts open watch streams, and the lag is zero while every stream waits for new events', async () => {
    const watch = auditor.watchDecisions({});
    const iterator = watch[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done).toBe(false);
    const open = await scrape(t.server.metricsAddress!);
    expect(open.value('nexus_watch_streams_open')).toBe(1);
    expect(open.value('nexus_watch_lag_seconds')).toBe(0);
    watch.cancel();
    await expect.poll(async () => (await scrape(t.server.metricsAddress!)).value('nexus_watch_streams_open'), { timeout: 5_000 }).toBe(0);
  });
});
