import { NexusError } from '../errors/NexusError.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './EventStore.js';

/*
 * Listing cursors are keyset cursors: the internal, monotonically increasing list position
 * of the last row of a page (a rowid, a sequence value). The next page holds the rows with
 * a smaller position, so rows created between page reads never shift a page.
 */

const PREFIX = 'dc1:';
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const BODY = /^dc1:(0|[1-9][0-9]{0,15})$/;

export function encodeDecisionCursor(listPosition: number): string {
  if (!Number.isSafeInteger(listPosition) || listPosition < 0) {
    throw new NexusError('INTERNAL', 'a list position must be a non-negative integer', { listPosition });
  }
  return Buffer.from(PREFIX + String(listPosition), 'utf8').toString('base64url');
}

/** The list position a cursor stands for; INVALID_ARGUMENT for anything this module did not write. */
export function decodeDecisionCursor(cursor: string): number {
  const invalid = () => new NexusError('INVALID_ARGUMENT', 'invalid listing cursor', { cursor });
  if (typeof cursor !== 'string' || cursor.length > 64 || !BASE64URL.test(cursor)) throw invalid();
  const body = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = BODY.exec(body);
  if (match === null) throw invalid();
  const listPosition = Number(match[1]);
  // Reject non-canonical spellings, so one position has exactly one cursor.
  if (!Number.isSafeInteger(listPosition) || encodeDecisionCursor(listPosition) !== cursor) throw invalid();
  return listPosition;
}

/** The page size a listing uses: the default when absent, capped at MAX_PAGE_SIZE. */
export function pageSizeOf(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new NexusError('INVALID_ARGUMENT', 'limit must be a positive integer', { limit });
  }
  return Math.min(limit, MAX_PAGE_SIZE);
}
