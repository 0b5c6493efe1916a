import type { EventStore } from '@nexus-control/core';
import { describe, expect, it } from 'vitest';
import type { ConformanceContext } from './conformanceContext.js';
import { expectConflict } from './expectConflict.js';
import { expectNexusError } from './expectNexusError.js';
import { approveRequest, createdEvents, createRequest, failRunRequest, startRunRequest } from './fixtures.js';

const T0 = 1_800_000_000_000;
const EVERYTHING = Number.MAX_SAFE_INTEGER;

/** A decision with a run in progress at seq 2..3, leased to `owner` until `expiresAt`. */
async function startedRun(store: EventStore, decisionId: string, owner: string, expiresAt: number): Promise<void> {
  await store.append(createRequest(decisionId));
  await store.append(startRunRequest(decisionId, 2, { owner, expiresAt }));
}

export function describeLeaseConformance(ctx: ConformanceContext): void {
  const hasSecondHandle = ctx.harness.openSecondHandle !== undefined;

  describe('execution leases', () => {
    it('the append that starts a run takes its lease in the same transaction, naming the log and the requested seq', async () => {
      const store = await ctx.newStore();
      await startedRun(store, 'd1', 'replica-a', T0 + 30_000);
      expect(await store.listExpiredLeases(T0)).toEqual([]);
      expect(await store.listExpiredLeases(T0 + 30_000)).toEqual([
        { decisionId: 'd1', generation: 0, requestedSeq: 2, owner: 'replica-a', expiresAt: T0 + 30_000 },
      ]);
    });

    it('an append that loses its version check takes no lease', async () => {
      const store = await ctx.newStore();
      await store.append(createRequest('d1'));
      await store.append(approveRequest('d1', 2, 'alice'));
      await expectConflict(store.append(startRunRequest('d1', 2, { owner: 'replica-a', expiresAt: T0 })));
      expect(await store.listExpiredLeases(EVERYTHING)).toEqual([]);
    });

    it('the append that ends the run drops the lease with its events', async () => {
      const store = await ctx.newStore();
      await startedRun(store, 'd1', 'replica-a', T0);
      await store.append(failRunRequest('d1', 4));
      expect(await store.listExpiredLeases(EVERYTHING)).toEqual([]);
      expect(await store.renewLease('d1', 'replica-a', T0 + 60_000)).toBe(false);
      expect((await store.readEvents('d1')).map((e) => e.type).slice(-1)).toEqual(['EXECUTION_FAILED']);
    });

    it('the owner renews its lease, lapsed or not; anyone else cannot', async () => {
      const store = await ctx.newStore();
      await startedRun(store, 'd1', 'replica-a', T0);
      expect(await store.renewLease('d1', 'replica-b', T0 + 90_000)).toBe(false);
      expect(await store.renewLease('d1', 'replica-a', T0 + 30_000)).toBe(true);
      expect(await store.listExpiredLeases(T0 + 29_999)).toEqual([]);
      expect((await store.listExpiredLeases(T0 + 30_000)).map((l) => [l.owner, l.expiresAt])).toEqual([['replica-a', T0 + 30_000]]);
      expect(await store.renewLease('unknown', 'replica-a', T0 + 30_000)).toBe(false);
    });

    it('a lease that has not expired, or is held by someone else than the taker saw, cannot be taken over', async () => {
      const store = await ctx.newStore();
      await startedRun(store, 'd1', 'replica-a', T0 + 10_000);
      const grant = { owner: 'replica-b', expiresAt: T0 + 60_000 };
      expect(await store.takeOverLease({ decisionId: 'd1', fromOwner: 'replica-a', now: T0 + 9_999, grant })).toBe(false);
      expect(await store.takeOverLease({ decisionId: 'd1', fromOwner: 'replica-c', now: T0 + 10_000, grant })).toBe(false);
      expect(await store.takeOverLease({ decisionId: 'nothing', fromOwner: 'replica-a', now: T0 + 10_000, grant })).toBe(false);
      expect((await store.listExpiredLeases(EVERYTHING))[0]?.owner).toBe('replica-a');
    });

    it('of many concurrent takers of one lapsed lease exactly one gets it, and the old owner can no longer renew', async () => {
      const store = await ctx.newStore();
      await startedRun(store, 'd1', 'replica-a', T0);
      const takers = Array.from({ length: 8 }, (_, i) => `taker-${i}`);
      const results = await Promise.all(
        takers.map((owner) =>
          store.takeOverLease({ decisionId: 'd1', fromOwner: 'replica-a', now: T0 + 1, grant: { owner, expiresAt: T0 + 30_000 } }),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = takers[results.indexOf(true)]!;
      expect(await store.listExpiredLeases(EVERYTHING)).toEqual([
        { decisionId: 'd1', generation: 0, requestedSeq: 2, owner: winner, expiresAt: T0 + 30_000 },
      ]);
      expect(await store.renewLease('d1', 'replica-a', T0 + 90_000)).toBe(false);
    });

    it.runIf(hasSecondHandle)(
      'a lease taken on one handle lapses and is recovered through another handle, which alone then holds it',
      async () => {
        const store = await ctx.newStore();
        const other = (await ctx.secondHandle(store))!;
        await startedRun(store, 'd1', 'replica-a', T0);
        const [lapsed] = await other.listExpiredLeases(T0 + 5);
        expect(lapsed).toMatchObject({ decisionId: 'd1', owner: 'replica-a', requestedSeq: 2 });
        const grant = (owner: string) => ({ owner, expiresAt: T0 + 30_000 });
        const both = await Promise.all([
          other.takeOverLease({ decisionId: 'd1', fromOwner: 'replica-a', now: T0 + 5, grant: grant('replica-b') }),
          store.takeOverLease({ decisionId: 'd1', fromOwner: 'replica-a', now: T0 + 5, grant: grant('replica-c') }),
        ]);
        expect(both.filter(Boolean)).toHaveLength(1);
        const holder = both[0] ? 'replica-b' : 'replica-c';
        expect(await store.renewLease('d1', 'replica-a', T0 + 60_000)).toBe(false);
        await other.append(failRunRequest('d1', 4));
        expect(await store.listExpiredLeases(EVERYTHING)).toEqual([]);
        expect(await store.releaseLease('d1', holder)).toBe(false);
      },
    );

    it('releaseLease drops a lease only for its holder', async () => {
      const store = await ctx.newStore();
      await startedRun(store, 'd1', 'replica-a', T0);
      expect(await store.releaseLease('d1', 'replica-b')).toBe(false);
      expect(await store.listExpiredLeases(EVERYTHING)).toHaveLength(1);
      expect(await store.releaseLease('d1', 'replica-a')).toBe(true);
      expect(await store.listExpiredLeases(EVERYTHING)).toEqual([]);
    });

    it('an overwrite import drops the lease of the run on the replaced log', async () => {
      const store = await ctx.newStore();
      await startedRun(store, 'd1', 'replica-a', T0);
      const { header, events } = createdEvents('d1', { goal: 'replacement' });
      await store.importDecision({ header, events, status: 'pending_approval', conflictMode: 'overwrite' });
      expect(await store.listExpiredLeases(EVERYTHING)).toEqual([]);
    });

    it('lists lapsed leases earliest expiry first, up to the limit', async () => {
      const store = await ctx.newStore();
      await startedRun(store, 'd1', 'replica-a', T0 + 3);
      await startedRun(store, 'd2', 'replica-a', T0 + 1);
      await startedRun(store, 'd3', 'replica-b', T0 + 2);
      await startedRun(store, 'd4', 'replica-b', T0 + 50);
      expect((await store.listExpiredLeases(T0 + 10)).map((l) => l.decisionId)).toEqual(['d2', 'd3', 'd1']);
      expect((await store.listExpiredLeases(T0 + 10, 2)).map((l) => l.decisionId)).toEqual(['d2', 'd3']);
    });

    it('rejects malformed lease arguments with INVALID_ARGUMENT and changes nothing', async () => {
      const store = await ctx.newStore();
      await store.append(createRequest('d1'));
      await expectNexusError(store.append(startRunRequest('d1', 2, { owner: '', expiresAt: T0 })), 'INVALID_ARGUMENT');
      await expectNexusError(store.append(startRunRequest('d1', 2, { owner: 'a', expiresAt: 1.5 })), 'INVALID_ARGUMENT');
      await expectNexusError(store.append(startRunRequest('d1', 2, { owner: 'a\u0000b', expiresAt: T0 })), 'INVALID_ARGUMENT');
      expect(await store.readEvents('d1')).toHaveLength(2);
      await expectNexusError(store.renewLease('d1', 'a', -1), 'INVALID_ARGUMENT');
      await expectNexusError(store.listExpiredLeases(Number.NaN), 'INVALID_ARGUMENT');
      await expectNexusError(store.listExpiredLeases(T0, 0), 'INVALID_ARGUMENT');
      await expectNexusError(
        store.takeOverLease({ decisionId: 'd1', fromOwner: 'a', now: T0, grant: { owner: 'x'.repeat(257), expiresAt: T0 } }),
        'INVALID_ARGUMENT',
      );
      expect(await store.listExpiredLeases(EVERYTHING)).toEqual([]);
    });
  });
}
