import { StoreFault } from './storeFault.js';

/** The extended result code better-sqlite3 attaches to its errors (`SQLITE_BUSY`, …), if any. */
export function sqliteCodeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

export function isUniqueViolation(error: unknown): boolean {
  const code = sqliteCodeOf(error);
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export function isBusy(error: unknown): boolean {
  const code = sqliteCodeOf(error);
  return code !== undefined && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/**
 * Turns a driver error into a fault with the contract's codes: an unreachable or locked
 * database is STORE_UNAVAILABLE (retryable), a damaged one STORE_CORRUPT. Faults pass through.
 */
export function toStoreFault(error: unknown, location: string): unknown {
  if (error instanceof StoreFault) return error;
  const code = sqliteCodeOf(error);
  if (code === undefined) return error;
  const message = error instanceof Error ? error.message : String(error);
  const details = { location, sqliteCode: code };
  if (isBusy(error)) {
    return new StoreFault('STORE_UNAVAILABLE', `${location} is locked by another writer: ${message}`, details, {
      cause: error,
    });
  }
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new StoreFault('STORE_CORRUPT', `${location} is not a Nexus Control SQLite database: ${message}`, details, {
      cause: error,
    });
  }
  // Reads write their rows as JSON in SQLite (json_array); only a value that is no text where
  // this store writes text, bytes put there behind its back, makes that fail.
  if (message.includes('JSON cannot hold BLOB values')) {
    return new StoreFault('STORE_CORRUPT', `${location} holds binary data where an event's text belongs`, details, { cause: error });
  }
  if (
    code.startsWith('SQLITE_IOERR') ||
    code.startsWith('SQLITE_CANTOPEN') ||
    code.startsWith('SQLITE_READONLY') ||
    code === 'SQLITE_FULL' ||
    code === 'SQLITE_PROTOCOL'
  ) {
    return new StoreFault('STORE_UNAVAILABLE', `${location} cannot be used: ${message}`, details, { cause: error });
  }
  return new StoreFault('INTERNAL', `${location}: ${message}`, details, { cause: error });
}
