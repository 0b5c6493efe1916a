import type { MongoClient } from 'mongodb';
import { isNexusError, type BeforeCommitHook, type EventStore, type StoredEvent } from '@nexus-control/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openMongoStore } from '../src/index.js';
import { MONGODB_URL, freshDatabaseName, mongoAvailable, testClient } from './support/mongoTestServer.js';
import { approval, creation, gate } from './support/requests.js';

/*
 * Races the emulator never produces by itself (it runs one command at a time): one handle
 * holds its append open inside the transaction, after its writes, while another handle
 * commits. On a real replica set the second writer hits a write conflict and retries until
 * the first commits; on the emulator the second commits first and the held one fails at
 * commit and is re-run by the driver. Either way exactly the contract's outcome must follow.
 */
describe.skipIf(!mongoAvailable())('MongoDB store: transactions racing on the server', () => {
  let clients: MongoClient[] = [];
  const stores: EventStore[] = [];
  let database = '';

  beforeAll(async () => {
    clients = [await testClient(), await testClient()];
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await clients[0]!.db(database).dropDatabase();
  });
  afterAll(async () => {
    for (const client of clients) await client.close();
  });

  async function handles(hook: BeforeCommitHook): Promise<[held: EventStore, other: EventStore]> {
    database = freshDatabaseName();
    const held = await openMongoStore(MONGODB_URL, { client: clients[0]!, database, beforeCommit: hook });
    const other = await openMongoStore(MONGODB_URL, { client: clients[1]!, database });
    stores.push(held, other);
    return [held, other];
  }

  /** A hook that holds the first append of `decisionId` until released, and counts its runs. */
  function holdFirst(decisionId: string) {
    const reached = gate();
    const release = gate();
    let runs = 0;
    const hook: BeforeCommitHook = async (id) => {
      if (id !== decisionId) return;
      runs++;
      reached.open();
      await release.opened;
    };
    return { hook, reached: reached.opened, release: release.open, runs: () => runs };
  }

  async function settle<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
    try {
      return { ok: true, value: await promise };
    } catch (error) {
      return { ok: false, error };
    }
  }

  it('two handles appending to one decision at one version: one wins, the other gets CONCURRENCY_CONFLICT', async () => {
    const hold = holdFirst('race');
    const [held, other] = await handles(hold.hook);
    await other.append(creation('race'));
    const first = settle(held.append(approval('race', { generation: 0, length: 1 }, 'held')));
    await hold.reached;
    const second = settle(other.append(approval('race', { generation: 0, length: 1 }, 'other')));
    await new Promise((resolve) => setTimeout(resolve, 300));
    hold.release();
    const outcomes = [await first, await second];
    const winners = outcomes.filter((outcome) => outcome.ok);
    const losers = outcomes.flatMap((outcome) => (outcome.ok ? [] : [outcome.error]));
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(1);
    expect(isNexusError(losers[0]) && losers[0].code).toBe('CONCURRENCY_CONFLICT');
    const log = await other.readEvents('race');
    expect(log.map((event) => event.seq)).toEqual([0, 1]);
    expect((await other.getDecision('race'))?.eventCount).toBe(2);
  });

  it('appends to two decisions racing: both commit, and a reader that kept its checkpoint sees each once', async () => {
    const hold = holdFirst('a');
    const [held, other] = await handles(hold.hook);
    await other.append(creation('a'));
    await other.append(creation('b'));
    const start = await other.headCheckpoint();
    const heldAppend = held.append(approval('a', { generation: 0, length: 1 }));
    await hold.reached;
    const otherAppend = other.append(approval('b', { generation: 0, length: 1 }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Whatever is visible now is a prefix of the final feed.
    const during = await other.readFeed({ after: start });
    hold.release();
    await Promise.all([heldAppend, otherAppend]);
    const after = await other.readFeed({ after: during.checkpoint });
    const seen: StoredEvent[] = [...during.events, ...after.events];
    expect(seen.map((event) => event.decisionId).sort()).toEqual(['a', 'b']);
    const whole = await other.readFeed({ after: start });
    expect(whole.events.map((event) => event.checkpoint)).toEqual(seen.map((event) => event.checkpoint));
    expect(whole.caughtUp).toBe(true);
  });

  it('the same idempotency key from two handles: one append wins, the other gets IDEMPOTENCY_KEY_REUSED', async () => {
    const hold = holdFirst('k1');
    const [held, other] = await handles(hold.hook);
    const first = settle(held.append(creation('k1', 'shared-key')));
    await hold.reached;
    const second = settle(other.append(creation('k2', 'shared-key')));
    await new Promise((resolve) => setTimeout(resolve, 300));
    hold.release();
    const outcomes = [await first, await second];
    expect(outcomes.filter((outcome) => outcome.ok)).toHaveLength(1);
    const loser = outcomes.find((outcome) => !outcome.ok) as { error: unknown };
    expect(isNexusError(loser.error) && loser.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const record = await other.getIdempotency('shared-key');
    const winner = outcomes[0]!.ok ? 'k1' : 'k2';
    expect(record).toMatchObject({ decisionId: winner, generation: 0, seq: 0 });
    expect(await other.getDecision(winner === 'k1' ? 'k2' : 'k1')).toBeUndefined();
  });

  it('an overwrite import racing an append: the append never lands on the replaced log', async () => {
    const hold = holdFirst('swap');
    const [held, other] = await handles(hold.hook);
    await other.append(creation('swap'));
    const append = settle(held.append(approval('swap', { generation: 0, length: 1 })));
    await hold.reached;
    const replacement = creation('swap');
    const overwrite = settle(
      other.importDecision({ header: replacement.header!, events: replacement.events, status: 'draft', conflictMode: 'overwrite' }),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    hold.release();
    const [appended, imported] = [await append, await overwrite];
    expect(imported.ok).toBe(true);
    const current = await other.getDecision('swap');
    expect(current?.generation).toBe(1);
    if (appended.ok) {
      // The append committed first: it is part of the superseded log, not the new one.
      expect((await other.readEvents('swap', { generation: 0 })).map((event) => event.seq)).toEqual([0, 1]);
      expect(current?.eventCount).toBe(1);
    } else {
      expect(isNexusError(appended.error) && appended.error.code).toBe('CONCURRENCY_CONFLICT');
      expect((await other.readEvents('swap', { generation: 0 })).map((event) => event.seq)).toEqual([0]);
    }
    expect((await other.readEvents('swap')).map((event) => event.seq)).toEqual([0]);
  });

  it('an import whose transaction is re-run runs verify again on the same events, and commits once', async () => {
    const [importer, other] = await handles(async () => undefined);
    await other.append(creation('bystander'));
    const reached = gate();
    const release = gate();
    const seen: string[] = [];
    const source = creation('imported');
    const imported = importer.importDecision({
      header: source.header!,
      events: source.events,
      status: 'draft',
      conflictMode: 'reject',
      verify: async (stored) => {
        seen.push(stored.map((event) => `${event.generation}:${event.seq}:${event.digest}`).join(','));
        reached.open();
        await release.opened;
      },
    });
    await reached.opened;
    // Another writer commits while the import is open (or, on a real server, waits for it).
    const bystander = other.append(approval('bystander', { generation: 0, length: 1 }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    release.open();
    await Promise.all([imported, bystander]);
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(new Set(seen).size).toBe(1);
    expect((await other.readEvents('imported')).map((event) => event.digest)).toEqual(source.events.map((event) => event.digest));
    const feed = await other.readFeed();
    expect(feed.events.filter((event) => event.decisionId === 'imported')).toHaveLength(source.events.length);
    expect(feed.events.map((event) => event.decisionId).sort()).toEqual(['bystander', 'bystander', 'imported']);
  });
});
