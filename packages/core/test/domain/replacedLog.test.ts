import { describe, expect, it } from 'vitest';
import type { CommandContext } from '../../src/domain/NexusControlApi.js';
import type { NewEvent } from '../../src/events/DecisionEvent.js';
import { newEvent } from '../../src/events/newEvent.js';
import { createMemoryDatabase } from '../../src/store/createMemoryDatabase.js';
import { createMemoryEventStore } from '../../src/store/createMemoryEventStore.js';
import { alice, bob, carol, requester, setup } from './fixtures.js';

/**
 * A service whose store runs `between` once, inside the next append, after the command has
 * validated against the log and right before the append commits: the moment another server's
 * overwrite import would land in a race.
 */
function raceableSetup() {
  const database = createMemoryDatabase();
  const admin = createMemoryEventStore({ database });
  let between: (() => Promise<unknown>) | undefined;
  const store = createMemoryEventStore({
    database,
    beforeCommit: async () => {
      const task = between;
      between = undefined;
      await task?.();
    },
  });
  return { admin, ...setup({ store }), beforeNextCommit: (task: () => Promise<unknown>) => (between = task) };
}

/** The decision's log as an importer would bring it, with its third event granted by `approver` instead. */
async function equalLengthReplacement(admin: ReturnType<typeof createMemoryEventStore>, decisionId: string, approver: CommandContext) {
  const [created, policy, granted] = await admin.readEvents(decisionId);
  const plain = ({ type, ts, actor, payload, payloadJson, digest }: NewEvent): NewEvent => ({
    type,
    ts,
    actor,
    payload,
    payloadJson,
    digest,
  });
  const events = [plain(created!), plain(policy!), newEvent('APPROVAL_GRANTED', { expires_at: null }, approver.actor, granted!.ts)];
  const summary = (await admin.getDecision(decisionId))!;
  const { decisionId: id, createdAt, goal, requestedMode, labels } = summary;
  return () =>
    admin.importDecision({
      header: { decisionId: id, createdAt, goal, requestedMode, labels },
      events,
      status: 'pending_approval',
      conflictMode: 'overwrite',
    });
}

describe('a command racing an overwrite import', () => {
  it('an approve decided on a log that an equal-length import replaced conflicts, and its retry validates against the new log', async () => {
    const { nexus, admin, beforeNextCommit } = raceableSetup();
    const { decisionId } = await nexus.request({ goal: 'g', policy: { minApprovals: 2 } }, requester);
    await nexus.approve(decisionId, {}, bob);
    // The replacement already holds alice's approval: on the new log hers is a duplicate.
    beforeNextCommit(await equalLengthReplacement(admin, decisionId, alice));

    await expect(nexus.approve(decisionId, {}, alice)).rejects.toMatchObject({ code: 'ALREADY_APPROVED' });

    expect((await admin.readEvents(decisionId)).map((e) => [e.generation, e.actor.id])).toEqual([
      [1, 'requester'],
      [1, 'requester'],
      [1, 'alice'],
    ]);
    expect((await admin.readEvents(decisionId, { generation: 0 })).map((e) => e.actor.id)).toEqual(['requester', 'requester', 'bob']);
    expect(await nexus.getDecision(decisionId)).toMatchObject({ status: 'pending_approval', activeApprovals: 1, eventCount: 3 });
  });

  it('an approve whose retry is valid on the new log lands on the new log only', async () => {
    const { nexus, admin, beforeNextCommit } = raceableSetup();
    const { decisionId } = await nexus.request({ goal: 'g', policy: { minApprovals: 2 } }, requester);
    await nexus.approve(decisionId, {}, bob);
    beforeNextCommit(await equalLengthReplacement(admin, decisionId, carol));

    const view = await nexus.approve(decisionId, {}, alice);

    expect(view.approvals.map((a) => a.actor.id)).toEqual(['carol', 'alice']);
    expect(view.status).toBe('approved');
    expect((await admin.readEvents(decisionId)).map((e) => [e.generation, e.seq, e.actor.id])).toEqual([
      [1, 0, 'requester'],
      [1, 1, 'requester'],
      [1, 2, 'carol'],
      [1, 3, 'alice'],
    ]);
    expect((await admin.readEvents(decisionId, { generation: 0 })).map((e) => e.actor.id)).toEqual(['requester', 'requester', 'bob']);
  });

  it('a cached decision whose log was replaced at equal length is read afresh', async () => {
    const { nexus, admin } = raceableSetup();
    const { decisionId } = await nexus.request({ goal: 'g', policy: { minApprovals: 2 } }, requester);
    await nexus.approve(decisionId, {}, bob);
    expect((await nexus.getDecision(decisionId)).approvals.map((a) => a.actor.id)).toEqual(['bob']);
    await (
      await equalLengthReplacement(admin, decisionId, carol)
    )();
    expect((await nexus.getDecision(decisionId)).approvals.map((a) => a.actor.id)).toEqual(['carol']);
  });
});
