/**
 * Lets one asynchronous section own the connection at a time. An import holds its
 * transaction open across an `await` (its `verify` may be async); anything else run on the
 * same connection meanwhile would join that transaction, so every other call waits first.
 */
export interface ExclusiveGate {
  /** True while an exclusive section runs. */
  readonly isOpen: boolean;
  /** Resolves once no exclusive section runs; run the synchronous work right after. */
  whenClear(): Promise<void>;
  exclusive<T>(section: () => Promise<T>): Promise<T>;
}

export function createExclusiveGate(): ExclusiveGate {
  let running: Promise<void> | undefined;
  return {
    get isOpen() {
      return running !== undefined;
    },
    async whenClear() {
      while (running !== undefined) await running;
    },
    async exclusive<T>(section: () => Promise<T>): Promise<T> {
      while (running !== undefined) await running;
      let release!: () => void;
      running = new Promise<void>((resolve) => {
        release = resolve;
      });
      try {
        return await section();
      } finally {
        running = undefined;
        release();
      }
    },
  };
}
