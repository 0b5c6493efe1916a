import type { EventStore } from '../../store/EventStore.js';
import type { Clock } from '../../time/Clock.js';
import { leaseNow, type LeaseConfig } from '../executionLeases.js';

export interface LeaseKeeper {
  /** Aborted when the lease is lost: the run was ended or taken over elsewhere. */
  readonly lost: AbortSignal;
  stop(): void;
}

/**
 * Renews a run's lease every `renewMs` while its adapter works. A renewal the store refuses
 * means another process ended or recovered the run, so the adapter is told to stop; a
 * renewal that fails (store unreachable) is tried again at the next tick — the lease lasts
 * several intervals, so one missed renewal does not lose it.
 */
export function keepLease(store: EventStore, clock: Clock, leases: LeaseConfig, decisionId: string): LeaseKeeper {
  const controller = new AbortController();
  let renewing = false;
  const timer = setInterval(() => {
    if (renewing || controller.signal.aborted) return;
    renewing = true;
    store
      .renewLease(decisionId, leases.owner, leaseNow(clock.now()) + leases.leaseMs)
      .then(
        (held) => {
          if (!held) controller.abort(new Error('the execution lease was lost: the run was ended or recovered by another process'));
        },
        () => undefined,
      )
      .finally(() => {
        renewing = false;
      });
  }, leases.renewMs);
  timer.unref();
  return {
    lost: controller.signal,
    stop: () => clearInterval(timer),
  };
}
