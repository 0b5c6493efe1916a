import { parseTraceparent } from './callScope.js';
import type { Tracing } from './Tracing.js';

/** Tracing off: no spans, but the caller's trace context still reaches logs and adapters. */
export const noTracing: Tracing = {
  enabled: false,
  startRpc(_method, incoming) {
    const parsed = parseTraceparent(incoming);
    return { traceId: parsed?.traceId, traceparent: parsed ? incoming!.trim().toLowerCase() : undefined, handle: undefined, end() {} };
  },
  inSpan: (_name, _attributes, fn) => fn(),
  startLeaf: () => undefined,
  shutdown: async () => {},
};
