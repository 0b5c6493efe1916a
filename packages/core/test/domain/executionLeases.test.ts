import { describe, expect, it } from 'vitest';
import { exportBundle, importBundle } from '../../src/bundle/index.js';
import { eventDigestFromPayloadJson } from '../../src/events/newEvent.js';
import { canonicalJson } from '../../src/json/canonicalJson.js';
import { reseal } from '../bundleTestKit.js';
import type { JsonObject } from '../../src/json/JsonValue.js';
import { createMemoryDatabase } from '../../src/store/createMemoryDatabase.js';
import { createMemoryEventStore } from '../../src/store/createMemoryEventStore.js';
import { createNexusControl } from '../../src/domain/createNexusControl.js';
import type { NexusControl } from '../../src/domain/NexusControlApi.js';
import { NexusError } from '../../src/errors/NexusError.js';
import { createNullAdapter } from '../../src/router/createNullAdapter.js';
import { createRouter } from '../../src/router/createRouter.js';
import type { RouterAdapter, RunOptions } from '../../src/router/Router.js';
import type { EventStore } from '../../src/store/EventStore.js';
import { fixedClock, type ManualClock } from '../../src/time/Clock.js';
import { alice, bob, requester, T0 } from './fixtures.js';

const SECOND = 1_000_000;
const EVERYTHING = Number.MAX_SAFE_INTEGER;

/** An adapter whose runs wait until the test settles them or their signal aborts them. */
function heldAdapter(id = 'held') {
  const runs: { options: RunOptions; finish: () => void }[] = [];
  const adapter: RouterAdapter = {
    id,
    capabilities: ['dry_run', 'apply'],
    run: (_request, options = {}) =>
      new Promise((resolve, reject) => {
        runs.push({ options, finish: () => resolve({ run_id: `run_${runs.length}`, status: 'completed', steps_executed: 1 }) });
        options.signal?.addEventListener('abort', () => reject(new Error('the adapter was stopped')), { once: true });
      }),
  };
  return { adapter, runs };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
}

function replica(store: EventStore, clock: ManualClock, owner: string, adapter: RouterAdapter, renewMs = 50_000): NexusControl {
  return createNexusControl({
    store,
    clock,
    router: createRouter([createNullAdapter(), adapter]),
    executionLeases: { owner, leaseMs: 60_000, renewMs },
  });
}

async function approvedDecision(nexus: NexusControl): Promise<string> {
  const { decisionId } = await nexus.request({ goal: 'restart the fleet', mode: 'apply' }, requester);
  await nexus.approve(decisionId, {}, alice);
  return decisionId;
}

describe('execution leases', () => {
  it('a run holds a lease from the append that starts it until the append that ends it, and the adapter is told the run id', async () => {
    const store = createMemoryEventStore();
    const clock = fixedClock(T0);
    const { adapter, runs } = heldAdapter();
    const nexus = replica(store, clock, 'replica-a', adapter);
    const decisionId = await approvedDecision(nexus);
    const result = nexus.execute(decisionId, { adapterId: 'held' }, bob);
    await until(() => runs.length === 1, 'the adapter call');
    expect(runs[0]!.options.execution).toEqual({ decisionId, executionId: `${decisionId}:0:3` });
    expect(await store.listExpiredLeases(EVERYTHING)).toEqual([
      { decisionId, generation: 0, requestedSeq: 3, owner: 'replica-a', expiresAt: Date.parse(T0) + 60_000 },
    ]);
    runs[0]!.finish();
    expect((await result).execution.status).toBe('completed');
    expect(await store.listExpiredLeases(EVERYTHING)).toEqual([]);
  });

  it('another replica closes a run whose lease lapsed with EXECUTION_FAILED / EXECUTION_INTERRUPTED, and the decision can execute again', async () => {
    const database = createMemoryDatabase();
    const clock = fixedClock(T0);
    const held = heldAdapter();
    const a = replica(createMemoryEventStore({ database }), clock, 'replica-a', held.adapter);
    const b = replica(createMemoryEventStore({ database }), clock, 'replica-b', heldAdapter().adapter);
    const decisionId = await approvedDecision(a);
    const orphan = a.execute(decisionId, { adapterId: 'held' }, bob);
    await until(() => held.runs.length === 1, 'the adapter call');

    expect(await b.recoverExecutions()).toEqual({ recovered: [], released: [], failures: [] });
    clock.advance(60 * SECOND);
    expect((await b.recoverExecutions()).recovered).toEqual([decisionId]);

    const decision = await b.getDecision(decisionId);
    expect(decision.status).toBe('failed');
    const run = decision.executions[0]!;
    expect(run.errorCode).toBe('EXECUTION_INTERRUPTED');
    expect(run.errorMessage).toMatch(/^interrupted: outcome unknown: the process running this execution \(replica-a\)/);
    const last = (await b.events(decisionId)).at(-1)!;
    expect([last.type, last.actor]).toEqual(['EXECUTION_FAILED', { type: 'system', id: 'nexus-control' }]);

    // The orphan's late outcome does not land beside the recovery's.
    held.runs[0]!.finish();
    await expect(orphan).rejects.toMatchObject({ code: 'INVALID_STATE' });
    expect((await b.events(decisionId)).filter((e) => e.type === 'EXECUTION_FAILED' || e.type === 'EXECUTION_COMPLETED')).toHaveLength(1);

    const retried = await b.execute(decisionId, { adapterId: 'null', mode: 'dry_run' }, bob);
    expect(retried.execution.status).toBe('completed');
  });

  it('an execute repeated with its idempotency key after the recovery answers with the interrupted run, not a run forever in progress', async () => {
    const database = createMemoryDatabase();
    const clock = fixedClock(T0);
    const held = heldAdapter();
    const a = replica(createMemoryEventStore({ database }), clock, 'replica-a', held.adapter);
    const b = replica(createMemoryEventStore({ database }), clock, 'replica-b', heldAdapter().adapter);
    const decisionId = await approvedDecision(a);
    const keyed = { ...bob, idempotencyKey: 'deploy-once' };
    void a.execute(decisionId, { adapterId: 'held' }, keyed).catch(() => undefined);
    await until(() => held.runs.length === 1, 'the adapter call');
    clock.advance(61 * SECOND);
    await b.recoverExecutions();
    const repeated = await b.execute(decisionId, { adapterId: 'held' }, keyed);
    expect(repeated.execution).toMatchObject({ requestedSeq: 3, status: 'failed', errorCode: 'EXECUTION_INTERRUPTED' });
    expect(held.runs).toHaveLength(1);
  });

  it('two replicas sweeping the same lapsed run at once write one EXECUTION_FAILED', async () => {
    const database = createMemoryDatabase();
    const clock = fixedClock(T0);
    const held = heldAdapter();
    const a = replica(createMemoryEventStore({ database }), clock, 'replica-a', held.adapter);
    const sweepers = ['b', 'c', 'd'].map((name) =>
      replica(createMemoryEventStore({ database }), clock, `replica-${name}`, heldAdapter().adapter),
    );
    const decisionId = await approvedDecision(a);
    void a.execute(decisionId, { adapterId: 'held' }, bob).catch(() => undefined);
    await until(() => held.runs.length === 1, 'the adapter call');
    clock.advance(61 * SECOND);
    const reports = await Promise.all(sweepers.map((s) => s.recoverExecutions()));
    expect(reports.flatMap((r) => r.recovered)).toEqual([decisionId]);
    expect((await a.events(decisionId)).filter((e) => e.type === 'EXECUTION_FAILED')).toHaveLength(1);
  });

  it("a replica's own sweep leaves the runs it is executing to their renewals", async () => {
    const store = createMemoryEventStore();
    const clock = fixedClock(T0);
    const held = heldAdapter();
    const a = replica(store, clock, 'replica-a', held.adapter);
    const decisionId = await approvedDecision(a);
    const result = a.execute(decisionId, { adapterId: 'held' }, bob);
    await until(() => held.runs.length === 1, 'the adapter call');
    clock.advance(61 * SECOND);
    expect((await a.recoverExecutions()).recovered).toEqual([]);
    held.runs[0]!.finish();
    expect((await result).execution.status).toBe('completed');
  });

  it('an operator fails a stuck run: recorded with the operator as actor, the lease is dropped and the running adapter is stopped', async () => {
    const store = createMemoryEventStore();
    const clock = fixedClock(T0);
    const held = heldAdapter();
    const a = replica(store, clock, 'replica-a', held.adapter, 20);
    const decisionId = await approvedDecision(a);
    const result = a.execute(decisionId, { adapterId: 'held' }, bob).catch((error: unknown) => error);
    await until(() => held.runs.length === 1, 'the adapter call');

    const operator = { actor: { type: 'human' as const, id: 'root-operator' } };
    const failed = await a.failExecution(decisionId, { reason: 'the host was rebooted' }, operator);
    expect(failed.status).toBe('failed');
    expect(failed.executions[0]).toMatchObject({
      errorCode: 'EXECUTION_FAILED_BY_OPERATOR',
      errorMessage: 'failed by operator root-operator: the host was rebooted',
    });
    const last = (await a.events(decisionId)).at(-1)!;
    expect([last.type, last.actor]).toEqual(['EXECUTION_FAILED', { type: 'human', id: 'root-operator' }]);
    expect(await store.listExpiredLeases(EVERYTHING)).toEqual([]);

    await until(() => held.runs[0]!.options.signal!.aborted, 'the adapter to be stopped');
    expect(await result).toMatchObject({ code: 'INVALID_STATE' });
  });

  it('a run an operator failed exports and imports; a person writing any other failure is refused on import', async () => {
    const store = createMemoryEventStore();
    const clock = fixedClock(T0);
    const held = heldAdapter();
    const a = replica(store, clock, 'replica-a', held.adapter, 20);
    const decisionId = await approvedDecision(a);
    const result = a.execute(decisionId, { adapterId: 'held' }, bob).catch((error: unknown) => error);
    await until(() => held.runs.length === 1, 'the adapter call');
    await a.failExecution(decisionId, { reason: 'the host was rebooted' }, { actor: { type: 'human', id: 'root-operator' } });
    await result;

    const bundle = JSON.parse(canonicalJson(await exportBundle(store, decisionId, { clock }))) as JsonObject;
    const imported = await importBundle(createMemoryEventStore(), canonicalJson(bundle));
    expect(imported).toMatchObject({ ok: true });

    // A forger who knows the format: the same event with another code, digests recomputed.
    const last = (bundle['events'] as JsonObject[]).at(-1)!;
    const payload = { ...(last['payload'] as JsonObject), error_code: 'ROUTER_ERROR' };
    last['payload'] = payload;
    last['digest'] = eventDigestFromPayloadJson('EXECUTION_FAILED', canonicalJson(payload));
    const forged = await importBundle(createMemoryEventStore(), canonicalJson(reseal(bundle)), { replayAfterImport: false });
    expect(forged).toMatchObject({ ok: false, error_code: 'BUNDLE_INVALID_SCHEMA' });
    expect(String((forged as { error?: unknown }).error)).toContain('control plane');
  });

  it('refuses to fail a decision that is not executing, or without a reason, and writes nothing', async () => {
    const store = createMemoryEventStore();
    const a = replica(store, fixedClock(T0), 'replica-a', heldAdapter().adapter);
    const decisionId = await approvedDecision(a);
    const operator = { actor: { type: 'human' as const, id: 'root-operator' } };
    await expect(a.failExecution(decisionId, { reason: 'stuck' }, operator)).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await expect(a.failExecution(decisionId, { reason: '  ' }, operator)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await a.events(decisionId)).toHaveLength(3);
  });

  it('execute retries a lost optimistic race, re-validating on the new log, instead of failing with a conflict', async () => {
    const database = createMemoryDatabase();
    const clock = fixedClock(T0);
    const other = replica(createMemoryEventStore({ database }), clock, 'replica-b', heldAdapter().adapter);
    let interfered = false;
    // Inside the execute's first append, another writer commits an approval: the execute's
    // commit then finds the log grown and must start over on the new log.
    const racing = createMemoryEventStore({
      database,
      beforeCommit: async () => {
        if (interfered) return;
        interfered = true;
        await other.approve(decisionId, {}, requester);
      },
    });
    const a = replica(racing, clock, 'replica-a', heldAdapter().adapter);
    const decisionId = await approvedDecision(other);
    const result = await a.execute(decisionId, { adapterId: 'null', mode: 'dry_run' }, bob);
    expect(interfered).toBe(true);
    expect(result.execution.status).toBe('completed');
    expect((await a.events(decisionId)).map((e) => e.type).slice(3)).toEqual([
      'APPROVAL_GRANTED',
      'EXECUTION_REQUESTED',
      'EXECUTION_STARTED',
      'EXECUTION_COMPLETED',
    ]);
  });

  it('rejects lease settings that would let a live owner lose its lease', () => {
    const make = (leaseMs: number, renewMs: number) =>
      createNexusControl({ store: createMemoryEventStore(), executionLeases: { leaseMs, renewMs } });
    expect(() => make(1_000, 1_000)).toThrow(NexusError);
    expect(() => make(50, 10)).toThrow(NexusError);
    expect(() => make(1_000, 300)).not.toThrow();
  });
});
