import { ConcurrencyConflictError, NexusError } from '@nexus-control/core';
import { describe, expect, it } from 'vitest';
import { isRaceLost, isUniqueViolation, toStoreError } from '../src/pgErrors.js';

const pgError = (code: string, message = 'failed', constraint?: string) =>
  Object.assign(new Error(message), { code, ...(constraint === undefined ? {} : { constraint }) });

describe('mapping driver errors', () => {
  it('maps an unreachable or stopping database to STORE_UNAVAILABLE', () => {
    for (const error of [
      pgError('57P01', 'terminating connection due to administrator command'),
      pgError('57P03', 'the database system is shutting down'),
      pgError('08006'),
      pgError('57014', 'canceling statement due to statement timeout'),
      pgError('28P01', 'password authentication failed'),
      pgError('3D000', 'database "x" does not exist'),
      pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
    ]) {
      expect(toStoreError(error, 'db', []).code, String(error.message)).toBe('STORE_UNAVAILABLE');
    }
  });

  it('maps anything else to INTERNAL, never passing a raw driver error on', () => {
    for (const error of [pgError('42P01', 'relation "events" does not exist'), new TypeError('x is not a function'), 'thrown text']) {
      const mapped = toStoreError(error, 'db', []);
      expect(mapped).toBeInstanceOf(NexusError);
      expect(mapped.code).toBe('INTERNAL');
    }
  });

  it('keeps our own errors as they are', () => {
    const conflict = new ConcurrencyConflictError('d', { generation: 0, length: 1 }, undefined);
    expect(toStoreError(conflict, 'db', [])).toBe(conflict);
  });

  it('removes every secret from the message', () => {
    const mapped = toStoreError(new Error('Connection terminated for user:hunter2@host'), 'postgres://user:***@host/db', ['hunter2']);
    expect(mapped.message).not.toContain('hunter2');
    expect(mapped.message).toContain('***');
  });

  it('recognises lost races and unique violations by SQLSTATE and constraint', () => {
    expect(isRaceLost(pgError('40001'))).toBe(true);
    expect(isRaceLost(pgError('40P01'))).toBe(true);
    expect(isRaceLost(pgError('23505'))).toBe(false);
    expect(isUniqueViolation(pgError('23505', 'dup', 'idempotency_keys_pkey'), 'idempotency_keys_pkey')).toBe(true);
    expect(isUniqueViolation(pgError('23505', 'dup', 'templates_pkey'), 'idempotency_keys_pkey')).toBe(false);
  });
});
