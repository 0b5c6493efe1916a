import { status } from '@grpc/grpc-js';
import { ActorType, ConflictMode, Mode, NexusClientError, type ExecuteResponse, type NexusClient } from '@nexus-control/client';
import {
  bundleDigest,
  canonicalJson,
  eventDigestFromPayloadJson,
  newEvent,
  NEW_DECISION,
  parseJson,
  type JsonObject,
  type JsonValue,
  type NexusControl,
} from '@nexus-control/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lengthDelimited, rawClient, rawHttp2Call, rawUnary, stringField, varintField } from './helpers/rawCall.js';
import { castOf, startTestServer, type TestServer } from './helpers/testServer.js';

let t: TestServer;
let alice: NexusClient, bob: NexusClient, deployer: NexusClient, root: NexusClient;

beforeAll(async () => {
  t = await startTestServer();
  ({ alice, bob, deployer, root } = castOf(t));
});
afterAll(() => t.close());

async function failureOf(call: Promise<unknown>): Promise<NexusClientError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof NexusClientError)) throw new Error(`expected a NexusClientError, got ${String(error)}`);
  return error;
}

/** The log line of the last call to `method`. */
function lastLog(method: string): Record<string, unknown> {
  const line = [...t.logs].reverse().find((entry) => entry['method'] === method);
  if (!line) throw new Error(`no log line for ${method}`);
  return line;
}

/** An approved decision's bundle, edited the way a forger who knows the format would, and resealed. */
async function forgedBundle(edit: (events: JsonObject[]) => void): Promise<string> {
  const { decision } = await alice.createDecision({ goal: 'rotate the keys', mode: Mode.MODE_DRY_RUN });
  await bob.approve({ decisionId: decision!.decisionId });
  const { bundleJson } = await root.exportBundle({ decisionId: decision!.decisionId });
  const bundle = parseJson(bundleJson) as JsonObject;
  const events = bundle['events'] as JsonObject[];
  edit(events);
  for (const event of events)
    event['digest'] = eventDigestFromPayloadJson(event['type'] as string, canonicalJson(event['payload'] as JsonValue));
  (bundle['integrity'] as JsonObject)['canonical_digest'] = `sha256:${bundleDigest(bundle)}`;
  return canonicalJson(bundle);
}

describe('an imported bundle cannot bypass the approval policy', () => {
  it('refuses min_approvals null in an APPROVED bundle, writes nothing, and nothing can execute', async () => {
    const bundleJson = await forgedBundle((events) => {
      const policy = events.find((e) => e['type'] === 'POLICY_ATTACHED')!['payload'] as JsonObject;
      policy['min_approvals'] = null;
    });
    const before = (await root.listDecisions({ pageSize: 500 })).decisions.length;
    const error = await failureOf(root.importBundle({ bundleJson, conflictMode: ConflictMode.CONFLICT_MODE_NEW_DECISION_ID }));
    expect({ code: error.code, grpc: error.grpcStatusName }).toEqual({ code: 'BUNDLE_INVALID_SCHEMA', grpc: 'INVALID_ARGUMENT' });
    expect(error.message).toMatch(/min_approvals/);
    expect((await root.listDecisions({ pageSize: 500 })).decisions.length).toBe(before);
    expect(lastLog('BundleService/ImportBundle')['status']).toBe('INVALID_ARGUMENT');
  });

  it('refuses a goal of 12345 as a client error, not IMPORT_ATOMICITY_FAILED', async () => {
    const bundleJson = await forgedBundle((events) => {
      (events[0]!['payload'] as JsonObject)['goal'] = 12345;
    });
    const error = await failureOf(root.importBundle({ bundleJson, conflictMode: ConflictMode.CONFLICT_MODE_NEW_DECISION_ID }));
    expect(error.code).toBe('BUNDLE_INVALID_SCHEMA');
  });

  it('refuses a bundle with a duplicate key, which two parsers could read differently', async () => {
    const bundleJson = await forgedBundle(() => {});
    const doubled = bundleJson.replace('"goal":"rotate the keys"', '"goal":"rotate the keys","goal":"delete the keys"');
    const error = await failureOf(root.importBundle({ bundleJson: doubled, conflictMode: ConflictMode.CONFLICT_MODE_NEW_DECISION_ID }));
    expect(error.code).toBe('BUNDLE_INVALID_SCHEMA');
    expect(error.message).toMatch(/duplicate key "goal"/);
  });
});

describe('duplicate keys are refused in every document', () => {
  it('VerifyAuditPackage and AttachAttestation refuse a package with a repeated key', async () => {
    const { decision } = await alice.createDecision({ goal: 'rotate the keys', mode: Mode.MODE_DRY_RUN });
    await bob.approve({ decisionId: decision!.decisionId });
    await deployer.execute({ decisionId: decision!.decisionId, adapterId: 'null' });
    const { packageJson } = await root.exportAuditPackage({ decisionId: decision!.decisionId });
    expect((await root.verifyAuditPackage({ packageJson })).ok).toBe(true);
    const doubled = packageJson.replace('"goal":"rotate the keys"', '"goal":"delete the keys","goal":"rotate the keys"');
    expect(doubled).not.toBe(packageJson);
    const verify = await failureOf(root.verifyAuditPackage({ packageJson: doubled }));
    expect({ code: verify.code, grpc: verify.grpcStatusName }).toEqual({ code: 'PACKAGE_INVALID_SCHEMA', grpc: 'INVALID_ARGUMENT' });
    expect(verify.message).toMatch(/duplicate key "goal"/);
    const attach = await failureOf(root.attachAttestation({ packageJson: doubled, attestationJson: '{}' }));
    expect(attach.code).toBe('PACKAGE_INVALID_SCHEMA');
    const attestation = await failureOf(root.attachAttestation({ packageJson, attestationJson: '{"alg":"ed25519","alg":"none"}' }));
    expect(attestation.code).toBe('INVALID_ARGUMENT');
    expect(attestation.message).toMatch(/duplicate key "alg"/);
  });
});

describe('a log stored before these checks existed', () => {
  it('with min_approvals null is refused on read and by every command, and nothing is appended', async () => {
    // What an earlier release let an import store: an APPROVED decision whose policy needs null approvals.
    const decisionId = 'dec_legacy_null_policy';
    const requester = { type: 'human', id: 'alice' } as const;
    const ts = '2025-03-01T12:00:00+00:00';
    const events = [
      newEvent('DECISION_CREATED', { goal: 'g', plan: null, requested_mode: 'dry_run', labels: [] }, requester, ts),
      newEvent(
        'POLICY_ATTACHED',
        { min_approvals: null, allowed_modes: ['dry_run'], require_adapter_capabilities: [], max_steps: null, labels: [] },
        requester,
        ts,
      ),
    ];
    await t.store.append({
      decisionId,
      expectedVersion: NEW_DECISION,
      events,
      header: { decisionId, createdAt: ts, goal: 'g', requestedMode: 'dry_run', labels: [] },
      status: 'approved',
    });
    const read = await failureOf(alice.getDecision({ decisionId }));
    expect({ code: read.code, grpc: read.grpcStatusName }).toEqual({ code: 'REPLAY_INVALID', grpc: 'FAILED_PRECONDITION' });
    for (const call of [
      () => bob.approve({ decisionId }),
      () => bob.revoke({ decisionId }),
      () => deployer.execute({ decisionId, adapterId: 'null' }),
    ]) {
      const error = await failureOf(call());
      expect(error.code).toBe('REPLAY_INVALID');
    }
    expect(await t.store.readEvents(decisionId)).toHaveLength(2);
    expect(lastLog('ExecutionService/Execute')['status']).toBe('FAILED_PRECONDITION');
  });
});

describe('no call is logged OK while its client receives an error', () => {
  it('a response that cannot be encoded is logged as the INTERNAL the client receives', async () => {
    // A facade whose execute answers with a view a log that commands could not write would give.
    const broken = await startTestServer({
      nexus: (real: NexusControl): NexusControl =>
        Object.assign(Object.create(real) as NexusControl, {
          execute: async (...args: Parameters<NexusControl['execute']>) => {
            const result = await real.execute(...args);
            return {
              ...result,
              decision: { ...result.decision, policy: { ...result.decision.policy!, minApprovals: null as unknown as number } },
            };
          },
        }),
    });
    try {
      const cast = castOf(broken);
      const { decision } = await cast.alice.createDecision({ goal: 'g' });
      await cast.bob.approve({ decisionId: decision!.decisionId });
      const error = await failureOf(
        cast.deployer.execute({ decisionId: decision!.decisionId, adapterId: 'null' }) as Promise<ExecuteResponse>,
      );
      expect(error.grpcStatusName).toBe('INTERNAL');
      const line = [...broken.logs].reverse().find((entry) => entry['method'] === 'ExecutionService/Execute')!;
      expect(line['status']).toBe('INTERNAL');
    } finally {
      await broken.close();
    }
  });
});

describe('errors quote at most a short prefix of the input', () => {
  it('a 4,000-character decision id comes back as INVALID_ID, not RESOURCE_EXHAUSTED', async () => {
    const id = 'd'.repeat(4_000);
    const error = await failureOf(alice.getDecision({ decisionId: id }));
    expect({ code: error.code, grpc: error.grpcStatusName }).toEqual({ code: 'INVALID_ID', grpc: 'INVALID_ARGUMENT' });
    expect(error.message.length).toBeLessThan(300);
    const approve = await failureOf(bob.approve({ decisionId: id }));
    expect(approve.code).toBe('INVALID_ID');
  });

  it('the health service quotes a short prefix of an unknown service name', async () => {
    const client = rawClient(t.server.address);
    try {
      const name = 'x'.repeat(4_000);
      const result = await rawUnary(client, '/grpc.health.v1.Health/Check', Uint8Array.from(stringField(1, name)));
      expect(result.code).toBe(status.NOT_FOUND);
      expect(result.message.length).toBeLessThan(200);
    } finally {
      client.close();
    }
  });
});

describe('every field has a maximum, enforced before any write', () => {
  it('refuses a goal, a plan, a comment, a reason and labels beyond their limits', async () => {
    const before = (await root.listDecisions({ pageSize: 500 })).decisions.length;
    expect((await failureOf(alice.createDecision({ goal: 'g'.repeat(16 * 1024 + 1) }))).code).toBe('INVALID_GOAL');
    expect((await failureOf(alice.createDecision({ goal: 'g', plan: 'p'.repeat(64 * 1024 + 1) }))).code).toBe('INVALID_ARGUMENT');
    const labels = Array.from({ length: 65 }, (_, i) => `l${i}`);
    expect((await failureOf(alice.createDecision({ goal: 'g', policy: { labels: { values: labels } } }))).code).toBe('INVALID_POLICY');
    expect((await failureOf(alice.createDecision({ goal: 'g', policy: { labels: { values: ['bad\u0000label'] } } }))).code).toBe(
      'INVALID_POLICY',
    );
    expect((await root.listDecisions({ pageSize: 500 })).decisions.length).toBe(before);
    const { decision } = await alice.createDecision({ goal: 'g'.repeat(16 * 1024) });
    const id = decision!.decisionId;
    expect((await failureOf(bob.approve({ decisionId: id, comment: 'c'.repeat(4 * 1024 + 1) }))).code).toBe('INVALID_ARGUMENT');
    await bob.approve({ decisionId: id, comment: 'ok' });
    expect((await failureOf(bob.revoke({ decisionId: id, reason: 'r'.repeat(4 * 1024 + 1) }))).code).toBe('INVALID_ARGUMENT');
    expect((await root.listEvents({ decisionId: id })).events).toHaveLength(3);
  });

  it('keeps free text exactly as given, U+0000 included', async () => {
    const { decision } = await alice.createDecision({ goal: 'keep\u0000this', plan: 'a\u0000b' });
    expect((await alice.getDecision({ decisionId: decision!.decisionId })).decision!.goal).toBe('keep\u0000this');
  });
});

describe('smaller holes', () => {
  it('an asserted actor of an unknown type is PERMISSION_DENIED, even with the caller’s id', async () => {
    const error = await failureOf(alice.createDecision({ goal: 'g', actor: { type: 3 as ActorType, id: 'alice' } }));
    expect({ code: error.code, grpc: error.grpcStatusName }).toEqual({ code: 'PERMISSION_DENIED', grpc: 'PERMISSION_DENIED' });
  });

  it('two authorization headers are UNAUTHENTICATED, whichever comes first', async () => {
    // No HTTP/2 library sends two authorization headers: the frames are written by hand, and the
    // server's log line says what the call got.
    for (const order of [
      ['alice-token', 'root-token'],
      ['root-token', 'alice-token'],
    ]) {
      const logged = t.logs.length;
      await rawHttp2Call(
        t.server.address,
        '/nexus.control.v1.DiagnosticsService/WhoAmI',
        order.map((token) => ['authorization', `Bearer ${token}`] as [string, string]),
        new Uint8Array(),
      );
      const line = t.logs.slice(logged).find((entry) => entry['method'] === 'DiagnosticsService/WhoAmI');
      expect(line).toMatchObject({ status: 'UNAUTHENTICATED', error_code: 'UNAUTHENTICATED' });
    }
    const logged = t.logs.length;
    await rawHttp2Call(
      t.server.address,
      '/nexus.control.v1.DiagnosticsService/WhoAmI',
      [['authorization', 'Bearer alice-token']],
      new Uint8Array(),
    );
    expect(t.logs.slice(logged).find((entry) => entry['method'] === 'DiagnosticsService/WhoAmI')).toMatchObject({
      status: 'OK',
      actor: 'alice',
    });
  });

  it('invalid UTF-8 in a string field is INVALID_ARGUMENT naming the field, and nothing is written', async () => {
    const client = rawClient(t.server.address);
    const before = (await root.listDecisions({ pageSize: 500 })).decisions.length;
    try {
      const goal = lengthDelimited(1, [0x67, 0xff, 0xfe, 0x67]);
      const result = await rawUnary(
        client,
        '/nexus.control.v1.DecisionService/CreateDecision',
        Uint8Array.from([...goal, ...varintField(3, Mode.MODE_DRY_RUN)]),
        [['authorization', 'Bearer alice-token']],
      );
      expect({ code: result.code, domain: result.domainCode, field: result.details['field'] }).toEqual({
        code: status.INVALID_ARGUMENT,
        domain: 'INVALID_ARGUMENT',
        field: 'goal',
      });
      // Nested: a label inside the policy.
      const labels = lengthDelimited(6, lengthDelimited(1, [0xc3, 0x28]));
      const nested = await rawUnary(
        client,
        '/nexus.control.v1.DecisionService/CreateDecision',
        Uint8Array.from([...stringField(1, 'g'), ...lengthDelimited(4, labels)]),
        [['authorization', 'Bearer alice-token']],
      );
      expect(nested.details['field']).toBe('policy.labels.values');
    } finally {
      client.close();
    }
    expect((await root.listDecisions({ pageSize: 500 })).decisions.length).toBe(before);
  });

  it('a request that is no valid message is INVALID_ARGUMENT, not INTERNAL', async () => {
    const client = rawClient(t.server.address);
    try {
      // A length-delimited goal whose length runs past the end of the body.
      const truncated = Uint8Array.from([0x0a, 0x7f, 0x61]);
      const result = await rawUnary(client, '/nexus.control.v1.DecisionService/CreateDecision', truncated, [
        ['authorization', 'Bearer alice-token'],
      ]);
      expect({ code: result.code, domain: result.domainCode }).toEqual({ code: status.INVALID_ARGUMENT, domain: 'INVALID_ARGUMENT' });
      expect(lastLog('DecisionService/CreateDecision')['status']).toBe('INVALID_ARGUMENT');
    } finally {
      client.close();
    }
  });

  it('Execute with an unknown adapter is one POLICY_VIOLATION listing every failure', async () => {
    const { decision } = await alice.createDecision({ goal: 'g', mode: Mode.MODE_DRY_RUN });
    await bob.approve({ decisionId: decision!.decisionId });
    const error = await failureOf(deployer.execute({ decisionId: decision!.decisionId, adapterId: 'teleport', mode: Mode.MODE_APPLY }));
    expect({ code: error.code, grpc: error.grpcStatusName }).toEqual({ code: 'POLICY_VIOLATION', grpc: 'FAILED_PRECONDITION' });
    const codes = (JSON.parse(error.details['violations'] ?? '[]') as { code: string }[]).map((v) => v.code);
    expect(codes).toEqual(['MODE_NOT_ALLOWED', 'ADAPTER_NOT_FOUND']);
  });
});

describe('listing pages are bounded by size as well as count', () => {
  it('a page of large summaries holds what fits in 1 MiB, and the next page continues after it', async () => {
    const label = `big-${Date.now()}`;
    const labels = [label, ...Array.from({ length: 63 }, (_, i) => `${'x'.repeat(200)}${i}`)];
    const ids = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const { decision } = await alice.createDecision({ goal: 'g'.repeat(16 * 1024), policy: { labels: { values: labels } } });
      ids.add(decision!.decisionId);
    }
    const seen: string[] = [];
    let token = '';
    let pages = 0;
    do {
      const page = await root.listDecisions({ label, pageSize: 100, pageToken: token });
      pages++;
      expect(page.decisions.length).toBeGreaterThan(0);
      seen.push(...page.decisions.map((d) => d.decisionId));
      token = page.nextPageToken;
    } while (token !== '');
    expect(pages).toBeGreaterThan(1);
    expect(new Set(seen)).toEqual(ids);
    expect(seen).toHaveLength(ids.size);
  }, 60_000);
});
