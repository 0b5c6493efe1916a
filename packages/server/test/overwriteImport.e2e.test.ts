import { ConflictMode, EventType, NexusClientError } from '@nexus-control/client';
import type { AppendRequest, EventStore } from '@nexus-control/core';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/testServer.js';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/**
 * Holds the first append that `matches` until released, after the command has validated
 * against the log it read: the window in which an overwrite import can replace that log.
 */
function holdAppend(matches: (request: AppendRequest) => boolean) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let reached!: () => void;
  const held = new Promise<void>((resolve) => {
    reached = resolve;
  });
  let armed = false;
  const wrap = (store: EventStore): EventStore => ({
    ...store,
    async append(request) {
      if (armed && matches(request)) {
        armed = false;
        reached();
        await released;
      }
      return store.append(request);
    },
  });
  return {
    wrap,
    arm: () => {
      armed = true;
    },
    held,
    release,
  };
}

describe('an overwrite import racing a command on the replaced log (two logs of equal length)', () => {
  it('an approval validated on the old log never lands on it: it is re-validated against the new log and refused there', async () => {
    const gate = holdAppend((request) => request.events[0]?.type === 'APPROVAL_GRANTED' && request.events[0].actor.id === 'bob');
    t = await startTestServer({ wrapStore: gate.wrap });
    const [alice, bob, carol, root, auditor] = (['alice', 'bob', 'carol', 'root', 'auditor'] as const).map((name) => t!.client(name));

    const decisionId = (await alice!.createDecision({ goal: 'rotate keys', policy: { minApprovals: 2 } })).decision!.decisionId;
    const justRequested = (await root!.exportBundle({ decisionId })).bundleJson;
    await bob!.approve({ decisionId });
    const approvedByBob = (await root!.exportBundle({ decisionId })).bundleJson;
    // Back to the requested log (generation 1), then carol approves: [created, policy, carol].
    await root!.importBundle({ bundleJson: justRequested, conflictMode: ConflictMode.CONFLICT_MODE_OVERWRITE });
    await carol!.approve({ decisionId });

    // Bob approves, validated on [created, policy, carol] (it would make the decision approved) ...
    gate.arm();
    const stale = bob!.approve({ decisionId }).then(
      (response) => response,
      (error: unknown) => error,
    );
    await gate.held;
    // ... and before it appends, the log is replaced by [created, policy, bob]: same length, another log.
    await root!.importBundle({ bundleJson: approvedByBob, conflictMode: ConflictMode.CONFLICT_MODE_OVERWRITE });
    gate.release();

    const outcome = await stale;
    expect(outcome).toBeInstanceOf(NexusClientError);
    expect(['ALREADY_APPROVED', 'CONCURRENCY_CONFLICT']).toContain((outcome as NexusClientError).code);

    // The current log is exactly the imported one: one approval, still pending.
    const current = (await auditor!.listEvents({ decisionId })).events;
    expect(current.map((event) => [event.generation, event.seq, event.actor?.id])).toEqual([
      [2, 0, 'alice'],
      [2, 1, 'alice'],
      [2, 2, 'bob'],
    ]);
    const state = (await auditor!.getDecision({ decisionId })).decision!;
    expect(state.approvals.map((approval) => approval.actor?.id)).toEqual(['bob']);
    expect(state.activeApprovals).toBe(1);
    const listed = (await auditor!.listDecisions({})).decisions.find((summary) => summary.decisionId === decisionId);
    expect(listed).toMatchObject({ generation: 2, eventCount: 3 });

    // The replaced logs are kept, unchanged, for the audit view: nothing was appended to them.
    const superseded = (await auditor!.listEvents({ decisionId, generation: 1 })).events;
    expect(superseded.map((event) => [event.generation, event.seq, event.actor?.id])).toEqual([
      [1, 0, 'alice'],
      [1, 1, 'alice'],
      [1, 2, 'carol'],
    ]);
    expect((await auditor!.listEvents({ decisionId, generation: 0 })).events.map((event) => event.actor?.id)).toEqual([
      'alice',
      'alice',
      'bob',
    ]);
    expect((await auditor!.listEvents({ decisionId, generation: 3 })).events).toEqual([]);

    // Feed readers see each replacement as new entries starting at seq 0 with a higher generation.
    const feed: [number, number][] = [];
    for await (const item of auditor!.watchDecisions({ decisionId, fromStart: {} })) {
      if (item.type === 'caught_up') break;
      if (item.type === 'event') feed.push([item.event.generation, item.event.seq]);
    }
    expect(feed).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 0],
      [1, 1],
      [1, 2],
      [2, 0],
      [2, 1],
      [2, 2],
    ]);
  });

  it('an execution validated on the old log is refused once an equal-length log without the approvals replaces it', async () => {
    const gate = holdAppend((request) => request.events[0]?.type === 'EXECUTION_REQUESTED');
    t = await startTestServer({ wrapStore: gate.wrap });
    const [alice, bob, carol, root, deployer, auditor] = (['alice', 'bob', 'carol', 'root', 'deployer', 'auditor'] as const).map((name) =>
      t!.client(name),
    );
    const decisionId = (await alice!.createDecision({ goal: 'deploy', policy: { minApprovals: 2 } })).decision!.decisionId;
    await bob!.approve({ decisionId });
    const bobApproved = (await root!.exportBundle({ decisionId })).bundleJson;
    await bob!.revoke({ decisionId, reason: 'not yet' });
    const bobRevoked = (await root!.exportBundle({ decisionId })).bundleJson;
    // Generation 1: [created, policy, bob, carol]: approved, an execution is valid on it.
    await root!.importBundle({ bundleJson: bobApproved, conflictMode: ConflictMode.CONFLICT_MODE_OVERWRITE });
    await carol!.approve({ decisionId });

    gate.arm();
    const stale = deployer!.execute({ decisionId, adapterId: 'null' }).then(
      (response) => response,
      (error: unknown) => error,
    );
    await gate.held;
    // Generation 2: [created, policy, bob, bob revokes]: the same length, no active approval.
    await root!.importBundle({ bundleJson: bobRevoked, conflictMode: ConflictMode.CONFLICT_MODE_OVERWRITE });
    gate.release();

    const outcome = await stale;
    expect(outcome).toBeInstanceOf(NexusClientError);
    expect(['POLICY_VIOLATION', 'INVALID_STATE', 'CONCURRENCY_CONFLICT']).toContain((outcome as NexusClientError).code);
    const events = (await auditor!.listEvents({ decisionId })).events;
    expect(events.map((event) => [event.generation, event.type])).toEqual([
      [2, EventType.EVENT_TYPE_DECISION_CREATED],
      [2, EventType.EVENT_TYPE_POLICY_ATTACHED],
      [2, EventType.EVENT_TYPE_APPROVAL_GRANTED],
      [2, EventType.EVENT_TYPE_APPROVAL_REVOKED],
    ]);
    const superseded = (await auditor!.listEvents({ decisionId, generation: 1 })).events;
    expect(superseded.map((event) => event.type)).not.toContain(EventType.EVENT_TYPE_EXECUTION_REQUESTED);
    expect(superseded).toHaveLength(4);
  });

  it('reading a superseded generation needs the auditor role, and cannot be combined with a point in time', async () => {
    t = await startTestServer();
    const decisionId = (await t.client('alice').createDecision({ goal: 'x' })).decision!.decisionId;
    await expect(t.client('alice').listEvents({ decisionId, generation: 0 })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(t.client('auditor').listEvents({ decisionId, generation: 0, at: { atSeq: 0 } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect((await t.client('auditor').listEvents({ decisionId, generation: 0 })).events).toHaveLength(2);
  });
});
