import { createMemoryEventStore } from '../../src/store/createMemoryEventStore.js';
import { createNexusControl, type NexusControlOptions } from '../../src/domain/createNexusControl.js';
import type { CommandContext } from '../../src/domain/NexusControlApi.js';
import { createNullAdapter } from '../../src/router/createNullAdapter.js';
import { createRouter } from '../../src/router/createRouter.js';
import type { RouterAdapter, RouterRequest, RouterResponse } from '../../src/router/Router.js';
import { fixedClock } from '../../src/time/Clock.js';

export const T0 = '2025-01-01T00:00:00+00:00';
export const HOUR = 3_600_000_000;

export const alice: CommandContext = { actor: { type: 'human', id: 'alice' } };
export const bob: CommandContext = { actor: { type: 'human', id: 'bob' } };
export const carol: CommandContext = { actor: { type: 'human', id: 'carol' } };
export const requester: CommandContext = { actor: { type: 'human', id: 'requester' } };

/** An adapter that records every request and answers with what the test scripts. */
export function scriptedAdapter(
  id: string,
  capabilities: string[],
  answer: (request: RouterRequest) => RouterResponse | Promise<RouterResponse> = () => ({
    run_id: `run_${id}`,
    status: 'completed',
    steps_executed: 1,
  }),
) {
  const calls: RouterRequest[] = [];
  const adapter: RouterAdapter = {
    id,
    capabilities,
    async run(request) {
      calls.push(request);
      return answer(request);
    },
  };
  return { adapter, calls };
}

export function setup(options: Partial<NexusControlOptions> & { adapters?: RouterAdapter[] } = {}) {
  const store = options.store ?? createMemoryEventStore();
  const clock = fixedClock(T0);
  const router = createRouter([createNullAdapter(), ...(options.adapters ?? [])]);
  const nexus = createNexusControl({ store, router, clock, ...options });
  return { store, clock, nexus, router };
}
