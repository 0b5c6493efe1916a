import {
  FEED_START,
  newEvent,
  NexusError,
  type EventStore,
  type ImportRequest,
  type NewEvent,
  type StoredEvent,
} from '@nexus-control/core';
import { describe, expect, it } from 'vitest';
import type { ConformanceContext } from './conformanceContext.js';
import { decisionState } from './decisionState.js';
import { expectConflict } from './expectConflict.js';
import { expectNexusError } from './expectNexusError.js';
import { approvalEvent, approveRequest, createdEvents, createRequest } from './fixtures.js';
import { readFeedToHead } from './readFeedToHead.js';
import { pause } from './timing.js';
import { written } from './written.js';

/** A decision as a bundle brings it: its own opaque timestamps, a full log from seq 0. */
function bundled(decisionId: string, goal: string): { header: ImportRequest['header']; events: NewEvent[] } {
  const ts = '2024-06-01T12:00:00.500000+00:00';
  const { header, events } = createdEvents(decisionId, { goal, labels: ['imported'], ts });
  return {
    header,
    events: [
      ...events,
      approvalEvent('auditor', { ts: '2024-06-01T12:05:00+00:00', comment: 'ok' }),
      newEvent('EXECUTION_REQUESTED', { adapter_id: 'null', dry_run: true }, { type: 'human', id: 'ops' }, '2024-06-01T12:06:00+00:00'),
    ],
  };
}

function expectStoredLog(stored: readonly StoredEvent[], decisionId: string, events: readonly NewEvent[], generation = 0): void {
  expect(stored.map((e) => e.seq)).toEqual(events.map((_, i) => i));
  expect(stored.map(written)).toEqual(events.map(written));
  for (const event of stored) {
    expect(event.decisionId).toBe(decisionId);
    expect(event.generation).toBe(generation);
    expect(event.checkpoint).not.toBe(FEED_START);
  }
  expect(new Set(stored.map((e) => e.checkpoint)).size).toBe(stored.length);
}

const keyOf = (e: StoredEvent) => `${e.decisionId}#${e.generation}#${e.seq}`;

async function seedExisting(store: EventStore): Promise<void> {
  await store.append(createRequest('d1', { goal: 'original', labels: ['old'] }));
  await store.append(approveRequest('d1', 2, 'a'));
  await store.append(approveRequest('d1', 3, 'b'));
}

export function describeImportConformance(ctx: ConformanceContext): void {
  describe('importing a decision', () => {
    it("'reject' on a new id writes the header and the whole log; verify sees the stored events", async () => {
      const store = await ctx.newStore();
      await store.append(createRequest('other'));
      const { header, events } = bundled('d1', 'imported goal');
      let seenByVerify: StoredEvent[] | undefined;
      const result = await store.importDecision({
        header,
        events,
        status: 'pending_approval',
        conflictMode: 'reject',
        verify: (stored) => {
          seenByVerify = [...stored];
        },
      });
      const stored = await store.readEvents('d1');
      expectStoredLog(stored, 'd1', events);
      expect(result.events).toEqual(stored);
      expect(seenByVerify).toEqual(stored);
      expect(await store.getDecision('d1')).toEqual({
        ...header,
        status: 'pending_approval',
        eventCount: 4,
        generation: 0,
        updatedAt: '2024-06-01T12:06:00+00:00',
      });
      expect((await store.readFeed({ decisionId: 'd1' })).events).toEqual(stored);
      expect((await store.readFeed({ after: stored[3]?.checkpoint })).events).toEqual([]);
      expect((await store.listDecisions({ label: 'imported' })).items.map((d) => d.decisionId)).toEqual(['d1']);
    });

    it("'reject' on an existing id fails with DECISION_EXISTS, does not verify and changes nothing", async () => {
      const store = await ctx.newStore();
      await seedExisting(store);
      const before = await decisionState(store, 'd1');
      let verified = false;
      const { header, events } = bundled('d1', 'intruder');
      await expectNexusError(
        store.importDecision({ header, events, status: 'approved', conflictMode: 'reject', verify: () => void (verified = true) }),
        'DECISION_EXISTS',
      );
      expect(verified).toBe(false);
      expect(await decisionState(store, 'd1')).toEqual(before);
    });

    it("'overwrite' starts a new generation: the replacement is the current log and the listing row follows it", async () => {
      const store = await ctx.newStore();
      await seedExisting(store);
      await store.append(createRequest('d2'));
      const { header, events } = bundled('d1', 'replacement');
      const shorter = events.slice(0, 3);
      const result = await store.importDecision({ header, events: shorter, status: 'approved', conflictMode: 'overwrite' });

      const stored = await store.readEvents('d1');
      expectStoredLog(stored, 'd1', shorter, 1);
      expect(result.events).toEqual(stored);
      expect(await store.readEvents('d1', { fromSeq: 3 })).toEqual([]);
      expect(await store.readEvents('d1', { generation: 1 })).toEqual(stored);
      expect(await store.getDecision('d1')).toEqual({
        ...header,
        status: 'approved',
        eventCount: 3,
        generation: 1,
        updatedAt: '2024-06-01T12:05:00+00:00',
      });
      const listed = (await store.listDecisions()).items;
      expect(listed.map((d) => d.decisionId).sort()).toEqual(['d1', 'd2']);
      expect(listed.find((d) => d.decisionId === 'd1')?.goal).toBe('replacement');
      expect((await store.listDecisions({ label: 'old' })).items).toEqual([]);
      expect((await store.listDecisions({ label: 'imported' })).items.map((d) => d.decisionId)).toEqual(['d1']);
      // The replaced decision goes on as any other, on its new generation.
      await store.append(approveRequest('d1', { generation: 1, length: 3 }, 'c'));
      expect((await store.readEvents('d1')).map((e) => [e.generation, e.seq])).toEqual([
        [1, 0],
        [1, 1],
        [1, 2],
        [1, 3],
      ]);
    });

    it('the superseded log stays readable by its generation, unchanged', async () => {
      const store = await ctx.newStore();
      await seedExisting(store);
      const original = await store.readEvents('d1');
      const { header, events } = bundled('d1', 'replacement');
      await store.importDecision({ header, events, status: 'approved', conflictMode: 'overwrite' });
      await store.importDecision({ header, events: events.slice(0, 2), status: 'pending_approval', conflictMode: 'overwrite' });

      expect(await store.readEvents('d1', { generation: 0 })).toEqual(original);
      expect(await store.readEvents('d1', { generation: 0, fromSeq: 2, toSeq: 2 })).toEqual([original[2]]);
      expectStoredLog(await store.readEvents('d1', { generation: 1 }), 'd1', events, 1);
      expectStoredLog(await store.readEvents('d1', { generation: 2 }), 'd1', events.slice(0, 2), 2);
      expect(await store.readEvents('d1')).toEqual(await store.readEvents('d1', { generation: 2 }));
      expect(await store.readEvents('d1', { generation: 3 })).toEqual([]);
      expect((await store.getDecision('d1'))?.generation).toBe(2);
    });

    it('the feed carries the replacement as new entries with generation > 0, after everything before it', async () => {
      const store = await ctx.newStore();
      await seedExisting(store);
      const original = await store.readEvents('d1');
      const beforeImport = await store.headCheckpoint();
      const { header, events } = bundled('d1', 'replacement');
      await store.importDecision({ header, events, status: 'approved', conflictMode: 'overwrite' });
      const replacement = await store.readEvents('d1');

      const news = await readFeedToHead(store, { after: beforeImport });
      expect(news.events).toEqual(replacement);
      expect(news.events.map(keyOf)).toEqual(['d1#1#0', 'd1#1#1', 'd1#1#2', 'd1#1#3']);
      // The replaced entries keep their places in the feed: a reader from the start sees both logs.
      const whole = await readFeedToHead(store);
      expect(whole.events).toEqual([...original, ...replacement]);
      expect((await readFeedToHead(store, { decisionId: 'd1' })).events).toEqual([...original, ...replacement]);
    });

    it('appending on a replaced log at equal length conflicts and writes nothing', async () => {
      const store = await ctx.newStore();
      await seedExisting(store);
      const { header, events } = bundled('d1', 'replacement');
      expect(events).toHaveLength(4);
      await store.importDecision({ header, events, status: 'approved', conflictMode: 'overwrite' });
      const before = await decisionState(store, 'd1');
      // A writer that decided on the replaced log (generation 0, length 4): same length, another log.
      const error = await expectConflict(store.append(approveRequest('d1', { generation: 0, length: 4 }, 'late')));
      expect(error.expected).toEqual({ generation: 0, length: 4 });
      if (error.actual !== undefined) expect(error.actual).toEqual({ generation: 1, length: 4 });
      expect(await decisionState(store, 'd1')).toEqual(before);
      expect((await store.readEvents('d1', { generation: 0 })).map((e) => e.actor.id)).toEqual(['requester', 'requester', 'a', 'b']);
    });

    it("an 'overwrite' naming the log it replaces succeeds only while that log is current", async () => {
      const store = await ctx.newStore();
      await seedExisting(store);
      const { header, events } = bundled('d1', 'replacement');
      await store.importDecision({
        header,
        events,
        status: 'approved',
        conflictMode: 'overwrite',
        expectedVersion: { generation: 0, length: 4 },
      });
      expect((await store.getDecision('d1'))?.generation).toBe(1);
      const before = await decisionState(store, 'd1');
      let verified = false;
      await expectConflict(
        store.importDecision({
          header,
          events: events.slice(0, 2),
          status: 'pending_approval',
          conflictMode: 'overwrite',
          expectedVersion: { generation: 0, length: 4 },
          verify: () => void (verified = true),
        }),
      );
      expect(verified).toBe(false);
      expect(await decisionState(store, 'd1')).toEqual(before);
    });

    it("'overwrite' of an id that does not exist creates it", async () => {
      const store = await ctx.newStore();
      const { header, events } = bundled('d1', 'fresh');
      await store.importDecision({ header, events, status: 'pending_approval', conflictMode: 'overwrite' });
      expectStoredLog(await store.readEvents('d1'), 'd1', events);
      expect((await store.getDecision('d1'))?.goal).toBe('fresh');
    });

    it("'overwrite' is atomic: when verify throws, the old decision is intact and the verify error propagates", async () => {
      const store = await ctx.newStore();
      await seedExisting(store);
      const before = await decisionState(store, 'd1');
      const failure = new NexusError('REPLAY_INVALID', 'replayed status differs');
      let seen: readonly StoredEvent[] = [];
      const { header, events } = bundled('d1', 'replacement');
      const rejection = await store
        .importDecision({
          header,
          events,
          status: 'approved',
          conflictMode: 'overwrite',
          verify: async (stored) => {
            seen = stored;
            await pause(5);
            throw failure;
          },
        })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(rejection).toBe(failure);
      expect((rejection as NexusError).code).toBe('REPLAY_INVALID');
      expect(seen[0]?.payload.goal).toBe('replacement');
      expect(await decisionState(store, 'd1')).toEqual(before);
      expect((await store.listDecisions({ label: 'old' })).items.map((d) => d.decisionId)).toEqual(['d1']);
      expect((await store.listDecisions({ label: 'imported' })).items).toEqual([]);
    });

    it("a 'reject' import whose verify throws leaves no trace", async () => {
      const store = await ctx.newStore();
      await store.append(createRequest('other'));
      const headCheckpoint = await store.headCheckpoint();
      const { header, events } = bundled('d1', 'doomed');
      const failure = new Error('digest mismatch');
      const rejection = await store
        .importDecision({
          header,
          events,
          status: 'approved',
          conflictMode: 'reject',
          verify: async () => {
            await pause(5);
            throw failure;
          },
        })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(rejection).toBe(failure);
      expect(await decisionState(store, 'd1')).toEqual({ summary: undefined, events: [], feed: [], headCheckpoint });
      expect((await store.readFeed()).events.filter((e) => e.decisionId === 'd1')).toEqual([]);
      expect((await store.listDecisions()).items.map((d) => d.decisionId)).toEqual(['other']);
      // The id is free: a later import of it succeeds.
      await store.importDecision({ header, events, status: 'approved', conflictMode: 'reject' });
      expectStoredLog(await store.readEvents('d1'), 'd1', events);
    });

    it('an append issued while verify runs is neither lost nor mixed into a failed import', async () => {
      const store = await ctx.newStore();
      await store.append(createRequest('other'));
      await seedExisting(store);
      const before = await decisionState(store, 'd1');
      let entered!: () => void;
      const verifying = new Promise<void>((resolve) => (entered = resolve));
      const failure = new Error('verify failed');
      const { header, events } = bundled('d1', 'replacement');
      const importing = store.importDecision({
        header,
        events,
        status: 'approved',
        conflictMode: 'overwrite',
        verify: async () => {
          entered();
          await pause(30);
          throw failure;
        },
      });
      await verifying;
      const appending = store.append(approveRequest('other', 2, 'late'));
      const [imported, appended] = await Promise.allSettled([importing, appending]);
      expect(imported.status === 'rejected' && imported.reason).toBe(failure);
      expect(appended.status).toBe('fulfilled');
      expect((await store.readEvents('other')).map((e) => e.actor.id)).toEqual(['requester', 'requester', 'late']);
      const after = await decisionState(store, 'd1');
      expect({ ...after, headCheckpoint: before.headCheckpoint }).toEqual(before);
    });

    it('an import without events is INVALID_ARGUMENT and writes nothing', async () => {
      const store = await ctx.newStore();
      const { header } = bundled('d1', 'empty');
      await expectNexusError(store.importDecision({ header, events: [], status: 'draft', conflictMode: 'reject' }), 'INVALID_ARGUMENT');
      expect(await store.getDecision('d1')).toBeUndefined();
      expect(await store.headCheckpoint()).toBe(FEED_START);
    });

    it('an import with an unknown conflict mode, or an expectedVersion on a reject, is INVALID_ARGUMENT and writes nothing', async () => {
      const store = await ctx.newStore();
      const { header, events } = bundled('d1', 'bad');
      await expectNexusError(
        store.importDecision({ header, events, status: 'draft', conflictMode: 'replace' as ImportRequest['conflictMode'] }),
        'INVALID_ARGUMENT',
      );
      await expectNexusError(
        store.importDecision({ header, events, status: 'draft', conflictMode: 'reject', expectedVersion: { generation: 0, length: 0 } }),
        'INVALID_ARGUMENT',
      );
      expect(await store.getDecision('d1')).toBeUndefined();
      expect(await store.headCheckpoint()).toBe(FEED_START);
    });
  });
}
