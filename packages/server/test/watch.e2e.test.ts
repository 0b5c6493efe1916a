import { EventType, NexusClientError, type Event, type NexusWatch, type NexusWatchItem } from '@nexus-control/client';
import { createNexusControl, type EventStore } from '@nexus-control/core';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/testServer.js';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

interface Collected {
  readonly items: NexusWatchItem[];
  readonly events: () => Event[];
  /** Resolves with the caught_up checkpoint once the stream is live. */
  readonly caughtUp: Promise<string>;
  readonly done: Promise<unknown>;
}

/** Collects a watch's items in the background. */
function collect(stream: NexusWatch): Collected {
  const items: NexusWatchItem[] = [];
  let live!: (checkpoint: string) => void;
  const caughtUp = new Promise<string>((resolve) => {
    live = resolve;
  });
  const done = (async () => {
    for await (const item of stream) {
      items.push(item);
      if (item.type === 'caught_up') live(item.checkpoint);
    }
  })().catch((error: unknown) => error);
  const events = () => items.flatMap((item) => (item.type === 'event' ? [item.event] : []));
  return { items, events, caughtUp, done };
}

/** Reads a stream until `count` events arrived, then cancels it. */
async function firstEvents(stream: NexusWatch, count: number): Promise<Event[]> {
  const events: Event[] = [];
  for await (const item of stream) {
    if (item.type !== 'event') continue;
    events.push(item.event);
    if (events.length === count) break;
  }
  return events;
}

describe('WatchDecisions', () => {
  it('from now: says caught_up first, then delivers live events of every decision in feed order, each with its token', async () => {
    t = await startTestServer();
    const stream = t.client('auditor').watchDecisions({ fromNow: {} });
    const seen = collect(stream);
    const head = await seen.caughtUp;
    expect(seen.items).toEqual([{ type: 'caught_up', checkpoint: head }]);

    const { decision } = await t.client('alice').createDecision({ goal: 'watched' });
    const id = decision!.decisionId;
    await t.client('bob').approve({ decisionId: id });
    await expect.poll(() => seen.events().length).toBe(3);
    expect(seen.events().map((e) => [e.decisionId, e.type, e.generation])).toEqual([
      [id, EventType.EVENT_TYPE_DECISION_CREATED, 0],
      [id, EventType.EVENT_TYPE_POLICY_ATTACHED, 0],
      [id, EventType.EVENT_TYPE_APPROVAL_GRANTED, 0],
    ]);
    const tokens = seen.events().map((e) => e.checkpoint);
    expect(new Set([head, ...tokens]).size).toBe(4);
    expect(tokens.every((token) => token !== '')).toBe(true);

    stream.cancel();
    expect(await seen.done).toBeUndefined();
    await expect
      .poll(() => t!.logs.find((line) => line['method'] === 'DecisionService/WatchDecisions'))
      .toMatchObject({ status: 'CANCELLED', actor: 'auditor' });
  });

  it('an unset start means from now', async () => {
    t = await startTestServer();
    await t.client('alice').createDecision({ goal: 'before' });
    const seen = collect(t.client('auditor').watchDecisions({}));
    await seen.caughtUp;
    const after = (await t.client('alice').createDecision({ goal: 'after' })).decision!.decisionId;
    await expect.poll(() => seen.events().length).toBe(2);
    expect(seen.events().map((e) => e.decisionId)).toEqual([after, after]);
  });

  it('a watch of one decision sees only that decision', async () => {
    t = await startTestServer();
    const alice = t.client('alice');
    const mine = (await alice.createDecision({ goal: 'mine' })).decision!.decisionId;
    const seen = collect(t.client('bob').watchDecisions({ decisionId: mine }));
    await seen.caughtUp;
    const other = (await alice.createDecision({ goal: 'other' })).decision!.decisionId;
    await t.client('bob').approve({ decisionId: other });
    await t.client('bob').approve({ decisionId: mine });
    await expect.poll(() => seen.events().length).toBe(1);
    expect(seen.events()[0]).toMatchObject({ decisionId: mine, type: EventType.EVENT_TYPE_APPROVAL_GRANTED, actor: { id: 'bob' } });
  });

  it('resumes from a token after a disconnect and gets exactly the rest, including what was committed meanwhile', async () => {
    t = await startTestServer();
    const alice = t.client('alice');
    const ids: string[] = [];
    for (const goal of ['one', 'two']) ids.push((await alice.createDecision({ goal })).decision!.decisionId);

    const first = await firstEvents(t.client('auditor').watchDecisions({ fromStart: {} }), 3);
    expect(first.map((e) => [e.decisionId, e.seq])).toEqual([
      [ids[0], 0],
      [ids[0], 1],
      [ids[1], 0],
    ]);

    // Committed while nobody watches.
    await t.client('bob').approve({ decisionId: ids[0] });
    await t.client('carol').approve({ decisionId: ids[1] });

    const resumed = collect(t.client('auditor').watchDecisions({ after: first[2]!.checkpoint }));
    const head = await resumed.caughtUp;
    const rest = resumed.events();
    expect(rest.map((e) => [e.decisionId, e.seq])).toEqual([
      [ids[1], 1],
      [ids[0], 2],
      [ids[1], 2],
    ]);
    expect(head).toBe(rest[2]!.checkpoint);
    // Nothing was delivered twice across the two streams.
    expect(new Set([...first, ...rest].map((e) => e.checkpoint)).size).toBe(6);
  });

  it('a one-decision watch receives periodic checkpoints while other decisions change, and resuming from one loses nothing', async () => {
    t = await startTestServer();
    const alice = t.client('alice');
    const quiet = (await alice.createDecision({ goal: 'quiet' })).decision!.decisionId;
    const busy = (await alice.createDecision({ goal: 'busy' })).decision!.decisionId;
    const stream = t.client('auditor').watchDecisions({ decisionId: quiet, fromNow: {}, checkpointIntervalMs: 100 });
    const seen = collect(stream);
    const live = await seen.caughtUp;
    await t.client('bob').approve({ decisionId: busy });
    await expect.poll(() => seen.items.filter((item) => item.type === 'checkpoint').length, { timeout: 5_000 }).toBeGreaterThan(0);
    const checkpoint = seen.items.find((item) => item.type === 'checkpoint')!;
    expect(seen.events()).toEqual([]);
    expect(checkpoint.type === 'checkpoint' && checkpoint.checkpoint).not.toBe(live);
    stream.cancel();
    await seen.done;

    // The checkpoint is past the busy decision's approval: resuming from it sees only what follows.
    await t.client('carol').approve({ decisionId: quiet });
    const resumed = await firstEvents(
      t.client('auditor').watchDecisions({ decisionId: quiet, after: (checkpoint as { checkpoint: string }).checkpoint }),
      1,
    );
    expect(resumed.map((e) => [e.decisionId, e.seq, e.actor?.id])).toEqual([[quiet, 2, 'carol']]);
  });

  it('a watch with a deadline ends at the deadline', async () => {
    t = await startTestServer();
    const stream = t.client('auditor').watchDecisions({}, { deadlineMs: 300 });
    const started = Date.now();
    const outcome = await collect(stream).done;
    expect(outcome).toBeInstanceOf(NexusClientError);
    expect((outcome as NexusClientError).code).toBe('DEADLINE_EXCEEDED');
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('shutting the server down ends open watches with UNAVAILABLE so clients resume elsewhere', async () => {
    t = await startTestServer();
    const seen = collect(t.client('auditor').watchDecisions({}));
    await seen.caughtUp;
    const started = Date.now();
    await t.server.shutdown(5_000);
    expect(Date.now() - started).toBeLessThan(2_000);
    const outcome = await seen.done;
    expect(outcome).toBeInstanceOf(NexusClientError);
    expect((outcome as NexusClientError).code).toBe('UNAVAILABLE');
  });

  it.each([['18446744073709551615'], ['not-a-token'], ['0']])('a token the store did not issue (%s) is INVALID_ARGUMENT', async (after) => {
    t = await startTestServer();
    const outcome = await collect(t.client('auditor').watchDecisions({ after })).done;
    expect(outcome).toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it.each([[50], [3_600_001]])('a checkpoint interval of %i ms is INVALID_ARGUMENT', async (checkpointIntervalMs) => {
    t = await startTestServer();
    const outcome = await collect(t.client('auditor').watchDecisions({ checkpointIntervalMs })).done;
    expect(outcome).toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('WatchDecisions with a reader that falls behind', () => {
  it('is ended with RESOURCE_EXHAUSTED / WATCH_BUFFER_FULL once its server-side buffer is full, and resuming from its last token loses nothing', async () => {
    let store!: EventStore;
    t = await startTestServer({
      wrapStore: (real) => (store = real),
      nexus: () => createNexusControl({ store, watchBufferLimit: 20 }),
    });
    const stream = t.client('auditor').watchDecisions({ fromNow: {} });
    const reader = stream[Symbol.asyncIterator]();
    const first = await reader.next();
    expect(first.value).toMatchObject({ type: 'caught_up' });
    const start = (first.value as { checkpoint: string }).checkpoint;
    let last = start;
    // The reader stops reading while 1,000 events are written: more than the transport holds in flight.
    const requester = { actor: { type: 'human' as const, id: 'writer' } };
    for (let i = 0; i < 500; i++) await t.nexus.request({ goal: `g${i}` }, requester);
    const received: Event[] = [];
    let failure: unknown;
    for (;;) {
      const next = await reader.next().then(
        (r) => r,
        (error: unknown) => ((failure = error), undefined),
      );
      if (!next || next.done) break;
      if (next.value.type === 'event') received.push(next.value.event);
      last = next.value.type === 'event' ? next.value.event.checkpoint : next.value.checkpoint;
    }
    expect(failure).toBeInstanceOf(NexusClientError);
    expect((failure as NexusClientError).code).toBe('WATCH_BUFFER_FULL');
    expect((failure as NexusClientError).grpcStatusName).toBe('RESOURCE_EXHAUSTED');
    expect(received.length).toBeLessThan(1000);
    const rest = await firstEvents(t.client('auditor').watchDecisions({ after: last }), 1000 - received.length);
    const all = [...received, ...rest];
    expect(all.map((e) => `${e.decisionId}#${e.seq}`)).toEqual(
      (await store.readFeed({ after: start, limit: 2000 })).events.map((e) => `${e.decisionId}#${e.seq}`),
    );
  });
});
