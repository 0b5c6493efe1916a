import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  exportBundle,
  fixedClock,
  newEvent,
  replayDecision,
  type EventStore,
  type JsonObject,
  type StoredEvent,
} from '@nexus-control/core';
import { createSqliteEventStore, LATEST_SCHEMA_VERSION } from '../src/index.js';
import { tempDir } from './fixtures/tempDir.js';

interface Expected {
  readonly feed: [decisionId: string, seq: number, digest: string][];
  readonly idempotencyKeys: string[];
  readonly templates: string[];
  readonly routerResults: [decisionId: string, runId: string][];
  readonly decisions: Record<
    string,
    { eventCount: number; eventDigests: string[]; stateDigest: string; status: string; bundleDigest: string }
  >;
}

const fixtureDir = new URL('./fixtures/release-0.1.0/', import.meta.url);
const expected = JSON.parse(readFileSync(new URL('expected.json', fixtureDir), 'utf8')) as Expected;
const dir = tempDir('nexus-sqlite-upgrade-');
let copies = 0;

/** A copy of the 0.1.0 file, so the committed one is never changed. */
function releaseCopy(): string {
  const path = join(dir, `release-${++copies}.db`);
  copyFileSync(new URL('release-0.1.0.db', fixtureDir), path);
  return path;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

async function readWholeFeed(store: EventStore): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  let after = '';
  for (;;) {
    const page = await store.readFeed({ after, limit: 2 });
    events.push(...page.events);
    after = page.checkpoint;
    if (page.caughtUp) return events;
  }
}

describe('a database written by release 0.1.0', () => {
  it('is at schema version 1 before the upgrade (the fixture is what it claims to be)', () => {
    const db = new Database(new URL('release-0.1.0.db', fixtureDir).pathname, { readonly: true });
    try {
      expect(db.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get()).toBe(1);
    } finally {
      db.close();
    }
  });

  it('opens under the new schema, recording the migrations it applied', async () => {
    const path = releaseCopy();
    await createSqliteEventStore({ path }).close();
    const db = new Database(path, { readonly: true });
    try {
      const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
      expect(versions).toEqual(Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1));
    } finally {
      db.close();
    }
  });

  it('reads its feed from the start in the order it was written, every event of generation 0', async () => {
    const store = createSqliteEventStore({ path: releaseCopy() });
    try {
      const feed = await readWholeFeed(store);
      expect(feed.map((event) => [event.decisionId, event.seq, event.digest])).toEqual(expected.feed);
      expect(feed.every((event) => event.generation === 0)).toBe(true);
      expect(await store.headCheckpoint()).toBe(feed.at(-1)!.checkpoint);
      // Resuming from any event's checkpoint reads exactly the rest.
      const middle = feed[5]!;
      const rest = await store.readFeed({ after: middle.checkpoint });
      expect(rest.events.map((event) => event.digest)).toEqual(feed.slice(6).map((event) => event.digest));
    } finally {
      await store.close();
    }
  });

  it('replays every decision to the same state and exports the same bundle digest as release 0.1.0 did', async () => {
    const store = createSqliteEventStore({ path: releaseCopy() });
    try {
      const clock = fixedClock('2026-02-01T00:00:00.000000+00:00');
      for (const [decisionId, was] of Object.entries(expected.decisions)) {
        const events = await store.readEvents(decisionId);
        expect(events.map((event) => event.digest)).toEqual(was.eventDigests);
        expect(sha256(canonicalJson(replayDecision(events) as unknown as JsonObject))).toBe(was.stateDigest);
        expect(await store.getDecision(decisionId)).toMatchObject({
          status: was.status,
          eventCount: was.eventCount,
          generation: 0,
        });
        expect((await exportBundle(store, decisionId, { clock })).integrity.canonical_digest).toBe(was.bundleDigest);
      }
    } finally {
      await store.close();
    }
  });

  it('keeps its idempotency keys, templates and router results', async () => {
    const store = createSqliteEventStore({ path: releaseCopy() });
    try {
      for (const key of expected.idempotencyKeys) {
        expect(await store.getIdempotency(key)).toMatchObject({ key, generation: 0 });
      }
      expect((await store.listTemplates()).map((template) => template.name)).toEqual(expected.templates);
      for (const [decisionId, runId] of expected.routerResults) {
        expect((await store.getRouterResult(decisionId, runId))?.runId).toBe(runId);
      }
    } finally {
      await store.close();
    }
  });

  it('takes appends afterwards, ordered after everything the release wrote, and survives a reopen', async () => {
    const path = releaseCopy();
    const [decisionId, was] = Object.entries(expected.decisions).find(([, d]) => d.status === 'pending_approval')!;
    const store = createSqliteEventStore({ path });
    const head = await store.headCheckpoint();
    const approval = newEvent('APPROVAL_GRANTED', { expires_at: null }, { type: 'human', id: 'dave' }, '2026-01-06T00:00:00+00:00');
    const { events } = await store.append({
      decisionId,
      expectedVersion: { generation: 0, length: was.eventCount },
      events: [approval],
      status: 'approved',
    });
    expect(events[0]).toMatchObject({ seq: was.eventCount, generation: 0 });
    const after = await store.readFeed({ after: head });
    expect(after.events.map((event) => event.digest)).toEqual([approval.digest]);
    await store.close();

    const reopened = createSqliteEventStore({ path });
    try {
      expect(await reopened.getDecision(decisionId)).toMatchObject({ status: 'approved', eventCount: was.eventCount + 1 });
      expect((await readWholeFeed(reopened)).length).toBe(expected.feed.length + 1);
    } finally {
      await reopened.close();
    }
  });
});
