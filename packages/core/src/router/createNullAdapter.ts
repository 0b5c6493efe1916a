import { randomUUID } from 'node:crypto';
import type { RouterAdapter, RouterRequest, RouterResponse } from './Router.js';

/**
 * The built-in adapter: simulates a run and touches nothing. One step per non-empty plan
 * line (one for no plan), so `max_steps` can be exercised without a real executor.
 */
export function createNullAdapter(id = 'null'): RouterAdapter {
  return {
    id,
    capabilities: Object.freeze(['dry_run']),
    sideEffects: false,
    async run(request: RouterRequest): Promise<RouterResponse> {
      const plan = typeof request['plan'] === 'string' ? request['plan'] : '';
      const steps = plan.split('\n').filter((line) => line.trim() !== '').length;
      return {
        run_id: `run_${randomUUID().replaceAll('-', '')}`,
        status: 'completed',
        steps_executed: Math.max(1, steps),
        adapter_id: id,
        dry_run: request.dry_run,
        simulated: true,
      };
    },
  };
}
