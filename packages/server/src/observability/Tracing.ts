/** A span's outcome as the tracer records it. */
export interface SpanEnd {
  readonly error?: string;
  readonly attributes?: Readonly<Record<string, string | number | boolean>>;
}

/** The RPC's root span; `scopeFields` become the call scope's trace fields. */
export interface RpcSpan {
  readonly traceId: string | undefined;
  readonly traceparent: string | undefined;
  /** Opaque handle children are started under. */
  readonly handle: unknown;
  end(outcome: SpanEnd & { readonly grpcCode: number }): void;
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
   * call). A `leaf` span starts no spans of its own, so `fn` runs in the caller's scope.
   */
  inSpan<T>(
    name: string,
    attributes: Readonly<Record<string, string | number | boolean>>,
    fn: () => Promise<T>,
    leaf?: boolean,
  ): Promise<T>;
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}
