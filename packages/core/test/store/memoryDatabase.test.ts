import { describe, expect, it } from 'vitest';
import { newEvent } from '../../src/events/newEvent.js';
import { createMemoryDatabase } from '../../src/store/createMemoryDatabase.js';
import { createMemoryEventStore } from '../../src/store/createMemoryEventStore.js';
import { NEW_DECISION } from '../../src/store/expectedVersion.js';
import type { AppendRequest } from '../../src/store/EventStore.js';

const ts = '2025-01-01T00:00:00+00:00';
function create(decisionId: string): AppendRequest {
  return {
    decisionId,
    expectedVersion: NEW_DECISION,
    header: { decisionId, createdAt: ts, goal: 'g', requestedMode: 'dry_run', labels: [] },
    events: [
      newEvent('DECISION_CREATED', { goal: 'g', plan: null, requested_mode: 'dry_run', labels: [] }, { type: 'human', id: 'r' }, ts),
    ],
    status: 'draft',
  };
}

describe('memory store handles on one database', () => {
  it('see each other’s writes, and an append through one notifies the listeners of all', async () => {
    const database = createMemoryDatabase();
    const first = createMemoryEventStore({ database });
    const second = createMemoryEventStore({ database });
    let notified = 0;
    second.onAppend?.(() => notified++);
    await first.append(create('d1'));
    expect(await second.getDecision('d1')).toMatchObject({ eventCount: 1, generation: 0 });
    expect(await second.headCheckpoint()).toBe(await first.headCheckpoint());
    expect(notified).toBe(1);
  });

  it('closing one handle leaves the others and the data usable', async () => {
    const database = createMemoryDatabase();
    const first = createMemoryEventStore({ database });
    const second = createMemoryEventStore({ database });
    await first.append(create('d1'));
    await first.close();
    await expect(first.readEvents('d1')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await second.append(create('d2'));
    expect((await second.readFeed()).events.map((e) => e.decisionId)).toEqual(['d1', 'd2']);
  });

  it('stores without a shared database are independent', async () => {
    const a = createMemoryEventStore();
    const b = createMemoryEventStore();
    await a.append(create('d1'));
    expect(await b.getDecision('d1')).toBeUndefined();
    await expect(b.readFeed({ after: await a.headCheckpoint() })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('close waits for an append held before its commit', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const database = createMemoryDatabase();
    const store = createMemoryEventStore({ database, beforeCommit: () => held });
    const appending = store.append(create('d1'));
    let closed = false;
    const closing = store.close().then(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(closed).toBe(false);
    release();
    await Promise.all([appending, closing]);
    expect(await createMemoryEventStore({ database }).getDecision('d1')).toMatchObject({ eventCount: 1 });
  });
});
