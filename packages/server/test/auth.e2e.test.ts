import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ActorType, EventType, NexusClientError, createNexusClient, type NexusClient } from '@nexus-control/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthConfig } from '../src/config/ServerConfig.js';
import { ListenAddressError } from '../src/listenAddress.js';
import { startServer } from '../src/startServer.js';
import { startTestServer, tokenAuth, type TestServer } from './helpers/testServer.js';
import { tempDir } from './helpers/tempDir.js';
import { certificatesIn } from './helpers/certificates.js';

async function codeOf(call: Promise<unknown>): Promise<string> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof NexusClientError)) throw new Error(`expected a failure, got ${JSON.stringify(error)}`);
  return `${error.code}/${error.grpcStatusName}`;
}

describe('bearer tokens and roles', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  it('no token, a wrong token or a malformed header: UNAUTHENTICATED, and nothing is written', async () => {
    expect(await codeOf(t.client('anonymous').createDecision({ goal: 'g' }))).toBe('UNAUTHENTICATED/UNAUTHENTICATED');
    const wrong = createNexusClient({ address: t.server.address, token: 'alice-token-typo' });
    expect(await codeOf(wrong.createDecision({ goal: 'g' }))).toBe('UNAUTHENTICATED/UNAUTHENTICATED');
    wrong.close();
    const basic = t.client('anonymous');
    expect(await codeOf(basic.listDecisions({}, { metadata: { authorization: 'Basic YWxpY2U6eA==' } }))).toBe(
      'UNAUTHENTICATED/UNAUTHENTICATED',
    );
    expect((await t.client('root').listDecisions({})).decisions).toEqual([]);
  });

  it('a role without the method: PERMISSION_DENIED, and nothing is written', async () => {
    const { decision } = await t.client('alice').createDecision({ goal: 'g' });
    const id = decision!.decisionId;
    expect(await codeOf(t.client('alice').approve({ decisionId: id }))).toBe('PERMISSION_DENIED/PERMISSION_DENIED');
    expect(await codeOf(t.client('bob').createDecision({ goal: 'g2' }))).toBe('PERMISSION_DENIED/PERMISSION_DENIED');
    expect(await codeOf(t.client('bob').execute({ decisionId: id, adapterId: 'null' }))).toBe('PERMISSION_DENIED/PERMISSION_DENIED');
    expect(await codeOf(t.client('deployer').createTemplate({ name: 't', policy: {} }))).toBe('PERMISSION_DENIED/PERMISSION_DENIED');
    expect(await codeOf(t.client('auditor').importBundle({ bundleJson: '{}' }))).toBe('PERMISSION_DENIED/PERMISSION_DENIED');
    expect(await codeOf(t.client('alice').exportBundle({ decisionId: id }))).toBe('PERMISSION_DENIED/PERMISSION_DENIED');
    expect((await t.client('bob').getDecision({ decisionId: id })).decision?.eventCount).toBe(2);
    expect((await t.client('root').listDecisions({})).decisions).toHaveLength(1);
  });

  it('the actor of every event comes from the credentials; a spoofed actor in the body is refused', async () => {
    const alice = t.client('alice');
    expect(await codeOf(alice.createDecision({ goal: 'spoof', actor: { type: ActorType.ACTOR_TYPE_HUMAN, id: 'mallory' } }))).toBe(
      'PERMISSION_DENIED/PERMISSION_DENIED',
    );
    expect(await codeOf(alice.createDecision({ goal: 'spoof', actor: { type: ActorType.ACTOR_TYPE_SYSTEM, id: 'alice' } }))).toBe(
      'PERMISSION_DENIED/PERMISSION_DENIED',
    );
    expect((await t.client('root').listDecisions({})).decisions.map((d) => d.goal)).not.toContain('spoof');

    // Naming oneself is fine; headers that look like identities are ignored.
    const { decision } = await alice.createDecision(
      { goal: 'honest', actor: { id: 'alice' } },
      { metadata: { 'x-actor': 'mallory', 'x-user': 'mallory' } },
    );
    const id = decision!.decisionId;
    expect(await codeOf(t.client('bob').approve({ decisionId: id, actor: { id: 'carol' } }))).toBe('PERMISSION_DENIED/PERMISSION_DENIED');
    await t.client('bob').approve({ decisionId: id });
    await t.client('deployer').execute({ decisionId: id, adapterId: 'null' });

    const { events } = await t.client('auditor').listEvents({ decisionId: id });
    const actors = events.map((e) => [EventType[e.type], e.actor?.type, e.actor?.id]);
    expect(actors).toEqual([
      ['EVENT_TYPE_DECISION_CREATED', ActorType.ACTOR_TYPE_HUMAN, 'alice'],
      ['EVENT_TYPE_POLICY_ATTACHED', ActorType.ACTOR_TYPE_HUMAN, 'alice'],
      ['EVENT_TYPE_APPROVAL_GRANTED', ActorType.ACTOR_TYPE_HUMAN, 'bob'],
      ['EVENT_TYPE_EXECUTION_REQUESTED', ActorType.ACTOR_TYPE_SYSTEM, 'deployer'],
      ['EVENT_TYPE_EXECUTION_STARTED', ActorType.ACTOR_TYPE_SYSTEM, 'nexus-control'],
      ['EVENT_TYPE_EXECUTION_COMPLETED', ActorType.ACTOR_TYPE_SYSTEM, 'nexus-control'],
    ]);
  });

  it('rejected calls are logged with their status and the caller when known', () => {
    const denied = t.logs.find((line) => line['msg'] === 'rpc' && line['status'] === 'PERMISSION_DENIED');
    expect(denied).toMatchObject({ level: 'info', error_code: 'PERMISSION_DENIED' });
    const unauthenticated = t.logs.find((line) => line['msg'] === 'rpc' && line['status'] === 'UNAUTHENTICATED');
    expect(unauthenticated).toMatchObject({ actor: null, error_code: 'UNAUTHENTICATED' });
  });
});

describe('self-approval', () => {
  it('is allowed by default and refused when the server forbids it', async () => {
    for (const forbid of [false, true]) {
      const t = await startTestServer({ forbidSelfApproval: forbid });
      try {
        const dana = t.client('dana');
        const { decision } = await dana.createDecision({ goal: 'my own change' });
        const approving = dana.approve({ decisionId: decision!.decisionId });
        if (forbid) expect(await codeOf(approving)).toBe('SELF_APPROVAL_FORBIDDEN/FAILED_PRECONDITION');
        else expect((await approving).decision?.activeApprovals).toBe(1);
        // someone else may always approve
        expect((await t.client('bob').approve({ decisionId: decision!.decisionId })).decision?.approvals.map((a) => a.actor?.id)).toContain(
          'bob',
        );
      } finally {
        await t.close();
      }
    }
  });
});

describe('listening without authentication', () => {
  it('every caller is the local admin on loopback', async () => {
    const t = await startTestServer({ auth: 'none' });
    try {
      expect(await t.client('anonymous').whoAmI({})).toEqual({
        actor: { type: ActorType.ACTOR_TYPE_HUMAN, id: 'local' },
        roles: ['requester', 'approver', 'executor', 'auditor', 'admin'],
        authenticatedBy: 'none',
      });
    } finally {
      await t.close();
    }
  });

  it('a non-loopback address is refused unless auth is configured', async () => {
    const { createMemoryEventStore } = await import('@nexus-control/core');
    const store = createMemoryEventStore();
    await expect(startServer({ store, listen: '0.0.0.0:0' })).rejects.toThrow(ListenAddressError);
    await expect(startServer({ store, listen: '[::]:0' })).rejects.toThrow(/without authentication/);
    const open = await startServer({ store, listen: '0.0.0.0:0', auth: tokenAuth });
    expect(open.port).toBeGreaterThan(0);
    await open.shutdown(100);
  });
});

describe('mTLS client certificates', () => {
  const dir = tempDir('nexus-mtls-');
  const file = (name: string) => join(dir.path, name);
  const { selfSigned, issue } = certificatesIn(dir.path);

  let t: TestServer;
  const read = (name: string) => readFileSync(file(name));

  beforeAll(async () => {
    for (const ca of ['ca', 'rogue-ca']) selfSigned(ca, `/CN=${ca}`);
    issue('server', '/CN=localhost', 'ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    issue('runner', '/O=Example/CN=runner', 'ca');
    issue('stranger', '/CN=stranger', 'ca');
    issue('impostor', '/CN=runner', 'rogue-ca');
    const auth: AuthConfig = {
      tokens: tokenAuth.tokens,
      mtls: {
        ca: read('ca.crt'),
        cert: read('server.crt'),
        key: read('server.key'),
        clients: [{ subject: { CN: 'runner' }, actor: { type: 'system', id: 'runner' }, roles: ['executor'] }],
      },
    };
    t = await startTestServer({ auth });
  });
  afterAll(async () => {
    await t.close();
    dir.remove();
  });

  const client = (name?: string, token?: string): NexusClient =>
    createNexusClient({
      address: t.server.address,
      deadlineMs: 5_000,
      tls: { ca: read('ca.crt'), serverName: 'localhost', ...(name ? { cert: read(`${name}.crt`), key: read(`${name}.key`) } : {}) },
      ...(token ? { token } : {}),
    });

  it('a mapped client certificate authenticates as its actor', async () => {
    const runner = client('runner');
    expect(await runner.whoAmI({})).toEqual({
      actor: { type: ActorType.ACTOR_TYPE_SYSTEM, id: 'runner' },
      roles: ['executor'],
      authenticatedBy: 'mtls',
    });
    expect(await codeOf(runner.createDecision({ goal: 'g' }))).toBe('PERMISSION_DENIED/PERMISSION_DENIED');
    runner.close();
  });

  it('a certificate from the right CA but not mapped is UNAUTHENTICATED; a token still works over mTLS', async () => {
    const stranger = client('stranger');
    expect(await codeOf(stranger.whoAmI({}))).toBe('UNAUTHENTICATED/UNAUTHENTICATED');
    stranger.close();
    const withToken = client('stranger', 'alice-token');
    expect((await withToken.whoAmI({})).actor?.id).toBe('alice');
    withToken.close();
  });

  it('no client certificate, or one from another CA, cannot connect at all', async () => {
    for (const name of [undefined, 'impostor']) {
      const c = client(name);
      expect(await codeOf(c.whoAmI({}))).toBe('UNAVAILABLE/UNAVAILABLE');
      c.close();
    }
  });
});
