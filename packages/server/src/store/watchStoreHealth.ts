import { NexusError, type EventStore } from '@nexus-control/core';
import type { Logger } from '../logging/createLogger.js';

export interface StoreHealthWatch {
  stop(): void;
}

/**
 * Probes the store with its cheapest read (`headCheckpoint`) every `intervalMs` and reports
 * whether it answers: a networked database can go away and come back while the server keeps
 * running, and health checks (load balancers, orchestrators) must see that.
 */
export function watchStoreHealth(
  store: EventStore,
  setServing: (serving: boolean) => void,
  logger: Logger,
  intervalMs = 1000,
): StoreHealthWatch {
  let serving = true;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const probe = async () => {
    let ok = true;
    let reason = '';
    try {
      await store.headCheckpoint();
    } catch (error) {
      // Only an unreachable store makes the server unhealthy; any other failure is the call's.
      ok = !(error instanceof NexusError && error.code === 'STORE_UNAVAILABLE');
      reason = error instanceof Error ? error.message : String(error);
    }
    if (stopped) return;
    if (ok !== serving) {
      serving = ok;
      setServing(ok);
      if (ok) logger.info('store reachable again: serving');
      else logger.warn('store unreachable: not serving', { error: reason });
    }
    timer = setTimeout(() => void probe(), intervalMs);
    timer.unref();
  };
  timer = setTimeout(() => void probe(), intervalMs);
  timer.unref();
  return {
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
