import type { BeforeCommitHook } from '@nexus-control/core';

/** A `beforeCommit` hook that holds the appends to one decision until released. */
export interface CommitHold {
  readonly hook: BeforeCommitHook;
  /** Resolves when an append to the held decision is waiting in the hook. */
  readonly entered: Promise<void>;
  /** Lets every held append (and every later one) go on to its commit. */
  release(): void;
}

export function createCommitHold(decisionId: string): CommitHold {
  let signalEntered!: () => void;
  let release!: () => void;
  const entered = new Promise<void>((resolve) => (signalEntered = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  return {
    hook: async (id) => {
      if (id !== decisionId) return;
      signalEntered();
      await released;
    },
    entered,
    release,
  };
}
