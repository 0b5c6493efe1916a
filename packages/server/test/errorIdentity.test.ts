import { status } from '@grpc/grpc-js';
import {
  createMemoryEventStore,
  createNexusControl,
  createNullAdapter,
  createRouter,
  fixedClock,
  isConcurrencyConflict,
  isNexusError,
  NexusError,
  ConcurrencyConflictError,
  type EventStore,
} from '@nexus-control/core';
import { describe, expect, it } from 'vitest';
import { toServiceError } from '../src/errors/toServiceError.js';

/** A second, separately evaluated copy of core's error classes, as another install of core would bring. */
async function secondCopy(): Promise<typeof import('../../core/src/errors/NexusError.js')> {
  // The query string makes the module loader evaluate the file again as a separate module.
  const specifier = new URL('../../core/src/errors/NexusError.ts?second-copy', import.meta.url).href;
  return (await import(specifier)) as typeof import('../../core/src/errors/NexusError.js');
}

describe('error identity is the brand and the code, not the class object', () => {
  it('loads a really distinct copy of the classes', async () => {
    const copy = await secondCopy();
    expect(copy.NexusError).not.toBe(NexusError);
    expect(Object.getPrototypeOf(new copy.NexusError('INTERNAL', 'x'))).not.toBe(NexusError.prototype);
  });

  it('recognises errors of the other copy as NexusError and ConcurrencyConflictError', async () => {
    const copy = await secondCopy();
    const conflict = new copy.ConcurrencyConflictError('dec_1', { generation: 0, length: 2 }, { generation: 0, length: 3 });
    expect(isNexusError(conflict)).toBe(true);
    expect(isConcurrencyConflict(conflict)).toBe(true);
    expect(conflict instanceof NexusError).toBe(true);
    expect(conflict instanceof ConcurrencyConflictError).toBe(true);
    expect(new copy.NexusError('DECISION_NOT_FOUND', 'x') instanceof ConcurrencyConflictError).toBe(false);
    // Look-alikes without the brand, or with a code outside the table, are not ours.
    expect(isNexusError(Object.assign(new Error('x'), { code: 'DECISION_NOT_FOUND' }))).toBe(false);
    expect(isNexusError(Object.assign(new copy.NexusError('INTERNAL', 'x'), { code: 'NOT_A_CODE' }))).toBe(false);
  });

  it('maps errors of the other copy to their gRPC status and code', async () => {
    const copy = await secondCopy();
    const mapped = toServiceError(new copy.NexusError('DECISION_NOT_FOUND', 'decision dec_9 does not exist'));
    expect(mapped.grpcCode).toBe(status.NOT_FOUND);
    expect(mapped.code).toBe('DECISION_NOT_FOUND');
    expect(
      toServiceError(new copy.ConcurrencyConflictError('dec_1', { generation: 0, length: 1 }, { generation: 0, length: 2 })).grpcCode,
    ).toBe(status.ABORTED);
  });

  it('retries a command whose store throws the other copy’s conflict', async () => {
    const copy = await secondCopy();
    const real = createMemoryEventStore();
    let conflictsLeft = 2;
    const store: EventStore = Object.create(real, {
      append: {
        value: async (request: Parameters<EventStore['append']>[0]) => {
          if (request.expectedVersion.length > 0 && conflictsLeft > 0) {
            conflictsLeft--;
            throw new copy.ConcurrencyConflictError(request.decisionId, request.expectedVersion, request.expectedVersion);
          }
          return real.append(request);
        },
      },
    }) as EventStore;
    const nexus = createNexusControl({
      store,
      clock: fixedClock('2025-03-01T12:00:00+00:00'),
      router: createRouter([createNullAdapter()]),
    });
    const { decisionId } = await nexus.request({ goal: 'g' }, { actor: { type: 'human', id: 'req' } });
    const view = await nexus.approve(decisionId, {}, { actor: { type: 'human', id: 'alice' } });
    expect(conflictsLeft).toBe(0);
    expect(view.status).toBe('approved');
    expect(await real.readEvents(decisionId)).toHaveLength(3);
  });
});
