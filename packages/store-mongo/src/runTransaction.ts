import { MongoServerError, type ClientSession, type MongoClient, type TransactionOptions } from 'mongodb';
import { DUPLICATE_KEY, WRITE_CONFLICT, isUnavailable, toStoreError, unavailableError } from './mongoErrors.js';

const TRANSACTION_OPTIONS: TransactionOptions = {
  readConcern: { level: 'snapshot' },
  writeConcern: { w: 'majority' },
  readPreference: 'primary',
};

/**
 * Runs `work` in one multi-document transaction with the driver's `withTransaction`, which
 * re-runs it on transient errors (write conflicts), so `work` must be safe to repeat. An
 * unreachable server is turned into STORE_UNAVAILABLE inside the callback: that error carries
 * no transient label, so the call fails fast instead of retrying for the driver's two minutes. A write conflict or duplicate key that escapes
 * `work` becomes `lostRace()`, never a raw driver error.
 */
export async function runTransaction<T>(
  client: MongoClient,
  location: string,
  work: (session: ClientSession) => Promise<T>,
  lostRace: () => Error,
): Promise<T> {
  let session: ClientSession;
  try {
    session = client.startSession();
  } catch (error) {
    throw toStoreError(error, location);
  }
  // The error that ended the last attempt when the server was out of reach. The driver may
  // replace it on the way out (an abort after a failed commit is itself an error).
  let unavailable: Error | undefined;
  try {
    let result: T | undefined;
    let done = false;
    await session.withTransaction(async (s) => {
      unavailable = undefined;
      try {
        result = await work(s);
        // Committed here rather than by withTransaction, whose commit retries an unknown
        // result for two minutes: a commit that cannot reach the server fails fast too. A
        // write conflict at commit keeps its transient label, so the driver still re-runs.
        await s.commitTransaction();
        done = true;
      } catch (error) {
        if (isUnavailable(error)) throw (unavailable = unavailableError(error, location));
        throw error;
      }
    }, TRANSACTION_OPTIONS);
    if (!done) throw new Error('the transaction ended without running its work');
    return result as T;
  } catch (error) {
    if (unavailable !== undefined) throw unavailable;
    // A write conflict or duplicate key that outlived the driver's retries is a lost race.
    if (error instanceof MongoServerError && (error.code === WRITE_CONFLICT || error.code === DUPLICATE_KEY)) {
      throw lostRace();
    }
    throw toStoreError(error, location);
  } finally {
    await session.endSession().catch(() => undefined);
  }
}
