import { NexusError } from '../errors/NexusError.js';
import type { Router, RouterAdapter } from './Router.js';

/** A router over a fixed set of adapters; ids must be unique. */
export function createRouter(adapters: readonly RouterAdapter[]): Router {
  const byId = new Map<string, RouterAdapter>();
  for (const adapter of adapters) {
    if (byId.has(adapter.id)) throw new NexusError('INVALID_ARGUMENT', `two router adapters are named '${adapter.id}'`);
    byId.set(adapter.id, adapter);
  }
  const list = Object.freeze([...byId.values()]);
  return {
    adapter: (id) => byId.get(id),
    adapters: () => list,
  };
}
