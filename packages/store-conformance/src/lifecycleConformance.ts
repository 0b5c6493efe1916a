import { FEED_START } from '@nexus-control/core';
import { describe, expect, it } from 'vitest';
import type { ConformanceContext } from './conformanceContext.js';
import { approveRequest, createRequest } from './fixtures.js';
import { eventually, pause } from './timing.js';

export function describeLifecycleConformance(ctx: ConformanceContext): void {
  describe('append notifications', () => {
    it('an onAppend listener is called after a successful append, and not after unsubscribing', async ({ skip }) => {
      const store = await ctx.newStore();
      if (store.onAppend === undefined) return skip('the store has no push notifications');
      let calls = 0;
      let sawEvents = true;
      const unsubscribe = store.onAppend(() => {
        calls++;
        // Called after the append: its events are readable already.
        void store.headCheckpoint().then((head) => {
          if (head === FEED_START) sawEvents = false;
        });
      });
      await store.append(createRequest('d1'));
      await eventually(() => calls >= 1);
      const afterCreate = calls;
      await store.append(approveRequest('d1', 2, 'a'));
      await eventually(() => calls > afterCreate);
      expect(sawEvents).toBe(true);

      unsubscribe();
      const before = calls;
      await store.append(approveRequest('d1', 3, 'b'));
      await pause(50);
      expect(calls).toBe(before);
    });
  });

  describe('closing', () => {
    it('after close, calls reject', async () => {
      const store = await ctx.newStore();
      await store.append(createRequest('d1'));
      await ctx.closeNow(store);
      await expect(store.readEvents('d1')).rejects.toBeDefined();
      await expect(store.append(approveRequest('d1', 2, 'a'))).rejects.toBeDefined();
      await expect(store.listDecisions()).rejects.toBeDefined();
    });
  });
}
