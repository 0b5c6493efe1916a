import { isNexusError } from '../../errors/NexusError.js';
import type { DecisionFold } from '../decisionFold.js';
import type { ServiceDeps } from '../ServiceDeps.js';

/**
 * Runs a write command's decision on the fold this process already holds, with no read of
 * the store first, and again on a freshly read fold when that first attempt lost the version
 * race or refused. The held fold may be behind another process's appends; the store's check
 * of the append against the fold's log version is what proves it current. So an accepted
 * command costs one round trip to the store, and a refusal is only ever reported against the
 * log as the store holds it.
 */
export async function decideOnFold<T>(deps: ServiceDeps, decisionId: string, decide: (fold: DecisionFold) => Promise<T>): Promise<T> {
  const held = deps.cache.peek(decisionId);
  if (held !== undefined) {
    try {
      return await decide(held);
    } catch (error) {
      // Only a lost race or a refusal may come from a stale fold. A store failure may have left
      // the write in doubt: deciding again on top of it could write twice.
      if (!isNexusError(error) || (error.kind !== 'aborted' && error.kind !== 'failed_precondition')) throw error;
    }
  }
  return decide(await deps.cache.load(decisionId));
}
