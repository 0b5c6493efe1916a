import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConcurrencyConflictError, eventDigestFromPayloadJson, newEvent, replayDecision } from '@nexus-control/core';
import { createRequest } from '@nexus-control/store-conformance';
import { createSqliteEventStore } from '../src/index.js';
import { spawnWorker } from './fixtures/spawnWorker.js';
import { tempDir } from './fixtures/tempDir.js';

const dir = tempDir('nexus-sqlite-processes-');
let files = 0;
const newPath = () => join(dir, `db-${++files}.db`);

describe('two processes on one database file', () => {
  it('appending to the same decision concurrently: every append lands once, seqs stay gapless', async () => {
    const path = newPath();
    const perProcess = 150;
    const setup = createSqliteEventStore({ path });
    await setup.append(createRequest('shared', { status: 'pending_approval' }));
    await setup.close();

    const worker = spawnWorker(['race', path, 'shared', String(perProcess), 'child']);
    await worker.waitForLine((line) => line === 'ready');
    const store = createSqliteEventStore({ path, busyTimeoutMs: 30_000 });
    try {
      let conflicts = 0;
      for (let i = 0; i < perProcess; i++) {
        for (;;) {
          const summary = await store.getDecision('shared');
          const expectedVersion = { generation: summary?.generation ?? 0, length: summary?.eventCount ?? 0 };
          const event = newEvent(
            'APPROVAL_GRANTED',
            { expires_at: null },
            { type: 'human', id: `parent-${i}` },
            '2025-01-01T00:01:00+00:00',
          );
          try {
            await store.append({ decisionId: 'shared', expectedVersion, events: [event], status: 'approved' });
            break;
          } catch (error) {
            if (!(error instanceof ConcurrencyConflictError)) throw error;
            conflicts++;
          }
        }
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 2));
      }
      const done = await worker.waitForLine((line) => line.startsWith('done '));
      const exit = await worker.exited;
      expect(exit.code, exit.stderr).toBe(0);
      const childConflicts = Number(done.slice('done '.length));

      const events = await store.readEvents('shared');
      expect(events.length).toBe(2 + 2 * perProcess);
      expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index));
      const actors = events.slice(2).map((event) => event.actor.id);
      expect(new Set(actors).size).toBe(2 * perProcess);
      expect(actors.filter((id) => id.startsWith('parent-')).length).toBe(perProcess);
      expect(actors.filter((id) => id.startsWith('child-')).length).toBe(perProcess);
      const positions = events.map((event) => Number(event.checkpoint));
      expect([...positions].sort((a, b) => a - b)).toEqual(positions);
      expect((await store.getDecision('shared'))?.eventCount).toBe(events.length);
      // Not asserted (timing decides), but shown so a run that never raced is visible.
      console.info(`cross-process race: ${conflicts} conflicts in this process, ${childConflicts} in the other`);
    } finally {
      await store.close();
      worker.child.kill('SIGKILL');
    }
  }, 120_000);
});

describe('an acknowledged write survives kill -9 of the writing process', () => {
  it.each(['full', 'normal'] as const)(
    'synchronous=%s',
    async (synchronous) => {
      const path = newPath();
      const setup = createSqliteEventStore({ path, synchronous });
      await setup.append(createRequest('d-1'));
      await setup.close();

      const worker = spawnWorker(['ack', path, 'd-1', synchronous]);
      const acked = (line: string) => (line.startsWith('ack ') ? Number(line.slice(4)) : undefined);
      await worker.waitForLine((line) => (acked(line) ?? 0) >= 150);
      worker.child.kill('SIGKILL');
      const exit = await worker.exited;
      expect(exit.signal).toBe('SIGKILL');
      const acknowledged = worker.lines.map(acked).filter((seq): seq is number => seq !== undefined);
      expect(acknowledged.length).toBeGreaterThanOrEqual(149);

      const store = createSqliteEventStore({ path, synchronous });
      try {
        const events = await store.readEvents('d-1');
        const seqs = new Set(events.map((event) => event.seq));
        for (const seq of acknowledged) expect(seqs.has(seq), `acknowledged seq ${seq} is missing`).toBe(true);
        expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index));
        expect(events.length).toBeGreaterThanOrEqual(Math.max(...acknowledged) + 1);
        for (const event of events) expect(eventDigestFromPayloadJson(event.type, event.payloadJson)).toBe(event.digest);
        expect((await store.getDecision('d-1'))?.eventCount).toBe(events.length);
        const view = replayDecision(events);
        expect(view.status).toBe('approved');
        // The log goes on where it stopped.
        const next = newEvent('APPROVAL_GRANTED', { expires_at: null }, { type: 'human', id: 'after' }, '2025-01-01T00:02:00+00:00');
        const { events: appended } = await store.append({
          decisionId: 'd-1',
          expectedVersion: { generation: 0, length: events.length },
          events: [next],
          status: 'approved',
        });
        expect(appended[0]!.seq).toBe(events.length);
      } finally {
        await store.close();
      }
    },
    120_000,
  );
});
