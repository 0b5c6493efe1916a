import type { Router } from '../router/Router.js';
import type { EventStore } from '../store/EventStore.js';
import type { Clock } from '../time/Clock.js';
import type { DecisionCache } from './decisionCache.js';
import type { LeaseConfig } from './executionLeases.js';

/** What every command and query of the service is built from. */
export interface ServiceDeps {
  readonly store: EventStore;
  readonly router: Router;
  readonly clock: Clock;
  readonly cache: DecisionCache;
  readonly newDecisionId: () => string;
  /** Reject an approval by the decision's requester. */
  readonly forbidSelfApproval: boolean;
  /** How often approve/revoke re-validate and retry after losing a race. */
  readonly maxConflictRetries: number;
  /** This process's execution leases: its owner id, lease length and renewal interval. */
  readonly leases: LeaseConfig;
}
