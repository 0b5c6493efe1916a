import type Database from 'better-sqlite3';
import type { LeaseArg, LeaseRow } from './protocol.js';

export interface LeaseWrites {
  /** Inside an append's transaction (its savepoint in a group): take (replace) or drop the decision's lease. */
  applyInAppend(decisionId: string, generation: number, requestedSeq: number, lease: LeaseArg): void;
  /** Inside an overwrite import's transaction: the replaced log's run is gone. */
  drop(decisionId: string): void;
  renew(decisionId: string, owner: string, expiresAt: number): boolean;
  takeOver(decisionId: string, fromOwner: string, now: number, owner: string, expiresAt: number): boolean;
  release(decisionId: string, owner: string): boolean;
}

/**
 * The writes of the execution lease table (schema step 3), on the worker's write connection.
 * Each change is one statement, so a renewal or a takeover is a single conditional update
 * that SQLite's write lock makes atomic across processes: of two takers of one lapsed lease,
 * the second finds the owner already changed.
 */
export function createLeaseWrites(db: Database.Database): LeaseWrites {
  const upsert = db.prepare(
    'INSERT INTO execution_leases (decision_id, generation, requested_seq, owner, expires_at) VALUES (?, ?, ?, ?, ?) ' +
      'ON CONFLICT (decision_id) DO UPDATE SET generation = excluded.generation, requested_seq = excluded.requested_seq, ' +
      'owner = excluded.owner, expires_at = excluded.expires_at',
  );
  const remove = db.prepare('DELETE FROM execution_leases WHERE decision_id = ?');
  const removeOwned = db.prepare('DELETE FROM execution_leases WHERE decision_id = ? AND owner = ?');
  const renew = db.prepare('UPDATE execution_leases SET expires_at = ? WHERE decision_id = ? AND owner = ?');
  const takeOver = db.prepare(
    'UPDATE execution_leases SET owner = ?, expires_at = ? WHERE decision_id = ? AND owner = ? AND expires_at <= ?',
  );

  return {
    applyInAppend(decisionId, generation, requestedSeq, lease) {
      if (lease === 'release') remove.run(decisionId);
      else upsert.run(decisionId, generation, requestedSeq, lease[0], lease[1]);
    },
    drop(decisionId) {
      remove.run(decisionId);
    },
    renew(decisionId, owner, expiresAt) {
      return renew.run(expiresAt, decisionId, owner).changes === 1;
    },
    takeOver(decisionId, fromOwner, now, owner, expiresAt) {
      return takeOver.run(owner, expiresAt, decisionId, fromOwner, now).changes === 1;
    },
    release(decisionId, owner) {
      return removeOwned.run(decisionId, owner).changes === 1;
    },
  };
}

/** The lapsed leases, earliest expiry first, on the worker's read connection. */
export function createExpiredLeaseListing(db: Database.Database): (now: number, limit: number) => LeaseRow[] {
  const listExpired = db
    .prepare(
      'SELECT decision_id, generation, requested_seq, owner, expires_at FROM execution_leases ' +
        'WHERE expires_at <= ? ORDER BY expires_at, decision_id LIMIT ?',
    )
    .raw();
  return (now, limit) => listExpired.all(now, limit) as LeaseRow[];
}
