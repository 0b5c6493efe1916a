import type { ErrorCode, NexusError } from '@nexus-control/core';
import { expect } from 'vitest';

/**
 * Awaits `promise`, expecting it to reject with a NexusError of `code`; returns the error.
 * Identity is by code, not `instanceof`, so a store built against another copy of core passes.
 */
export async function expectNexusError(promise: Promise<unknown>, code: ErrorCode): Promise<NexusError> {
  const outcome = await promise.then(
    (value: unknown) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  expect(outcome.ok, `expected a rejection with ${code}`).toBe(false);
  const error = (outcome as { error: unknown }).error;
  expect(error).toBeInstanceOf(Error);
  expect((error as { code?: unknown }).code, (error as Error).message).toBe(code);
  return error as NexusError;
}
