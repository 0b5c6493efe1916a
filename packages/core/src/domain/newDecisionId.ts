import { randomUUID } from 'node:crypto';

const MILLISECONDS_SPAN = 2 ** 48;

/**
 * A fresh decision id: `dec_` and 32 lowercase hex digits laid out as a version 7 UUID
 * (RFC 9562), i.e. the creation time in milliseconds (48 bits) followed by 74 random bits.
 *
 * Time first, because every store keys its indexes by decision id (the event log's
 * `(decision_id, generation, seq)`, the headers, router results, leases): ids of decisions
 * created together sort together, so the decisions in flight share a few index pages at the
 * right edge of each index instead of touching a random page each (on SQLite a lifecycle's
 * commits write about half as many log pages as with random ids). The random part
 * keeps ids unguessable and distinct; the store's unique constraint has the last word.
 * The clock only orders ids loosely: a clock set back costs locality, never correctness.
 */
export function newDecisionId(nowMs: number = Date.now()): string {
  const random = randomUUID(); // xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx, V holding the variant bits
  const time = (((Math.trunc(nowMs) % MILLISECONDS_SPAN) + MILLISECONDS_SPAN) % MILLISECONDS_SPAN).toString(16).padStart(12, '0');
  return `dec_${time}7${random.slice(15, 18)}${random.slice(19, 23)}${random.slice(24)}`;
}
