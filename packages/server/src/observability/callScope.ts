import { AsyncLocalStorage } from 'node:async_hooks';

/** What one RPC shares with everything it runs: log fields, the trace, conflict bookkeeping. */
export interface CallState {
  readonly requestId: string;
  /** 32 hex digits, or undefined when the call carries no trace and tracing is off. */
  readonly traceId: string | undefined;
  /** Store appends of this call that lost an optimistic race. */
  conflicts: number;
}

export interface CallScope {
  readonly call: CallState;
  /** W3C `traceparent` of the innermost open span (or the caller's, when tracing is off). */
  readonly traceparent: string | undefined;
  /** The tracing implementation's handle on the innermost open span. */
  readonly span: unknown;
}

const storage = new AsyncLocalStorage<CallScope>();

export function currentScope(): CallScope | undefined {
  return storage.getStore();
}

export function runInScope<T>(scope: CallScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/** The `traceparent` an adapter passes on so that the executor's own work joins the call's trace. */
export function currentTraceparent(): string | undefined {
  return storage.getStore()?.traceparent;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The trace id of a valid W3C `traceparent` (version 00, ids not all zero), else undefined. */
export function parseTraceparent(value: string | undefined): { traceId: string; spanId: string; flags: string } | undefined {
  if (value === undefined) return undefined;
  const match = TRACEPARENT.exec(value.trim().toLowerCase());
  if (!match || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!)) return undefined;
  return { traceId: match[1]!, spanId: match[2]!, flags: match[3]! };
}
