import type { ConcurrencyConflictError } from '@nexus-control/core';
import { expect } from 'vitest';
import { expectNexusError } from './expectNexusError.js';

/** Awaits `promise`, expecting a lost optimistic race: CONCURRENCY_CONFLICT naming the decision and the version expected. */
export async function expectConflict(promise: Promise<unknown>): Promise<ConcurrencyConflictError> {
  const error = (await expectNexusError(promise, 'CONCURRENCY_CONFLICT')) as ConcurrencyConflictError;
  expect(typeof error.decisionId).toBe('string');
  expect(error.expected).toEqual({ generation: expect.any(Number), length: expect.any(Number) });
  return error;
}
