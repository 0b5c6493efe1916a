import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/events/DecisionEvent.js';
import { alice, requester, setup } from './fixtures.js';

async function take(iterable: AsyncIterable<StoredEvent>, count: number): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const event of iterable) {
    out.push(event);
    if (out.length === count) break;
  }
  return out;
}

describe('watch', () => {
  it('delivers live events of one decision in order', async () => {
    const { nexus } = setup({ watchPollMs: 10 });
    const { decisionId } = await nexus.request({ goal: 'g' }, requester);
    const controller = new AbortController();
    const received = take(nexus.watch({ decisionId, signal: controller.signal }), 1);
    await nexus.request({ goal: 'other' }, requester);
    await nexus.approve(decisionId, {}, alice);
    const [event] = await received;
    expect(event).toMatchObject({ decisionId, seq: 2, type: 'APPROVAL_GRANTED' });
    controller.abort();
  });

  it('resumes from a position with every event once', async () => {
    const { nexus } = setup({ watchPollMs: 10 });
    await nexus.request({ goal: 'a' }, requester);
    const all = await take(nexus.watch({ afterPosition: 0 }), 2);
    await nexus.request({ goal: 'b' }, requester);
    const rest = await take(nexus.watch({ afterPosition: all[1]!.position }), 2);
    expect(rest.map((e) => e.payload['goal'] ?? e.type)).toEqual(['b', 'POLICY_ATTACHED']);
  });

  it('ends when the signal aborts', async () => {
    const { nexus } = setup({ watchPollMs: 10 });
    const controller = new AbortController();
    const done = take(nexus.watch({ signal: controller.signal }), 100);
    setTimeout(() => controller.abort(), 30);
    expect(await done).toEqual([]);
  });
});
