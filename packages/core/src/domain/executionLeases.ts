import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { NexusError } from '../errors/NexusError.js';

/** How a process owns the executions it runs (see the README's operations section). */
export interface ExecutionLeaseSettings {
  /** This process's id in the leases it takes; default host, pid and a random suffix. */
  readonly owner?: string;
  /** How long a lease lasts without renewal (ms, default 30 000). */
  readonly leaseMs?: number;
  /** How often the owner renews a lease while its adapter runs (ms, default 10 000). */
  readonly renewMs?: number;
}

export interface LeaseConfig {
  readonly owner: string;
  readonly leaseMs: number;
  readonly renewMs: number;
}

export const DEFAULT_LEASE_MS = 30_000;
export const DEFAULT_RENEW_MS = 10_000;

export function defaultLeaseOwner(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

export function leaseConfigOf(settings: ExecutionLeaseSettings = {}): LeaseConfig {
  const leaseMs = settings.leaseMs ?? DEFAULT_LEASE_MS;
  const renewMs = settings.renewMs ?? Math.min(DEFAULT_RENEW_MS, Math.floor(leaseMs / 3));
  if (!Number.isSafeInteger(leaseMs) || leaseMs < 100)
    throw new NexusError('INVALID_ARGUMENT', 'the execution lease must last at least 100 ms');
  // Renewing less often than the lease lasts would let a live owner's lease lapse.
  if (!Number.isSafeInteger(renewMs) || renewMs < 10 || renewMs >= leaseMs) {
    throw new NexusError('INVALID_ARGUMENT', 'the lease renewal interval must be at least 10 ms and shorter than the lease');
  }
  return { owner: settings.owner ?? defaultLeaseOwner(), leaseMs, renewMs };
}

/**
 * The id an adapter receives for one run: the decision, the log and the seq of the run's
 * EXECUTION_REQUESTED. Stable for the run, new for a retry, so an adapter can refuse to repeat
 * a side effect it already performed for this run.
 */
export function executionIdOf(decisionId: string, generation: number, requestedSeq: number): string {
  return `${decisionId}:${generation}:${requestedSeq}`;
}

/** Lease times are epoch milliseconds on the service clock (which counts microseconds). */
export function leaseNow(clockMicros: number): number {
  return Math.floor(clockMicros / 1000);
}

/** The `error_code` of an EXECUTION_FAILED that closes a run whose outcome is unknown. */
export const EXECUTION_INTERRUPTED = 'EXECUTION_INTERRUPTED';
/** The `error_code` of an EXECUTION_FAILED an operator recorded by hand. */
export const EXECUTION_FAILED_BY_OPERATOR = 'EXECUTION_FAILED_BY_OPERATOR';
