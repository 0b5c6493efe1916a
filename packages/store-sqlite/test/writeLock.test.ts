import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { ConcurrencyConflictError, newEvent, type EventStore } from '@nexus-control/core';
import { approveRequest, createRequest, failRunRequest, startRunRequest } from '@nexus-control/store-conformance';
import { createSqliteEventStore } from '../src/index.js';
import { expectNexusError } from './fixtures/expectNexusError.js';
import { holdWriteLock, type LockHolder } from './fixtures/holdWriteLock.js';
import { tempDir } from './fixtures/tempDir.js';

const dir = tempDir('nexus-sqlite-write-lock-');
let files = 0;
const newPath = () => join(dir, `db-${++files}.db`);

const cleanups: (() => Promise<void>)[] = [];

/**
 * Commits in a WAL file, read from its frames: a frame whose header names the database size is
 * the last frame of a commit. Only frames carrying the file header's salts belong to the log.
 */
function walCommits(walPath: string): number {
  const wal = readFileSync(walPath);
  if (wal.length < 32) return 0;
  const pageSize = wal.readUInt32BE(8);
  let commits = 0;
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    if (wal.readUInt32BE(at + 8) !== wal.readUInt32BE(16) || wal.readUInt32BE(at + 12) !== wal.readUInt32BE(20)) break;
    if (wal.readUInt32BE(at + 4) !== 0) commits++;
  }
  return commits;
}
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function open(path: string, busyTimeoutMs?: number): EventStore {
  const store = createSqliteEventStore({ path, ...(busyTimeoutMs === undefined ? {} : { busyTimeoutMs }) });
  cleanups.push(() => store.close());
  return store;
}

async function lock(path: string): Promise<LockHolder> {
  const holder = await holdWriteLock(path);
  cleanups.push(() => holder.release());
  return holder;
}

/** The longest gap between ticks of a 5 ms interval: how long the event loop stood still. */
function watchEventLoop(): { stop(): number } {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 5);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(longest, performance.now() - last);
    },
  };
}

async function timed<T>(call: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await call();
  return { value, ms: performance.now() - start };
}

describe('another process holds the write lock', () => {
  it('reads answer within 100 ms and the event loop keeps turning while an append waits for the lock', async () => {
    const path = newPath();
    const store = open(path);
    await store.append(createRequest('d-1'));
    const holder = await lock(path);
    const loop = watchEventLoop();
    let settled = false;
    const appended = store.append(approveRequest('d-1', 2, 'alice')).finally(() => {
      settled = true;
    });
    const waitedFrom = performance.now();
    const latencies: number[] = [];
    for (let round = 0; round < 5; round++) {
      const summary = await timed(() => store.getDecision('d-1'));
      expect(summary.value?.eventCount).toBe(2);
      const events = await timed(() => store.readEvents('d-1'));
      expect(events.value.length).toBe(2);
      const feed = await timed(() => store.readFeed());
      expect(feed.value.events.length).toBe(2);
      latencies.push(summary.ms, events.ms, feed.ms);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(settled).toBe(false);
    await holder.release();
    const { events } = await appended;
    const waited = performance.now() - waitedFrom;
    const stood = loop.stop();
    expect(events[0]!.seq).toBe(2);
    expect(waited).toBeGreaterThanOrEqual(250);
    for (const ms of latencies) expect(ms).toBeLessThan(100);
    expect(stood).toBeLessThan(100);
    expect((await store.readEvents('d-1')).length).toBe(3);
  });

  it('an append that cannot get the lock within busyTimeoutMs fails with STORE_UNAVAILABLE, the event loop turning all along', async () => {
    const path = newPath();
    const store = open(path, 400);
    await store.append(createRequest('d-1'));
    await lock(path);
    const loop = watchEventLoop();
    const started = performance.now();
    await expectNexusError(store.append(approveRequest('d-1', 2, 'alice')), 'STORE_UNAVAILABLE');
    expect(performance.now() - started).toBeGreaterThanOrEqual(390);
    expect(loop.stop()).toBeLessThan(100);
    expect((await store.getDecision('d-1'))?.eventCount).toBe(2);
  });
});

describe('appends that wait together commit together', () => {
  it('each is checked on its own: the one that fails its version check writes nothing, the others commit', async () => {
    const path = newPath();
    const store = open(path);
    for (const id of ['a', 'b', 'c', 'd']) await store.append(createRequest(id));
    const holder = await lock(path);
    const approval = (id: string, length: number, actor: string, key?: string) => ({
      ...approveRequest(id, length, actor),
      ...(key === undefined ? {} : { idempotency: { key, fingerprint: `fp-${key}` } }),
    });
    // Queued behind the other process's lock, so they all go into the transaction that follows it.
    const outcomes = Promise.allSettled([
      store.append(approval('a', 2, 'alice', 'key-a')),
      store.append(approval('b', 5, 'bob', 'key-stale')),
      store.append(approval('c', 2, 'carol', 'key-c')),
      store.append(approval('a', 3, 'dave', 'key-a2')),
      store.append(approval('d', 2, 'erin', 'key-a')),
      store.append(createRequest('c')),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await holder.release();
    const [a, stale, c, a2, reused, exists] = await outcomes;
    expect(a.status).toBe('fulfilled');
    expect(c.status).toBe('fulfilled');
    // Inside the group the second append to `a` sees the first: the checks run in order.
    expect(a2.status).toBe('fulfilled');
    expect(stale.status === 'rejected' && stale.reason).toBeInstanceOf(ConcurrencyConflictError);
    expect(reused.status === 'rejected' && reused.reason).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(exists.status === 'rejected' && exists.reason).toMatchObject({ code: 'DECISION_EXISTS' });

    expect((await store.readEvents('a')).map((event) => event.actor.id)).toEqual(['requester', 'requester', 'alice', 'dave']);
    expect((await store.readEvents('c')).map((event) => event.actor.id)).toEqual(['requester', 'requester', 'carol']);
    // The failed appends left no trace: no events, no idempotency record of their own.
    expect((await store.readEvents('b')).length).toBe(2);
    expect((await store.readEvents('d')).length).toBe(2);
    expect(await store.getIdempotency('key-stale')).toBeUndefined();
    expect((await store.getIdempotency('key-a'))?.decisionId).toBe('a');
    const feed = (await store.readFeed()).events;
    expect(feed.length).toBe(8 + 3);
    const positions = feed.map((event) => Number(event.checkpoint));
    expect([...positions].sort((x, y) => x - y)).toEqual(positions);
  });

  it('the lease an append takes or releases commits or rolls back with that append alone', async () => {
    const path = newPath();
    const store = open(path);
    for (const id of ['a', 'b', 'c']) await store.append(createRequest(id));
    await store.append(startRunRequest('c', 2, { owner: 'replica-c', expiresAt: 1_000 }));
    const holder = await lock(path);
    const outcomes = Promise.allSettled([
      store.append(startRunRequest('a', 2, { owner: 'replica-a', expiresAt: 2_000 })),
      // Stale: the group rolls it back to its savepoint, lease and all.
      store.append(startRunRequest('b', 3, { owner: 'replica-b', expiresAt: 3_000 })),
      store.append(failRunRequest('c', 4)),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await holder.release();
    const [a, stale, c] = await outcomes;
    expect(a.status).toBe('fulfilled');
    expect(stale.status === 'rejected' && stale.reason).toBeInstanceOf(ConcurrencyConflictError);
    expect(c.status).toBe('fulfilled');
    expect(await store.listExpiredLeases(Number.MAX_SAFE_INTEGER)).toEqual([
      { decisionId: 'a', generation: 0, requestedSeq: 2, owner: 'replica-a', expiresAt: 2_000 },
    ]);
  });

  it('appends issued in separate callbacks of one event-loop iteration commit in one transaction', async () => {
    const path = newPath();
    const store = open(path);
    await store.append(createRequest('warm-up'));
    const probe = new Database(path);
    cleanups.push(async () => {
      probe.close();
    });
    const commitsOf = async (work: () => Promise<unknown>) => {
      // An emptied log counts only what `work` commits; busy would mean a reader held it.
      expect((probe.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[])[0]!.busy).toBe(0);
      await work();
      return walCommits(`${path}-wal`);
    };
    const ids = (prefix: string) => Array.from({ length: 8 }, (_, i) => `${prefix}-${i}`);
    // Eight callbacks of one event-loop phase, as the requests that arrive together are.
    const together = await commitsOf(() =>
      Promise.all(ids('together').map((id) => new Promise((resolve) => setImmediate(() => resolve(store.append(createRequest(id))))))),
    );
    const oneByOne = await commitsOf(async () => {
      for (const id of ids('alone')) await store.append(createRequest(id));
    });
    expect(together).toBe(1);
    expect(oneByOne).toBe(8);
    expect((await store.listDecisions({ limit: 50 })).items.length).toBe(17);
  });

  it('a reopened store sees exactly what the group acknowledged', async () => {
    const path = newPath();
    const store = open(path);
    const ids = Array.from({ length: 12 }, (_, i) => `g-${i}`);
    const holder = await lock(path);
    const created = Promise.all(ids.map((id) => store.append(createRequest(id))));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await holder.release();
    await created;
    await store.close();
    const reopened = open(path);
    const listed = (await reopened.listDecisions({ limit: 50 })).items.map((item) => item.decisionId);
    expect([...listed].sort()).toEqual([...ids].sort());
    const event = newEvent('APPROVAL_GRANTED', { expires_at: null }, { type: 'human', id: 'after' }, '2025-01-01T00:02:00+00:00');
    await reopened.append({ decisionId: 'g-0', expectedVersion: { generation: 0, length: 2 }, events: [event], status: 'approved' });
  });
});
