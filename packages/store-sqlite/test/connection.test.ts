import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { NEW_DECISION, newEvent, type EventStore, type StoredEvent } from '@nexus-control/core';
import { approveRequest, createRequest, createdEvents, megabyteString } from '@nexus-control/store-conformance';
import { expectNexusError } from './fixtures/expectNexusError.js';
import { createSqliteEventStore } from '../src/index.js';
import { tempDir } from './fixtures/tempDir.js';

const dir = tempDir('nexus-sqlite-connection-');
let files = 0;
const newPath = () => join(dir, `db-${++files}.db`);

async function withStore<T>(path: string, use: (store: EventStore) => Promise<T>, busyTimeoutMs?: number): Promise<T> {
  const store = createSqliteEventStore({ path, ...(busyTimeoutMs === undefined ? {} : { busyTimeoutMs }) });
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

describe('locking between connections', () => {
  it('a write that cannot get the lock within busyTimeoutMs fails with STORE_UNAVAILABLE and writes nothing', async () => {
    const path = newPath();
    await withStore(
      path,
      async (store) => {
        await store.append(createRequest('d-1'));
        const other = new Database(path);
        other.exec('BEGIN IMMEDIATE');
        try {
          const started = Date.now();
          await expectNexusError(store.append(approveRequest('d-1', 2, 'alice')), 'STORE_UNAVAILABLE');
          expect(Date.now() - started).toBeGreaterThanOrEqual(90);
        } finally {
          other.exec('ROLLBACK');
          other.close();
        }
        expect((await store.getDecision('d-1'))?.eventCount).toBe(2);
        await store.append(approveRequest('d-1', 2, 'alice'));
        expect((await store.readEvents('d-1')).length).toBe(3);
      },
      100,
    );
  });

  it('readers are not blocked by a writer holding the lock on another connection', async () => {
    const path = newPath();
    await withStore(
      path,
      async (store) => {
        await store.append(createRequest('d-1'));
        const other = new Database(path);
        other.exec('BEGIN IMMEDIATE');
        other.prepare("UPDATE events SET status = 'failed'").run();
        try {
          expect((await store.getDecision('d-1'))?.status).toBe('pending_approval');
          expect((await store.readEvents('d-1')).length).toBe(2);
        } finally {
          other.exec('ROLLBACK');
          other.close();
        }
      },
      100,
    );
  });
});

describe('an import waiting on its verify', () => {
  function importRequest(decisionId: string, verify: (stored: readonly StoredEvent[]) => Promise<void>) {
    const { header, events } = createdEvents(decisionId);
    return { header, events, status: 'pending_approval' as const, conflictMode: 'overwrite' as const, verify };
  }

  /** Starts an import whose verify waits for `release`; resolves once verify was entered. */
  async function holdImport(store: EventStore) {
    let release!: () => void;
    const verifying = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered!: () => void;
    const inVerify = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const imported = store.importDecision(
      importRequest('d-imported', async () => {
        entered();
        await verifying;
      }),
    );
    await inVerify;
    return { imported, release };
  }

  it('on a file, reads answer at once from the committed state; writes wait for it and then follow it', async () => {
    await withStore(newPath(), async (store) => {
      await store.append(createRequest('other'));
      const { imported, release } = await holdImport(store);
      expect(await store.getDecision('d-imported')).toBeUndefined();
      expect((await store.readFeed()).events.map((event) => event.decisionId)).toEqual(['other', 'other']);
      let appendedYet = false;
      const appended = store.append(approveRequest('other', 2, 'alice')).then((result) => {
        appendedYet = true;
        return result;
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(appendedYet).toBe(false);
      release();
      const { events } = await imported;
      const appendedEvents = (await appended).events;
      expect((await store.getDecision('d-imported'))?.eventCount).toBe(2);
      expect(Number(appendedEvents[0]!.checkpoint)).toBeGreaterThan(Number(events[events.length - 1]!.checkpoint));
    });
  });

  it('in memory (one connection), every other call waits for it and then sees it', async () => {
    await withStore(':memory:', async (store) => {
      await store.append(createRequest('other'));
      const { imported, release } = await holdImport(store);
      const order: string[] = [];
      const read = store.getDecision('d-imported').then((summary) => {
        order.push('read');
        return summary;
      });
      const appended = store.append(approveRequest('other', 2, 'alice')).then((result) => {
        order.push('append');
        return result;
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(order).toEqual([]);
      release();
      const { events } = await imported;
      expect((await read)?.eventCount).toBe(2);
      const appendedEvents = (await appended).events;
      expect([...order].sort()).toEqual(['append', 'read']);
      expect(Number(appendedEvents[0]!.checkpoint)).toBeGreaterThan(Number(events[events.length - 1]!.checkpoint));
    });
  });

  it('closing the store meanwhile rolls it back: it and the writes queued behind it fail with STORE_UNAVAILABLE', async () => {
    const path = newPath();
    const store = createSqliteEventStore({ path });
    await store.append(createRequest('other'));
    const { imported, release } = await holdImport(store);
    const queued = store.append(approveRequest('other', 2, 'alice'));
    const failures = [expectNexusError(imported, 'STORE_UNAVAILABLE'), expectNexusError(queued, 'STORE_UNAVAILABLE')];
    await store.close();
    await Promise.all(failures);
    await expectNexusError(store.getDecision('other'), 'STORE_UNAVAILABLE');
    // The verdict that comes after the close reaches nothing.
    release();
    await withStore(path, async (reopened) => {
      expect(await reopened.getDecision('d-imported')).toBeUndefined();
      expect((await reopened.readEvents('other')).length).toBe(2);
      const { events } = await reopened.importDecision(importRequest('d-imported', async () => undefined));
      expect(events.map((event) => event.seq)).toEqual([0, 1]);
    });
  });

  it('that fails leaves nothing behind, and the calls queued behind it run normally', async () => {
    await withStore(newPath(), async (store) => {
      await store.append(createRequest('other'));
      const head = await store.headCheckpoint();
      const imported = store.importDecision(
        importRequest('d-imported', async () => {
          await new Promise((resolve) => setTimeout(resolve, 10));
          throw new Error('replay does not match');
        }),
      );
      const appended = store.append(approveRequest('other', 2, 'alice'));
      await expect(imported).rejects.toThrow('replay does not match');
      expect((await appended).events[0]!.seq).toBe(2);
      expect(await store.getDecision('d-imported')).toBeUndefined();
      expect(await store.readEvents('d-imported')).toEqual([]);
      expect((await store.readFeed()).events.map((event) => event.decisionId)).toEqual(['other', 'other', 'other']);
      expect(Number(await store.headCheckpoint())).toBeGreaterThan(Number(head));
    });
  });
});

describe('what SQLite cannot hold', () => {
  it('a string with a lone surrogate is refused with INVALID_ARGUMENT instead of being altered', async () => {
    await withStore(newPath(), async (store) => {
      const { header, events } = createdEvents('d-1');
      const lone = 'd-\ud800';
      await expectNexusError(
        store.append({ decisionId: lone, expectedVersion: NEW_DECISION, header: { ...header, decisionId: lone }, events, status: 'draft' }),
        'INVALID_ARGUMENT',
      );
      await expectNexusError(
        store.append({
          decisionId: 'd-1',
          expectedVersion: NEW_DECISION,
          header: { ...header, goal: 'goal \udc00' },
          events,
          status: 'draft',
        }),
        'INVALID_ARGUMENT',
      );
      await store.append(createRequest('d-1'));
      const event = newEvent('APPROVAL_GRANTED', { expires_at: null }, { type: 'human', id: 'alice\ud83d' }, '2025-01-01T00:00:00+00:00');
      await expectNexusError(
        store.append({ decisionId: 'd-1', expectedVersion: { generation: 0, length: 2 }, events: [event], status: 'approved' }),
        'INVALID_ARGUMENT',
      );
      expect((await store.readEvents('d-1')).length).toBe(2);
      expect((await store.listDecisions()).items.map((item) => item.decisionId)).toEqual(['d-1']);
    });
  });

  it('a well-formed astral character pair is stored and returned exactly', async () => {
    await withStore(newPath(), async (store) => {
      await store.append(createRequest('d-😀', { goal: '𝄞\u0000😀' }));
      expect((await store.getDecision('d-😀'))?.goal).toBe('𝄞\u0000😀');
    });
  });
});

describe('feed checkpoints', () => {
  it('an overwriting import keeps the replaced log and orders its new log after everything, even after reopening', async () => {
    const path = newPath();
    const seen = new Set<number>();
    await withStore(path, async (store) => {
      await store.append(createRequest('d-1'));
      await store.append(createRequest('d-2'));
      for (const event of (await store.readFeed()).events) seen.add(Number(event.checkpoint));
      const { header, events } = createdEvents('d-2', { goal: 'replaced' });
      const imported = await store.importDecision({ header, events: events.slice(0, 1), status: 'draft', conflictMode: 'overwrite' });
      for (const event of imported.events) {
        expect(event.generation).toBe(1);
        expect(seen.has(Number(event.checkpoint))).toBe(false);
        expect(Number(event.checkpoint)).toBeGreaterThan(Math.max(...seen));
        seen.add(Number(event.checkpoint));
      }
      expect((await store.readEvents('d-2', { generation: 0 })).map((event) => event.seq)).toEqual([0, 1]);
    });
    await withStore(path, async (store) => {
      const { events } = await store.append(approveRequest('d-2', { generation: 1, length: 1 }, 'alice'));
      expect(Number(events[0]!.checkpoint)).toBeGreaterThan(Math.max(...seen));
      expect(await store.headCheckpoint()).toBe(events[0]!.checkpoint);
      const feed = (await store.readFeed({ decisionId: 'd-2' })).events;
      expect(feed.map((event) => [event.generation, event.seq])).toEqual([
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
      ]);
    });
  });

  it('a token this store never issued is INVALID_ARGUMENT', async () => {
    await withStore(newPath(), async (store) => {
      await store.append(createRequest('d-1'));
      for (const after of ['0', '01', '-1', '1.5', 'abc', ' 1', '99999999999999999999']) {
        await expectNexusError(store.readFeed({ after }), 'INVALID_ARGUMENT');
      }
    });
  });
});

describe('durability settings', () => {
  it.each(['full', 'normal'] as const)('synchronous=%s keeps every acknowledged write across a reopen', async (synchronous) => {
    const path = newPath();
    const store = createSqliteEventStore({ path, synchronous });
    await store.append(createRequest('d-1'));
    await store.append(approveRequest('d-1', 2, 'alice'));
    await store.close();
    await withStore(path, async (reopened) => {
      expect((await reopened.readEvents('d-1')).map((event) => event.seq)).toEqual([0, 1, 2]);
    });
  });
});

describe('the beforeCommit test seam', () => {
  it('an append awaits the hook inside its transaction: other handles see nothing until it commits', async () => {
    const path = newPath();
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const held: string[] = [];
    const hooked = createSqliteEventStore({
      path,
      beforeCommit: async (decisionId) => {
        held.push(decisionId);
        await released;
      },
    });
    try {
      await withStore(path, async (reader) => {
        const appended = hooked.append(createRequest('d-1'));
        await expect.poll(() => held).toEqual(['d-1']);
        expect(await reader.getDecision('d-1')).toBeUndefined();
        expect((await reader.readFeed()).events).toEqual([]);
        release();
        const { events } = await appended;
        expect((await reader.readFeed()).events.map((event) => event.checkpoint)).toEqual(events.map((event) => event.checkpoint));
      });
    } finally {
      await hooked.close();
    }
  });

  it('a hook that throws rolls the append back', async () => {
    const store = createSqliteEventStore({
      path: newPath(),
      beforeCommit: async () => {
        throw new Error('hook refused');
      },
    });
    try {
      await expect(store.append(createRequest('d-1'))).rejects.toThrow('hook refused');
      expect(await store.getDecision('d-1')).toBeUndefined();
      expect(await store.headCheckpoint()).toBe('');
    } finally {
      await store.close();
    }
  });
});

describe('a log longer than one part of a read', () => {
  async function longLog(store: EventStore, count: number): Promise<void> {
    await store.append(createRequest('long'));
    const events = Array.from({ length: count - 2 }, (_, i) =>
      newEvent(
        'APPROVAL_GRANTED',
        { expires_at: null, comment: `approval ${i}` },
        { type: 'human', id: `approver-${i}` },
        '2025-01-01T00:01:00+00:00',
      ),
    );
    await store.append({ decisionId: 'long', expectedVersion: { generation: 0, length: 2 }, events, status: 'approved' });
  }

  it('reads back whole and in order', async () => {
    await withStore(newPath(), async (store) => {
      await longLog(store, 2_500);
      const events = await store.readEvents('long');
      expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index));
      expect(events.length).toBe(2_500);
      expect(events[2_499]!.payload).toEqual({ expires_at: null, comment: 'approval 2497' });
      expect((await store.readEvents('long', { fromSeq: 1_200, toSeq: 1_201 })).map((event) => event.seq)).toEqual([1_200, 1_201]);
    });
  });

  it('of payloads too large for one part of text reads back whole, and its feed pages through it without skipping', async () => {
    await withStore(newPath(), async (store) => {
      await store.append(createRequest('large'));
      const comment = megabyteString();
      // Each row's JSON is several million characters: a part or a page holds only a few.
      const events = Array.from({ length: 12 }, (_, i) =>
        newEvent(
          'APPROVAL_GRANTED',
          { expires_at: null, comment: `${i}:${comment}` },
          { type: 'human', id: `approver-${i}` },
          '2025-01-01T00:01:00+00:00',
        ),
      );
      await store.append({ decisionId: 'large', expectedVersion: { generation: 0, length: 2 }, events, status: 'approved' });
      const read = await store.readEvents('large');
      expect(read.map((event) => event.seq)).toEqual(Array.from({ length: 14 }, (_, i) => i));
      expect(read.slice(2).map((event) => event.payload['comment'])).toEqual(events.map((_, i) => `${i}:${comment}`));
      const pages: number[] = [];
      const seqs: number[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await store.readFeed({ ...(after === undefined ? {} : { after }), limit: 1_000 });
        pages.push(page.events.length);
        seqs.push(...page.events.map((event) => event.seq));
        after = page.checkpoint;
        if (page.caughtUp) break;
      }
      expect(seqs).toEqual(Array.from({ length: 14 }, (_, i) => i));
      expect(pages.length).toBeGreaterThan(1);
    });
  });

  it.each([
    ['text that is not JSON', "'{not json'"],
    ['bytes where the store writes text', "X'7b00ff7d'"],
  ])('with a payload damaged into %s, a read of the log or the feed across it fails with STORE_CORRUPT', async (_damage, value) => {
    const path = newPath();
    await withStore(path, async (store) => {
      await longLog(store, 2_500);
      const db = new Database(path);
      db.prepare(`UPDATE events SET payload = ${value} WHERE decision_id = 'long' AND seq = 10`).run();
      db.close();
      await expectNexusError(store.readEvents('long'), 'STORE_CORRUPT');
      await expectNexusError(store.readFeed({ limit: 100 }), 'STORE_CORRUPT');
      expect((await store.readEvents('long', { fromSeq: 11 })).length).toBe(2_489);
    });
  });
});
