/** A span's outcome as the tracer records it. */
export interface SpanEnd {
  readonly error?: string;
  readonly attributes?: Readonly<Record<string, string | number | boolean>>;
}

/** The RPC's root span; its trace id and `traceparent` become the call scope's trace fields. */
export interface RpcSpan {
  readonly traceId: string | undefined;
  readonly traceparent: string | undefined;
  /** Opaque handle children are started under. */
  readonly handle: unknown;
  end(outcome: SpanEnd & { readonly grpcCode: number }): void;
}

/** A span that starts none of its own, ended by its caller. */
export interface LeafSpan {
  end(): void;
  /** Ends the span with status ERROR and the error's message. */
  fail(error: unknown): void;
}

/**
 * Tracing as the server uses it. `noTracing` (the default) creates no spans and loads no span code:
 * it only carries the caller's `traceparent` through to logs and adapters.
 */
export interface Tracing {
  readonly enabled: boolean;
  startRpc(method: string, incomingTraceparent: string | undefined, attributes: Readonly<Record<string, string>>): RpcSpan;
  /**
   * Runs `fn` in a child span of the current call's innermost span (or just runs it outside a
   * call); the spans `fn` starts are children of this one. Frozen `attributes` are taken to be
   * shared by every span of that name (see `SpanRecord`).
   */
  inSpan<T>(name: string, attributes: Readonly<Record<string, string | number | boolean>>, fn: () => Promise<T>): Promise<T>;
  /**
   * Starts a child span of the current call's innermost span that starts none of its own (a
   * store call); undefined outside a traced call. Cheaper than `inSpan`: no scope of its own and
   * no promise of its own.
   */
  startLeaf(name: string, attributes: Readonly<Record<string, string | number | boolean>>): LeafSpan | undefined;
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}
