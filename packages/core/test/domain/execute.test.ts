import { describe, expect, it } from 'vitest';
import { NexusError } from '../../src/errors/NexusError.js';
import { digestOf } from '../../src/json/digest.js';
import { JsonFloat } from '../../src/json/JsonValue.js';
import type { RouterAdapter } from '../../src/router/Router.js';
import { alice, bob, requester, scriptedAdapter, setup } from './fixtures.js';

async function errorOf(promise: Promise<unknown>): Promise<NexusError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(NexusError);
  return error as NexusError;
}

describe('execute', () => {
  it('runs an approved decision: REQUESTED, STARTED, COMPLETED with the request and response digests', async () => {
    const response = { run_id: 'run_1', status: 'completed', steps_executed: 2, cost: new JsonFloat(1), ratio: 1e-7 };
    const { adapter, calls } = scriptedAdapter('deploy', ['dry_run', 'apply', 'external'], () => response);
    const { nexus, store } = setup({ adapters: [adapter] });
    const { decisionId } = await nexus.request(
      { goal: 'ship', plan: 'step 1\nstep 2', mode: 'apply', policy: { maxSteps: 5, requireAdapterCapabilities: ['external'] } },
      requester,
    );
    await nexus.approve(decisionId, {}, alice);
    const result = await nexus.execute(decisionId, { adapterId: 'deploy' }, bob);

    expect(calls).toEqual([
      { goal: 'ship', adapter_id: 'deploy', dry_run: false, plan: 'step 1\nstep 2', max_steps: 5, require_capabilities: ['external'] },
    ]);
    const events = await store.readEvents(decisionId);
    expect(events.slice(3).map((e) => [e.type, e.actor.id])).toEqual([
      ['EXECUTION_REQUESTED', 'bob'],
      ['EXECUTION_STARTED', 'nexus-control'],
      ['EXECUTION_COMPLETED', 'nexus-control'],
    ]);
    expect(events[3]!.payload).toEqual({ adapter_id: 'deploy', dry_run: false });
    expect(events[4]!.payload).toEqual({ router_request_digest: digestOf(calls[0]!) });
    expect(events[5]!.payload).toEqual({ run_id: 'run_1', response_digest: digestOf(response), steps_executed: 2 });
    expect(result.decision.status).toBe('completed');
    expect(result.execution).toMatchObject({ status: 'completed', runId: 'run_1', stepsExecuted: 2, dryRun: false });
    expect((await store.getRouterResult(decisionId, 'run_1'))?.responseJson).toBe(
      '{"cost":1.0,"ratio":1e-07,"run_id":"run_1","status":"completed","steps_executed":2}',
    );
  });

  it('keeps zero steps as zero', async () => {
    const { adapter } = scriptedAdapter('noop', ['dry_run'], () => ({ run_id: 'r0', status: 'completed', steps_executed: 0 }));
    const { nexus } = setup({ adapters: [adapter] });
    const { decisionId } = await nexus.request({ goal: 'g' }, requester);
    await nexus.approve(decisionId, {}, alice);
    expect((await nexus.execute(decisionId, { adapterId: 'noop' }, alice)).execution.stepsExecuted).toBe(0);
  });

  it('refuses a decision that is still pending approval, writing nothing', async () => {
    const { nexus, store } = setup();
    const { decisionId } = await nexus.request({ goal: 'g' }, requester);
    expect((await errorOf(nexus.execute(decisionId, { adapterId: 'null' }, alice))).code).toBe('INVALID_STATE');
    expect(await store.readEvents(decisionId)).toHaveLength(2);
  });

  it('collects every policy failure instead of stopping at the first', async () => {
    const { adapter } = scriptedAdapter('weak', ['dry_run']);
    const { nexus, store } = setup({ adapters: [adapter] });
    const { decisionId } = await nexus.request(
      {
        goal: 'g',
        mode: 'apply',
        policy: { minApprovals: 1, allowedModes: ['apply'], requireAdapterCapabilities: ['timeout', 'external'] },
      },
      requester,
    );
    await nexus.approve(decisionId, {}, alice);
    const error = await errorOf(nexus.execute(decisionId, { adapterId: 'weak', mode: 'dry_run' }, alice));
    expect(error.code).toBe('POLICY_VIOLATION');
    const codes = (error.details['violations'] as { code: string }[]).map((v) => v.code);
    expect(codes).toEqual(['MODE_NOT_ALLOWED', 'MISSING_CAPABILITY', 'MISSING_CAPABILITY']);
    expect(await store.readEvents(decisionId)).toHaveLength(3);
  });

  it('treats an unknown adapter as an error, not a pass', async () => {
    const { nexus, store } = setup();
    const { decisionId } = await nexus.request({ goal: 'g' }, requester);
    await nexus.approve(decisionId, {}, alice);
    const error = await errorOf(nexus.execute(decisionId, { adapterId: 'ghost', mode: 'apply' }, alice));
    expect(error.code).toBe('POLICY_VIOLATION');
    const codes = (error.details['violations'] as { code: string }[]).map((v) => v.code);
    expect(codes).toEqual(['MODE_NOT_ALLOWED', 'ADAPTER_NOT_FOUND']);
    expect(await store.readEvents(decisionId)).toHaveLength(3);
  });

  it('does not let the dry-run-only null adapter apply', async () => {
    const { nexus } = setup();
    const { decisionId } = await nexus.request({ goal: 'g', mode: 'apply' }, requester);
    await nexus.approve(decisionId, {}, alice);
    const error = await errorOf(nexus.execute(decisionId, { adapterId: 'null' }, alice));
    expect((error.details['violations'] as { code: string }[]).map((v) => v.code)).toEqual(['ADAPTER_MODE_UNSUPPORTED']);
    expect((await nexus.execute(decisionId, { adapterId: 'null', mode: 'dry_run' }, alice)).decision.status).toBe('completed');
  });

  it('never re-executes a completed decision (the reference does)', async () => {
    const { nexus } = setup();
    const { decisionId } = await nexus.request({ goal: 'g' }, requester);
    await nexus.approve(decisionId, {}, alice);
    await nexus.execute(decisionId, { adapterId: 'null' }, alice);
    expect((await errorOf(nexus.execute(decisionId, { adapterId: 'null' }, alice))).code).toBe('INVALID_STATE');
  });

  it('records the whole run of an adapter without side effects in one append, and any other run in two', async () => {
    const { adapter } = scriptedAdapter('deploy', ['dry_run']);
    const { nexus, store } = setup({ adapters: [adapter] });
    const appended: string[][] = [];
    const append = store.append.bind(store);
    store.append = (request) => {
      appended.push(request.events.map((e) => e.type));
      return append(request);
    };
    for (const adapterId of ['null', 'deploy']) {
      const { decisionId } = await nexus.request({ goal: adapterId }, requester);
      await nexus.approve(decisionId, {}, bob);
      appended.length = 0;
      const result = await nexus.execute(decisionId, { adapterId }, alice);
      expect(result.execution.status).toBe('completed');
      expect(appended).toEqual(
        adapterId === 'null'
          ? [['EXECUTION_REQUESTED', 'EXECUTION_STARTED', 'EXECUTION_COMPLETED']]
          : [['EXECUTION_REQUESTED', 'EXECUTION_STARTED'], ['EXECUTION_COMPLETED']],
      );
    }
  });

  it('a run without side effects is not recorded on top of a revocation that landed while it ran', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const pure: RouterAdapter = {
      id: 'pure',
      capabilities: ['dry_run'],
      sideEffects: false,
      async run() {
        await gate;
        return { run_id: 'run_pure', status: 'completed', steps_executed: 1 };
      },
    };
    const { nexus, store } = setup({ adapters: [pure] });
    const { decisionId } = await nexus.request({ goal: 'g' }, requester);
    await nexus.approve(decisionId, {}, alice);
    const execution = nexus.execute(decisionId, { adapterId: 'pure' }, bob);
    await nexus.revoke(decisionId, {}, alice);
    release();
    // Decided again on the log as it now is: no active approval, so not approved.
    expect((await errorOf(execution)).code).toBe('INVALID_STATE');
    expect((await store.readEvents(decisionId)).map((e) => e.type)).toEqual([
      'DECISION_CREATED',
      'POLICY_ATTACHED',
      'APPROVAL_GRANTED',
      'APPROVAL_REVOKED',
    ]);
  });

  it('two concurrent executes: exactly one run, the other is refused', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { adapter, calls } = scriptedAdapter('slow', ['dry_run'], async () => {
      await gate;
      return { run_id: 'run_slow', status: 'completed', steps_executed: 1 };
    });
    const first = setup({ adapters: [adapter] });
    const second = setup({ store: first.store, adapters: [adapter] });
    const { decisionId } = await first.nexus.request({ goal: 'g' }, requester);
    await first.nexus.approve(decisionId, {}, alice);
    await second.nexus.getDecision(decisionId);
    const runs = [
      first.nexus.execute(decisionId, { adapterId: 'slow' }, alice),
      second.nexus.execute(decisionId, { adapterId: 'slow' }, bob),
    ];
    setTimeout(release, 20);
    const settled = await Promise.allSettled(runs);
    const fulfilled = settled.filter((s) => s.status === 'fulfilled');
    const rejected = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    expect((rejected[0]!.reason as NexusError).code).toBe('INVALID_STATE');
    expect(calls).toHaveLength(1);
    const types = (await first.store.readEvents(decisionId)).map((e) => e.type);
    expect(types.filter((t) => t === 'EXECUTION_REQUESTED')).toHaveLength(1);
  });

  it('records a router error as EXECUTION_FAILED and allows a retry', async () => {
    let fail = true;
    const { adapter } = scriptedAdapter('flaky', ['dry_run'], () => {
      if (fail) throw new Error('connection reset');
      return { run_id: 'run_ok', status: 'completed', steps_executed: 1 };
    });
    const { nexus, store } = setup({ adapters: [adapter] });
    const { decisionId } = await nexus.request({ goal: 'g' }, requester);
    await nexus.approve(decisionId, {}, alice);
    const failed = await nexus.execute(decisionId, { adapterId: 'flaky' }, alice);
    expect(failed.decision.status).toBe('failed');
    expect(failed.execution).toMatchObject({ status: 'failed', errorCode: 'ROUTER_ERROR', errorMessage: 'connection reset', runId: null });
    expect((await store.readEvents(decisionId))[5]!.payload).toEqual({
      error_code: 'ROUTER_ERROR',
      error_message: 'connection reset',
      run_id: null,
    });
    fail = false;
    const retried = await nexus.execute(decisionId, { adapterId: 'flaky' }, alice);
    expect(retried.decision.status).toBe('completed');
    expect(retried.decision.executions).toHaveLength(2);
  });

  it('fails with MAX_STEPS_EXCEEDED when the router reports more steps than max_steps', async () => {
    const { nexus, store } = setup();
    const { decisionId } = await nexus.request({ goal: 'g', plan: 'a\nb\nc\nd', policy: { maxSteps: 3 } }, requester);
    await nexus.approve(decisionId, {}, alice);
    const result = await nexus.execute(decisionId, { adapterId: 'null' }, alice);
    expect(result.decision.status).toBe('failed');
    const failed = (await store.readEvents(decisionId))[5]!;
    expect(failed.type).toBe('EXECUTION_FAILED');
    expect(failed.payload['error_code']).toBe('MAX_STEPS_EXCEEDED');
    expect(typeof failed.payload['run_id']).toBe('string');
  });

  it('fails the run when the router answers without a run_id', async () => {
    const { adapter } = scriptedAdapter('broken', ['dry_run'], () => ({ status: 'ok' }) as never);
    const { nexus } = setup({ adapters: [adapter] });
    const { decisionId } = await nexus.request({ goal: 'g' }, requester);
    await nexus.approve(decisionId, {}, alice);
    const result = await nexus.execute(decisionId, { adapterId: 'broken' }, alice);
    expect(result.execution).toMatchObject({ status: 'failed', errorCode: 'ROUTER_ERROR' });
  });

  it('records whatever the router says as a storable outcome: a run id that is no identifier, a huge or broken error message', async () => {
    const answers: (() => unknown)[] = [
      () => ({ run_id: 'run\u0000x', steps_executed: 1 }),
      () => ({ run_id: 'r'.repeat(300), steps_executed: 1 }),
      () => {
        throw new Error(`boom ${'!'.repeat(100_000)} \ud800`);
      },
    ];
    for (const answer of answers) {
      const { adapter } = scriptedAdapter('odd', ['dry_run'], answer as never);
      const { nexus, store } = setup({ adapters: [adapter] });
      const { decisionId } = await nexus.request({ goal: 'g' }, requester);
      await nexus.approve(decisionId, {}, alice);
      const result = await nexus.execute(decisionId, { adapterId: 'odd' }, alice);
      expect(result.execution).toMatchObject({ status: 'failed', errorCode: 'ROUTER_ERROR', runId: null });
      expect(Buffer.byteLength(result.execution.errorMessage ?? '')).toBeLessThanOrEqual(16 * 1024);
      // What was recorded exports and imports like anything a command writes.
      expect((await store.readEvents(decisionId)).map((e) => e.type).at(-1)).toBe('EXECUTION_FAILED');
    }
  });

  it('does not count an approval that expired before execution', async () => {
    const { nexus, clock } = setup();
    const { decisionId } = await nexus.request({ goal: 'g' }, requester);
    await nexus.approve(decisionId, { expiresAt: '2025-01-01T00:10:00+00:00' }, alice);
    clock.advance(11 * 60_000_000);
    expect((await errorOf(nexus.execute(decisionId, { adapterId: 'null' }, alice))).code).toBe('INVALID_STATE');
  });
});
