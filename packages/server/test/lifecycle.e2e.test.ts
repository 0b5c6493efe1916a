import {
  ActorType,
  ConflictMode,
  DecisionStatus,
  EventType,
  ExecutionStatus,
  Mode,
  RouterMode,
  textFromTimestamp,
  timestampFromDate,
  type NexusClient,
} from '@nexus-control/client';
import { generateSigningKeyPair, parseJson, signAuditPackage, canonicalJson, type JsonObject } from '@nexus-control/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { castOf, startTestServer, type TestServer } from './helpers/testServer.js';

let t: TestServer;
let alice: NexusClient, bob: NexusClient, carol: NexusClient, deployer: NexusClient, auditor: NexusClient, root: NexusClient;

beforeAll(async () => {
  t = await startTestServer();
  ({ alice, bob, carol, deployer, auditor, root } = castOf(t));
});
afterAll(() => t.close());

describe('the whole lifecycle through the generated client', () => {
  let decisionId = '';
  let copyId = '';

  it('an admin creates a template; anyone can read and list it', async () => {
    const { template } = await root.createTemplate({
      name: 'prod-deploy',
      description: 'production deploys',
      policy: {
        minApprovals: 2,
        allowedModes: { values: [Mode.MODE_DRY_RUN, Mode.MODE_APPLY] },
        requireAdapterCapabilities: { values: ['timeout'] },
        maxSteps: 5,
        labels: { values: ['prod'] },
      },
    });
    expect(template).toMatchObject({
      name: 'prod-deploy',
      description: 'production deploys',
      policy: {
        minApprovals: 2,
        allowedModes: [Mode.MODE_DRY_RUN, Mode.MODE_APPLY],
        requireAdapterCapabilities: ['timeout'],
        maxSteps: 5,
        labels: ['prod'],
      },
      createdBy: { type: ActorType.ACTOR_TYPE_HUMAN, id: 'root' },
    });
    expect(template?.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(template!.snapshotJson)).toMatchObject({ name: 'prod-deploy', min_approvals: 2 });
    expect((await alice.getTemplate({ name: 'prod-deploy' })).template?.digest).toBe(template?.digest);
    expect((await alice.listTemplates({ label: 'prod' })).templates.map((x) => x.name)).toEqual(['prod-deploy']);
    expect((await alice.listTemplates({ label: 'staging' })).templates).toEqual([]);
  });

  it('a requester requests a decision from the template; the requester is the token’s actor', async () => {
    const { decision } = await alice.createDecision({
      goal: 'deploy v2.1.0',
      plan: 'drain\nswitch\nverify',
      mode: Mode.MODE_APPLY,
      templateName: 'prod-deploy',
      policy: { minApprovals: 2, labels: { values: ['prod', 'web'] } },
    });
    expect(decision).toMatchObject({
      goal: 'deploy v2.1.0',
      plan: 'drain\nswitch\nverify',
      requestedMode: Mode.MODE_APPLY,
      status: DecisionStatus.DECISION_STATUS_PENDING_APPROVAL,
      requester: { type: ActorType.ACTOR_TYPE_HUMAN, id: 'alice' },
      labels: ['prod', 'web'],
      eventCount: 2,
      policy: { minApprovals: 2, maxSteps: 5, labels: ['prod', 'web'], template: { name: 'prod-deploy' } },
    });
    expect(JSON.parse(decision!.policy!.template!.overridesAppliedJson)).toEqual({ min_approvals: 2, labels: ['prod', 'web'] });
    decisionId = decision!.decisionId;
    expect(decisionId).not.toBe('');
  });

  it('get with lifecycle shows what blocks it', async () => {
    const { decision, lifecycle } = await bob.getDecision({ decisionId, includeLifecycle: true });
    expect(decision?.status).toBe(DecisionStatus.DECISION_STATUS_PENDING_APPROVAL);
    expect(lifecycle?.blockingReasons.map((r) => r.code)).toEqual(['APPROVALS_NEEDED']);
    expect(lifecycle?.progress).toEqual({ activeApprovals: 0, requiredApprovals: 2, fraction: 0 });
    expect(lifecycle?.timeline.map((e) => e.type)).toEqual([EventType.EVENT_TYPE_DECISION_CREATED, EventType.EVENT_TYPE_POLICY_ATTACHED]);
    expect((await bob.getDecision({ decisionId })).lifecycle).toBeUndefined();
  });

  it('approvals accumulate, can be revoked and given again', async () => {
    const expires = timestampFromDate(new Date(Date.now() + 3_600_000));
    const first = await bob.approve({ decisionId, comment: 'looks good', expiresAt: expires });
    expect(first.decision?.status).toBe(DecisionStatus.DECISION_STATUS_PENDING_APPROVAL);
    expect(first.decision?.approvals[0]).toMatchObject({ actor: { id: 'bob' }, comment: 'looks good', active: true, expired: false });
    expect(textFromTimestamp(first.decision!.approvals[0]!.expiresAt!)).toBe(
      textFromTimestamp({ ...expires, nanos: Math.floor(expires.nanos / 1000) * 1000 }),
    );

    expect((await carol.approve({ decisionId })).decision?.status).toBe(DecisionStatus.DECISION_STATUS_APPROVED);
    const revoked = await carol.revoke({ decisionId, reason: 'second thoughts' });
    expect(revoked.decision?.status).toBe(DecisionStatus.DECISION_STATUS_PENDING_APPROVAL);
    expect(revoked.decision?.approvals.find((a) => a.actor?.id === 'carol')).toMatchObject({
      active: false,
      revokedReason: 'second thoughts',
    });
    const again = await carol.approve({ decisionId });
    expect(again.decision).toMatchObject({ status: DecisionStatus.DECISION_STATUS_APPROVED, activeApprovals: 2 });
  });

  it('events read at a seq or at an instant give the history as it was', async () => {
    const { events } = await alice.listEvents({ decisionId });
    expect(events.map((e) => e.type)).toEqual([
      EventType.EVENT_TYPE_DECISION_CREATED,
      EventType.EVENT_TYPE_POLICY_ATTACHED,
      EventType.EVENT_TYPE_APPROVAL_GRANTED,
      EventType.EVENT_TYPE_APPROVAL_GRANTED,
      EventType.EVENT_TYPE_APPROVAL_REVOKED,
      EventType.EVENT_TYPE_APPROVAL_GRANTED,
    ]);
    expect(events.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(events[0]).toMatchObject({ eventId: `evt_${decisionId}_0`, decisionId, actor: { id: 'alice' } });
    expect(JSON.parse(events[0]!.payloadJson)).toEqual({
      goal: 'deploy v2.1.0',
      plan: 'drain\nswitch\nverify',
      requested_mode: 'apply',
      labels: ['prod', 'web'],
    });
    expect(events[0]!.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(textFromTimestamp(events[0]!.ts!)).toBe(events[0]!.recordedTs);
    expect(events.map((e) => e.generation)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(new Set(events.map((e) => e.checkpoint)).size).toBe(6);

    expect((await alice.listEvents({ decisionId, at: { atSeq: 3 } })).events).toHaveLength(4);
    const atSeq3 = await alice.getDecision({ decisionId, at: { atSeq: 3 } });
    expect(atSeq3.decision).toMatchObject({ status: DecisionStatus.DECISION_STATUS_APPROVED, eventCount: 4 });
    const atSeq4 = await alice.getDecision({ decisionId, at: { atSeq: 4 } });
    expect(atSeq4.decision?.status).toBe(DecisionStatus.DECISION_STATUS_PENDING_APPROVAL);
    const atCreation = await alice.getDecision({ decisionId, at: { asOf: events[1]!.ts } });
    expect(atCreation.decision?.eventCount).toBeGreaterThanOrEqual(2);
    expect(atCreation.decision?.eventCount).toBeLessThanOrEqual(6);
  });

  it('inspect renders the decision for a person and reports intact digests', async () => {
    const inspection = await alice.inspectDecision({ decisionId });
    expect(inspection.integrity).toEqual({ eventDigestsValid: true, invalidEventSeqs: [] });
    expect(inspection.events).toHaveLength(6);
    expect(inspection.lifecycle?.blockingReasons).toEqual([]);
    expect(inspection.rendered).toContain(`Decision ${decisionId}`);
    expect(inspection.rendered).toContain('approved');
    expect(inspection.rendered).toContain('carol');
  });

  it('the executor runs it through the subprocess adapter; the run is linked back', async () => {
    const adapters = await deployer.listAdapters({});
    expect(adapters.adapters.map((a) => a.id)).toEqual(['deploy', 'null']);
    const result = await deployer.execute({ decisionId, adapterId: 'deploy' });
    expect(result.execution).toMatchObject({
      status: ExecutionStatus.EXECUTION_STATUS_COMPLETED,
      adapterId: 'deploy',
      dryRun: false,
      runId: 'run-1',
      stepsExecuted: 2,
      actor: { type: ActorType.ACTOR_TYPE_SYSTEM, id: 'deployer' },
    });
    expect(result.decision?.status).toBe(DecisionStatus.DECISION_STATUS_COMPLETED);
    // The router response keeps its exact numbers, so its digest is reproducible anywhere.
    expect(result.routerResponseJson).toContain('"big":12345678901234567890');
    expect(result.routerResponseJson).toContain('"ratio":1.0');
    expect(canonicalJson(parseJson(result.routerResponseJson))).toBe(result.routerResponseJson);
    const router = JSON.parse(result.routerResponseJson) as { request: JsonObject };
    expect(router.request).toEqual({
      goal: 'deploy v2.1.0',
      adapter_id: 'deploy',
      dry_run: false,
      plan: 'drain\nswitch\nverify',
      max_steps: 5,
      require_capabilities: ['timeout'],
    });
  });

  it('listing pages through decisions newest first, with label and status filters', async () => {
    const more: string[] = [];
    for (const goal of ['a', 'b', 'c'])
      more.push((await alice.createDecision({ goal, policy: { labels: { values: ['batch'] } } })).decision!.decisionId);
    const first = await alice.listDecisions({ pageSize: 2, label: 'batch' });
    expect(first.decisions.map((d) => d.decisionId)).toEqual([more[2], more[1]]);
    expect(first.nextPageToken).not.toBe('');
    const second = await alice.listDecisions({ pageSize: 2, label: 'batch', pageToken: first.nextPageToken });
    expect(second.decisions.map((d) => d.decisionId)).toEqual([more[0]]);
    expect(second.nextPageToken).toBe('');
    const completed = await alice.listDecisions({ status: DecisionStatus.DECISION_STATUS_COMPLETED });
    expect(completed.decisions.map((d) => d.decisionId)).toEqual([decisionId]);
    expect(completed.decisions[0]).toMatchObject({ goal: 'deploy v2.1.0', requestedMode: Mode.MODE_APPLY, eventCount: 9 });
  });

  it('a bundle exports as canonical JSON and imports under a new id, with replay', async () => {
    const exported = await auditor.exportBundle({ decisionId });
    const bundle = JSON.parse(exported.bundleJson) as {
      decision: { status: string };
      integrity: { canonical_digest: string };
      events: unknown[];
    };
    expect(bundle.decision.status).toBe('COMPLETED');
    expect(bundle.events).toHaveLength(9);
    expect(exported.canonicalDigest).toBe(bundle.integrity.canonical_digest);
    expect(canonicalJson(parseJson(exported.bundleJson))).toBe(exported.bundleJson);

    const imported = await root.importBundle({ bundleJson: exported.bundleJson, conflictMode: ConflictMode.CONFLICT_MODE_NEW_DECISION_ID });
    expect(imported).toMatchObject({
      eventsImported: 9,
      originalDecisionId: decisionId,
      digestVerified: true,
      replayRan: true,
      conflictMode: ConflictMode.CONFLICT_MODE_NEW_DECISION_ID,
    });
    expect(imported.decisionId).not.toBe(decisionId);
    expect(imported.newDecisionId).toBe(imported.decisionId);
    expect(JSON.parse(imported.resultJson)).toMatchObject({ ok: true, replay: { ok: true, status: 'COMPLETED' } });
    expect((await alice.getDecision({ decisionId: imported.decisionId })).decision?.status).toBe(DecisionStatus.DECISION_STATUS_COMPLETED);
    copyId = imported.decisionId;
  });

  it('audit packages export in both modes, verify, and carry a verified attestation', async () => {
    const reference = await auditor.exportAuditPackage({ decisionId });
    const pkg = JSON.parse(reference.packageJson) as { router: { mode: string }; integrity: { binding_digest: string } };
    expect(pkg.router.mode).toBe('reference');
    expect(reference.bindingDigest).toBe(pkg.integrity.binding_digest);
    const embedded = await auditor.exportAuditPackage({ decisionId, mode: RouterMode.ROUTER_MODE_EMBEDDED });
    expect((JSON.parse(embedded.packageJson) as { router: { mode: string } }).router.mode).toBe('embedded');

    for (const packageJson of [reference.packageJson, embedded.packageJson]) {
      const report = await alice.verifyAuditPackage({ packageJson });
      expect(report.failed, JSON.stringify(report.checks.filter((c) => !c.ok))).toBe(0);
      expect(report).toMatchObject({ ok: true });
      expect(report.total).toBe(report.passed);
      expect(report.checks.slice(0, 6).map((c) => c.name)).toEqual([
        'binding_digest',
        'control_bundle_digest',
        'binding_control_match',
        'binding_router_match',
        'binding_link_match',
        'router_digest',
      ]);
    }

    // An imported copy has no stored router result: the router bundle can be supplied.
    await expect(auditor.exportAuditPackage({ decisionId: copyId, mode: RouterMode.ROUTER_MODE_EMBEDDED })).rejects.toMatchObject({
      code: 'NO_ROUTER_LINK',
    });
    const routerBundleJson = canonicalJson((parseJson(embedded.packageJson) as { router: { bundle: JsonObject } }).router.bundle);
    const copyPackage = await auditor.exportAuditPackage({ decisionId: copyId, mode: RouterMode.ROUTER_MODE_EMBEDDED, routerBundleJson });
    expect((await alice.verifyAuditPackage({ packageJson: copyPackage.packageJson })).ok).toBe(true);

    const keys = generateSigningKeyPair();
    const attestation = signAuditPackage(embedded.packageJson, keys.privateKeyPem);
    const signed = await auditor.attachAttestation({ packageJson: embedded.packageJson, attestationJson: JSON.stringify(attestation) });
    expect((JSON.parse(signed.packageJson) as { attestations: unknown[] }).attestations).toHaveLength(1);
    expect((await alice.verifyAuditPackage({ packageJson: signed.packageJson, publicKeys: [keys.publicKeyPem] })).ok).toBe(true);
    const stranger = generateSigningKeyPair();
    expect((await alice.verifyAuditPackage({ packageJson: signed.packageJson, publicKeys: [stranger.publicKeyPem] })).ok).toBe(false);

    const forged = { ...attestation, signature: Buffer.alloc(64).toString('base64') };
    await expect(
      auditor.attachAttestation({ packageJson: embedded.packageJson, attestationJson: JSON.stringify(forged) }),
    ).rejects.toMatchObject({
      code: 'INTEGRITY_MISMATCH',
    });
  });

  it('an import may overwrite an existing decision atomically, without replay when asked', async () => {
    const { bundleJson } = await auditor.exportBundle({ decisionId: copyId });
    const overwritten = await root.importBundle({
      bundleJson,
      conflictMode: ConflictMode.CONFLICT_MODE_OVERWRITE,
      replayAfterImport: false,
    });
    expect(overwritten).toMatchObject({
      decisionId: copyId,
      eventsImported: 9,
      replayRan: false,
      conflictMode: ConflictMode.CONFLICT_MODE_OVERWRITE,
    });
    expect(overwritten.originalDecisionId).toBeUndefined();
    expect((await alice.listEvents({ decisionId: copyId })).events).toHaveLength(9);
  });

  it('WhoAmI and Echo answer any authenticated caller', async () => {
    expect(await deployer.whoAmI({})).toEqual({
      actor: { type: ActorType.ACTOR_TYPE_SYSTEM, id: 'deployer' },
      roles: ['executor'],
      authenticatedBy: 'token',
    });
    expect((await alice.echo({ message: 'ping', payload: Buffer.from('x') })).message).toBe('ping');
  });

  it('every call is logged as one JSON line with method, actor, status, duration and decision id', () => {
    const rpcLines = t.logs.filter((line) => line['msg'] === 'rpc');
    const execute = rpcLines.find((line) => line['method'] === 'ExecutionService/Execute');
    expect(execute).toMatchObject({ level: 'info', actor: 'deployer', status: 'OK', decision_id: decisionId });
    expect(typeof execute?.['duration_ms']).toBe('number');
    const created = rpcLines.find((line) => line['method'] === 'DecisionService/CreateDecision');
    expect(created).toMatchObject({ actor: 'alice', status: 'OK', decision_id: decisionId });
  });
});
