import {
  createNexusControl,
  createNullAdapter,
  createRouter,
  fixedClock,
  JsonFloat,
  type EventStore,
  type RouterAdapter,
} from '@nexus-control/core';

/** An adapter whose response holds the number forms a lossy store would change: integral floats, exponents, big integers. */
const numberTestAdapter: RouterAdapter = {
  id: 'lossy',
  capabilities: ['dry_run', 'apply'],
  async run() {
    return {
      run_id: 'run_rich_1',
      status: 'completed',
      steps_executed: 2,
      ratio: new JsonFloat(1),
      tiny: 1e-7,
      huge: new JsonFloat(1e16),
      big: 9007199254740993n,
    };
  },
};

/**
 * Records, through the service on `store`, a decision that exercises what a bundle must carry
 * across stores unchanged: a template, approvals, a revocation, a completed run whose response is
 * full of floats, and free text with U+0000, U+2028, quotes, accents and astral characters.
 * Returns its id and the clock the service used (advance it to write more at later instants).
 */
export async function recordRichDecision(store: EventStore): Promise<{ id: string; clock: ReturnType<typeof fixedClock> }> {
  const clock = fixedClock('2025-03-01T12:00:00.500000+00:00');
  const control = createNexusControl({ store, clock, router: createRouter([createNullAdapter(), numberTestAdapter]) });
  const requester = { type: 'human', id: 'requester' } as const;
  await control.createTemplate(
    { name: 'ops', description: 'é and 😀', policy: { minApprovals: 2, labels: ['ops'] } },
    { actor: requester },
  );
  const { decisionId } = await control.request(
    { goal: 'rotate "keys"\u0000 \u2028 now', plan: 'step\u0000one', templateName: 'ops', policy: { maxSteps: 5 } },
    { actor: requester },
  );
  for (const id of ['alice', 'bob', 'carol']) {
    clock.advance(1_000_000);
    await control.approve(decisionId, { comment: `ok\u0000 ${id}` }, { actor: { type: 'human', id } });
  }
  await control.revoke(decisionId, { reason: 'changed my mind' }, { actor: { type: 'human', id: 'bob' } });
  await control.execute(decisionId, { adapterId: numberTestAdapter.id }, { actor: requester });
  return { id: decisionId, clock };
}
