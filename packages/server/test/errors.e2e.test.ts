import { status } from '@grpc/grpc-js';
import { ConflictMode, EventType, Mode, NexusClientError, timestampFromDate, type NexusClient } from '@nexus-control/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { castOf, startTestServer, type TestServer } from './helpers/testServer.js';

let t: TestServer;
let alice: NexusClient, bob: NexusClient, carol: NexusClient, deployer: NexusClient, auditor: NexusClient, root: NexusClient;

beforeAll(async () => {
  t = await startTestServer();
  ({ alice, bob, carol, deployer, auditor, root } = castOf(t));
});
afterAll(() => t.close());

async function failure(call: Promise<unknown>): Promise<NexusClientError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof NexusClientError)) throw new Error(`expected a NexusClientError, got ${String(error)}`);
  return error;
}

async function expectFailure(call: Promise<unknown>, code: string, grpcCode: status): Promise<NexusClientError> {
  const error = await failure(call);
  expect({ code: error.code, grpcCode: error.grpcStatusName }).toEqual({ code, grpcCode: status[grpcCode] });
  expect(error.fromServer).toBe(true);
  return error;
}

async function approvedDecision(options: { allowedModes?: Mode[] } = {}): Promise<string> {
  const { decision } = await alice.createDecision({
    goal: 'rotate keys',
    mode: Mode.MODE_DRY_RUN,
    ...(options.allowedModes ? { policy: { allowedModes: { values: options.allowedModes } } } : {}),
  });
  await bob.approve({ decisionId: decision!.decisionId });
  return decision!.decisionId;
}

describe('error mapping over the wire', () => {
  it('INVALID_ARGUMENT: an empty goal, an invalid policy, an unknown enum value, a bundle that is not a bundle', async () => {
    await expectFailure(alice.createDecision({ goal: '' }), 'INVALID_GOAL', status.INVALID_ARGUMENT);
    const policy = await expectFailure(
      alice.createDecision({ goal: 'g', policy: { minApprovals: 0 } }),
      'INVALID_POLICY',
      status.INVALID_ARGUMENT,
    );
    expect(policy.details['field']).toBe('min_approvals');
    await expectFailure(alice.createDecision({ goal: 'g', mode: 7 as Mode }), 'INVALID_MODE', status.INVALID_ARGUMENT);
    await expectFailure(root.importBundle({ bundleJson: '{"bundle_version":"0.5"}' }), 'BUNDLE_INVALID_SCHEMA', status.INVALID_ARGUMENT);
    await expectFailure(root.importBundle({ bundleJson: 'not json' }), 'BUNDLE_INVALID_SCHEMA', status.INVALID_ARGUMENT);
  });

  it('INVALID_ARGUMENT: an approval that expires in the past', async () => {
    const { decision } = await alice.createDecision({ goal: 'g' });
    const past = timestampFromDate(new Date(Date.now() - 60_000));
    await expectFailure(bob.approve({ decisionId: decision!.decisionId, expiresAt: past }), 'INVALID_TIMESTAMP', status.INVALID_ARGUMENT);
  });

  it('NOT_FOUND: unknown decision, template and adapter', async () => {
    const missing = await expectFailure(alice.getDecision({ decisionId: 'dec_missing' }), 'DECISION_NOT_FOUND', status.NOT_FOUND);
    expect(missing.details['decisionId']).toBe('dec_missing');
    await expectFailure(alice.getTemplate({ name: 'nope' }), 'TEMPLATE_NOT_FOUND', status.NOT_FOUND);
    await expectFailure(alice.createDecision({ goal: 'g', templateName: 'nope' }), 'TEMPLATE_NOT_FOUND', status.NOT_FOUND);
    const id = await approvedDecision();
    const unknown = await expectFailure(
      deployer.execute({ decisionId: id, adapterId: 'teleport' }),
      'POLICY_VIOLATION',
      status.FAILED_PRECONDITION,
    );
    expect((JSON.parse(unknown.details['violations'] ?? '[]') as { code: string }[]).map((v) => v.code)).toContain('ADAPTER_NOT_FOUND');
  });

  it('ALREADY_EXISTS: a template name taken, a bundle imported twice', async () => {
    await root.createTemplate({ name: 'dup', policy: {} });
    await expectFailure(root.createTemplate({ name: 'dup', policy: {} }), 'TEMPLATE_EXISTS', status.ALREADY_EXISTS);
    const id = await approvedDecision();
    const { bundleJson } = await auditor.exportBundle({ decisionId: id });
    await expectFailure(
      root.importBundle({ bundleJson, conflictMode: ConflictMode.CONFLICT_MODE_REJECT_ON_CONFLICT }),
      'DECISION_EXISTS',
      status.ALREADY_EXISTS,
    );
  });

  it('FAILED_PRECONDITION: state violations', async () => {
    const { decision } = await alice.createDecision({ goal: 'needs approval' });
    const id = decision!.decisionId;
    await expectFailure(deployer.execute({ decisionId: id, adapterId: 'null' }), 'INVALID_STATE', status.FAILED_PRECONDITION);
    await expectFailure(bob.revoke({ decisionId: id }), 'NO_ACTIVE_APPROVAL', status.FAILED_PRECONDITION);
    await bob.approve({ decisionId: id });
    await expectFailure(bob.approve({ decisionId: id }), 'ALREADY_APPROVED', status.FAILED_PRECONDITION);
    await deployer.execute({ decisionId: id, adapterId: 'null' });
    await expectFailure(deployer.execute({ decisionId: id, adapterId: 'null' }), 'INVALID_STATE', status.FAILED_PRECONDITION);
    await expectFailure(carol.approve({ decisionId: id }), 'INVALID_STATE', status.FAILED_PRECONDITION);
  });

  it('FAILED_PRECONDITION: policy violations, with every violation in the details', async () => {
    const id = await approvedDecision({ allowedModes: [Mode.MODE_DRY_RUN] });
    const error = await expectFailure(
      deployer.execute({ decisionId: id, adapterId: 'deploy', mode: Mode.MODE_APPLY }),
      'POLICY_VIOLATION',
      status.FAILED_PRECONDITION,
    );
    const violations = JSON.parse(error.details['violations'] ?? '[]') as { code: string }[];
    expect(violations.map((v) => v.code)).toContain('MODE_NOT_ALLOWED');
  });

  it('FAILED_PRECONDITION: a tampered bundle, an audit package of a decision that never ran, a reused idempotency key', async () => {
    const id = await approvedDecision();
    const { bundleJson } = await auditor.exportBundle({ decisionId: id });
    const tampered = bundleJson.replace('"goal":"rotate keys"', '"goal":"rotate all keys"');
    expect(tampered).not.toBe(bundleJson);
    await expectFailure(
      root.importBundle({ bundleJson: tampered, conflictMode: ConflictMode.CONFLICT_MODE_NEW_DECISION_ID }),
      'INTEGRITY_MISMATCH',
      status.FAILED_PRECONDITION,
    );
    await expectFailure(auditor.exportAuditPackage({ decisionId: id }), 'NO_ROUTER_LINK', status.FAILED_PRECONDITION);
    await alice.createDecision({ goal: 'first', idempotencyKey: 'key-1' });
    await expectFailure(
      alice.createDecision({ goal: 'second', idempotencyKey: 'key-1' }),
      'IDEMPOTENCY_KEY_REUSED',
      status.FAILED_PRECONDITION,
    );
  });

  it('an idempotent repeat returns the first result and writes nothing new', async () => {
    const first = await alice.createDecision({ goal: 'once', idempotencyKey: 'key-once' });
    const again = await alice.createDecision({ goal: 'once', idempotencyKey: 'key-once' });
    expect(again.decision?.decisionId).toBe(first.decision?.decisionId);
    expect(again.decision?.eventCount).toBe(2);
  });

  it('two executes that both saw the decision approved: one runs; the other loses the race on append, re-checks and is told the decision is executing', async () => {
    // Hold the appends until both executes have passed the state check and asked to append,
    // so they race on the append, which the store's optimistic concurrency decides.
    let waiting: (() => void)[] = [];
    let armed = false;
    const racing = await startTestServer({
      wrapStore: (store) => ({
        ...store,
        onAppend: store.onAppend?.bind(store),
        append: async (request) => {
          if (armed) {
            await new Promise<void>((resolve) => {
              waiting.push(resolve);
              if (waiting.length === 2) {
                armed = false;
                for (const release of waiting) release();
                waiting = [];
              }
            });
          }
          return store.append(request);
        },
      }),
    });
    try {
      const { decision } = await racing.client('alice').createDecision({ goal: 'race' });
      const id = decision!.decisionId;
      await racing.client('bob').approve({ decisionId: id });
      armed = true;
      const deployerClient = racing.client('deployer');
      const outcomes = await Promise.allSettled([
        deployerClient.execute({ decisionId: id, adapterId: 'deploy' }),
        deployerClient.execute({ decisionId: id, adapterId: 'deploy' }),
      ]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => o.reason as NexusClientError);
      expect(lost.map((e) => [e.code, e.grpcStatusName])).toEqual([['INVALID_STATE', 'FAILED_PRECONDITION']]);
      const { events } = await racing.client('alice').listEvents({ decisionId: id });
      expect(events.filter((e) => e.type === EventType.EVENT_TYPE_EXECUTION_REQUESTED)).toHaveLength(1);
    } finally {
      await racing.close();
    }
  });

  it('UNAVAILABLE: a store that cannot be reached', async () => {
    const broken = await startTestServer();
    try {
      const client = broken.client('alice');
      await broken.store.close();
      await expectFailure(client.listDecisions({}), 'STORE_UNAVAILABLE', status.UNAVAILABLE);
    } finally {
      await broken.close();
    }
  });

  it('INTERNAL: an unexpected failure is reported without its message and logged in full', async () => {
    const faulty = await startTestServer({
      nexus: (real) => ({
        ...real,
        getDecision: async () => {
          throw new TypeError('cannot read properties of undefined (reading "secret")');
        },
      }),
    });
    try {
      const error = await expectFailure(faulty.client('alice').getDecision({ decisionId: 'dec_x' }), 'INTERNAL', status.INTERNAL);
      expect(error.message).toBe('internal error');
      const logged = faulty.logs.find((line) => line['method'] === 'DecisionService/GetDecision');
      expect(logged).toMatchObject({ level: 'error', status: 'INTERNAL', error_code: 'INTERNAL', error: { name: 'TypeError' } });
    } finally {
      await faulty.close();
    }
  });

  it('PERMISSION_DENIED and UNAUTHENTICATED carry their domain codes too', async () => {
    await expectFailure(bob.createDecision({ goal: 'g' }), 'PERMISSION_DENIED', status.PERMISSION_DENIED);
    await expectFailure(t.client('anonymous').listDecisions({}), 'UNAUTHENTICATED', status.UNAUTHENTICATED);
  });
});
