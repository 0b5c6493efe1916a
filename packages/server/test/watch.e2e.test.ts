import { EventType, NexusClientError, type Event, type NexusWatch } from '@nexus-control/client';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/testServer.js';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** Collects events from a watch in the background. */
function collect(stream: NexusWatch): { events: Event[]; done: Promise<unknown> } {
  const events: Event[] = [];
  const done = (async () => {
    for await (const event of stream) events.push(event);
  })().catch((error: unknown) => error);
  return { events, done };
}

describe('WatchDecisions', () => {
  it('delivers live events of every decision, in feed order, once the stream is ready', async () => {
    t = await startTestServer();
    const stream = t.client('auditor').watchDecisions({});
    const { headPosition } = await stream.ready;
    const seen = collect(stream);

    const { decision } = await t.client('alice').createDecision({ goal: 'watched' });
    const id = decision!.decisionId;
    await t.client('bob').approve({ decisionId: id });
    await expect.poll(() => seen.events.length).toBe(3);
    expect(seen.events.map((e) => [e.decisionId, e.type])).toEqual([
      [id, EventType.EVENT_TYPE_DECISION_CREATED],
      [id, EventType.EVENT_TYPE_POLICY_ATTACHED],
      [id, EventType.EVENT_TYPE_APPROVAL_GRANTED],
    ]);
    const positions = seen.events.map((e) => Number(e.position));
    expect(positions[0]).toBeGreaterThan(Number(headPosition));
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(new Set(positions).size).toBe(3);

    stream.cancel();
    expect(await seen.done).toBeUndefined();
    await expect
      .poll(() => t!.logs.find((line) => line['method'] === 'DecisionService/WatchDecisions'))
      .toMatchObject({ status: 'CANCELLED', actor: 'auditor' });
  });

  it('a watch of one decision sees only that decision', async () => {
    t = await startTestServer();
    const alice = t.client('alice');
    const mine = (await alice.createDecision({ goal: 'mine' })).decision!.decisionId;
    const stream = t.client('bob').watchDecisions({ decisionId: mine });
    await stream.ready;
    const seen = collect(stream);
    const other = (await alice.createDecision({ goal: 'other' })).decision!.decisionId;
    await t.client('bob').approve({ decisionId: other });
    await t.client('bob').approve({ decisionId: mine });
    await expect.poll(() => seen.events.length).toBe(1);
    expect(seen.events[0]).toMatchObject({ decisionId: mine, type: EventType.EVENT_TYPE_APPROVAL_GRANTED, actor: { id: 'bob' } });
    stream.cancel();
    await seen.done;
  });

  it('replays from position 0 and resumes after the last position seen, without loss or duplicates', async () => {
    t = await startTestServer();
    const alice = t.client('alice');
    const ids: string[] = [];
    for (const goal of ['one', 'two']) ids.push((await alice.createDecision({ goal })).decision!.decisionId);

    const replay = t.client('auditor').watchDecisions({ afterPosition: '0' });
    expect((await replay.ready).headPosition).toBe('0');
    const first: Event[] = [];
    for await (const event of replay) {
      first.push(event);
      if (first.length === 3) break;
    }
    expect(first.map((e) => [e.decisionId, e.seq])).toEqual([
      [ids[0], 0],
      [ids[0], 1],
      [ids[1], 0],
    ]);

    // Events committed while nobody watches are not lost.
    await t.client('bob').approve({ decisionId: ids[0] });
    const resumed = t.client('auditor').watchDecisions({ afterPosition: first[2]!.position });
    const rest: Event[] = [];
    for await (const event of resumed) {
      rest.push(event);
      if (rest.length === 2) break;
    }
    expect(rest.map((e) => [e.decisionId, e.seq])).toEqual([
      [ids[1], 1],
      [ids[0], 2],
    ]);
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
    const stream = t.client('auditor').watchDecisions({});
    await stream.ready;
    const seen = collect(stream);
    const started = Date.now();
    await t.server.shutdown(5_000);
    expect(Date.now() - started).toBeLessThan(2_000);
    const outcome = await seen.done;
    expect(outcome).toBeInstanceOf(NexusClientError);
    expect((outcome as NexusClientError).code).toBe('UNAVAILABLE');
  });

  it('an invalid position is INVALID_ARGUMENT', async () => {
    t = await startTestServer();
    const stream = t.client('auditor').watchDecisions({ afterPosition: '18446744073709551615' });
    await expect(stream.ready).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
