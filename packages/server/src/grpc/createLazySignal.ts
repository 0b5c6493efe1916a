export interface LazySignal {
  /** The signal, made on the first call; already aborted if `abort` came first. */
  readonly get: () => AbortSignal;
  /** Fires the signal with `reason` (the first reason wins), or has it made fired. */
  readonly abort: (reason: Error) => void;
}

/**
 * A call's cancellation signal, made only when a handler asks for it: most calls never look at
 * theirs, and an AbortSignal per call was the largest share of what a busy server's calls left
 * for the old generation (a call outlives a scavenge or two while its store write syncs).
 */
export function createLazySignal(): LazySignal {
  let controller: AbortController | undefined;
  let firedWith: Error | undefined;
  return {
    get() {
      if (controller === undefined) {
        controller = new AbortController();
        if (firedWith !== undefined) controller.abort(firedWith);
      }
      return controller.signal;
    },
    abort(reason) {
      if (firedWith !== undefined) return;
      firedWith = reason;
      controller?.abort(reason);
    },
  };
}
