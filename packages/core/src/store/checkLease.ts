import { NexusError } from '../errors/NexusError.js';
import type { LeaseGrant, LeaseTakeover } from './EventStore.js';

const MAX_OWNER_LENGTH = 256;

/** An owner id every store can keep as given: non-empty, bounded, no control characters. */
export function checkLeaseOwner(owner: unknown, what = 'lease owner'): string {
  if (typeof owner !== 'string' || owner === '' || owner.length > MAX_OWNER_LENGTH || /[\u0000-\u001f\u007f]/.test(owner)) {
    throw new NexusError('INVALID_ARGUMENT', `${what} must be 1 to ${MAX_OWNER_LENGTH} characters without control characters`);
  }
  return owner;
}

/** Epoch milliseconds as a non-negative safe integer (every store keeps them as 64-bit integers). */
export function checkLeaseTime(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new NexusError('INVALID_ARGUMENT', `${what} must be a non-negative integer of epoch milliseconds`);
  }
  return value;
}

/** The checks on a lease change that need no stored state, shared by every store. */
export function checkLeaseGrant(grant: LeaseGrant | 'release'): LeaseGrant | 'release' {
  if (grant === 'release') return grant;
  if (typeof grant !== 'object' || grant === null) throw new NexusError('INVALID_ARGUMENT', "lease must be a grant or 'release'");
  return { owner: checkLeaseOwner(grant.owner), expiresAt: checkLeaseTime(grant.expiresAt, 'lease expiresAt') };
}

export function checkLeaseTakeover(takeover: LeaseTakeover): LeaseTakeover {
  if (typeof takeover !== 'object' || takeover === null) throw new NexusError('INVALID_ARGUMENT', 'a takeover request is required');
  if (typeof takeover.decisionId !== 'string' || takeover.decisionId === '') {
    throw new NexusError('INVALID_ARGUMENT', 'a takeover names its decision id');
  }
  return {
    decisionId: takeover.decisionId,
    fromOwner: checkLeaseOwner(takeover.fromOwner, 'fromOwner'),
    now: checkLeaseTime(takeover.now, 'now'),
    grant: checkLeaseGrant(takeover.grant) as LeaseGrant,
  };
}

/** The listing limit of `listExpiredLeases`: default 100, at most 1000. */
export function leaseListLimit(limit: number | undefined): number {
  if (limit === undefined) return 100;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new NexusError('INVALID_ARGUMENT', 'limit must be a positive integer');
  return Math.min(limit, 1000);
}
