import { NexusError } from '@nexus-control/core';
import { redact } from './maskUrl.js';

/** A PostgreSQL error as node-postgres reports it: SQLSTATE in `code`, the violated constraint by name. */
interface PgDatabaseError {
  readonly code: string;
  readonly constraint?: string;
}

const SQLSTATE = /^[0-9A-Z]{5}$/;

export function sqlStateOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && SQLSTATE.test(code) ? code : undefined;
}

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  if (sqlStateOf(error) !== '23505') return false;
  return constraint === undefined || (error as PgDatabaseError).constraint === constraint;
}

/** Lost races the database detected itself: the writer may re-read and retry. */
export function isRaceLost(error: unknown): boolean {
  const state = sqlStateOf(error);
  return state === '40001' || state === '40P01';
}

/*
 * SQLSTATE classes meaning the database cannot serve now, rather than that the request is
 * wrong: 08 connection exception, 28 authentication refused, 3D no such database,
 * 53 insufficient resources, 57 operator intervention
 * (admin shutdown, crash shutdown, cannot connect now, statement timeout), 58 system error.
 */
const UNAVAILABLE_CLASSES = new Set(['08', '28', '3D', '53', '57', '58']);

function isUnavailable(error: unknown): boolean {
  const state = sqlStateOf(error);
  if (state !== undefined) return UNAVAILABLE_CLASSES.has(state.slice(0, 2));
  // No SQLSTATE: the socket failed (ECONNREFUSED, ENOENT, ECONNRESET, …), or the driver
  // reports the connection ended, timed out or broke. Anything else is a fault, not an outage.
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^E[A-Z0-9_]+$/.test(code)) return true;
  const message = error instanceof Error ? error.message : '';
  return /connection|terminated|timeout|not queryable|ended/i.test(message);
}

/**
 * Maps anything a driver call threw to a NexusError: ours pass through; lost races and
 * uniqueness are handled by the caller before this; unreachable → STORE_UNAVAILABLE; the rest
 * INTERNAL. Messages never carry the connection's password.
 */
export function toStoreError(error: unknown, location: string, secrets: readonly string[]): NexusError {
  if (error instanceof NexusError) return error;
  const raw = error instanceof Error ? error.message : String(error);
  const message = redact(raw, secrets);
  const state = sqlStateOf(error);
  const details = { location, ...(state === undefined ? {} : { sqlState: state }) };
  if (isUnavailable(error)) {
    return new NexusError('STORE_UNAVAILABLE', `${location}: the database is unreachable: ${message}`, details);
  }
  return new NexusError('INTERNAL', `${location}: the database failed: ${message}`, details);
}
