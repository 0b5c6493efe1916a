import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createSpanQueue, type SpanBatch } from './createSpanQueue.js';
import { otlpTraceEnvelope } from './otlpTraceJson.js';
import type { SpanRecord } from './SpanRecord.js';

export interface SpanExporterOptions {
  /** The collector's OTLP/HTTP traces URL. */
  readonly endpoint: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly serviceName: string;
  /** How long finished spans wait to be sent together. */
  readonly intervalMs: number;
  /** Spans kept while the collector is slow or away; past this, new spans are dropped and counted. */
  readonly maxQueue?: number;
  /** Spans per export request. */
  readonly maxBatch?: number;
  /** Bytes of span text per export request (a batch closes once past it). */
  readonly maxBatchBytes?: number;
  /** Per export request. */
  readonly timeoutMs?: number;
  /** A failed or refused export, or spans dropped: one short sentence, never the headers; each kind at most once a minute. */
  readonly onProblem?: (message: string) => void;
}

export interface SpanExporter {
  add(span: SpanRecord): void;
  /** Sends everything queued (waiting for an export in flight first), then stops the timer. */
  shutdown(): Promise<void>;
}

const SCOPE_NAME = 'nexus-control';
/** Statuses after which the collector asks to be tried again later (OTLP/HTTP). */
const RETRYABLE = new Set([429, 502, 503, 504]);
const REPORT_INTERVAL_MS = 60_000;

/**
 * Batches finished spans and posts them to an OTLP/HTTP collector as JSON, one request at a
 * time: every `intervalMs`, or sooner once a batch is full. A collector that is away or asks
 * for a retry keeps the spans queued (up to `maxQueue`) for the next attempt; one that refuses
 * them outright loses that batch. Nothing here ever throws into a call being traced.
 */
export function createSpanExporter(options: SpanExporterOptions): SpanExporter {
  const maxQueue = options.maxQueue ?? 4096;
  const maxBatch = options.maxBatch ?? 1024;
  const queue = createSpanQueue({ maxQueue, maxBatch, maxBatchBytes: options.maxBatchBytes ?? 1024 * 1024 });
  const { before, after } = otlpTraceEnvelope(options.serviceName, SCOPE_NAME);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const target = describeEndpoint(options.endpoint);
  const headers = { ...options.headers, 'content-type': 'application/json' };
  const url = new URL(options.endpoint);
  // One export at a time, so one connection, kept open between exports.
  const agent = new (url.protocol === 'https:' ? HttpsAgent : HttpAgent)({ keepAlive: true, maxSockets: 1 });
  let dropped = 0;
  let inFlight: Promise<void> | undefined;
  let stopped = false;
  let soon: NodeJS.Immediate | undefined;

  // A collector that stays away would otherwise be reported at every tick: each kind of
  // problem is reported at most once a minute.
  const lastReports = new Map<string, { at: number; suppressed: number }>();
  const report = (about: 'status' | 'unreachable' | 'dropped', message: string) => {
    const now = Date.now();
    const last = lastReports.get(about);
    if (last !== undefined && now - last.at < REPORT_INTERVAL_MS) {
      last.suppressed++;
      return;
    }
    const note = last !== undefined && last.suppressed > 0 ? ` (${last.suppressed} more like it in the last minute)` : '';
    lastReports.set(about, { at: now, suppressed: 0 });
    try {
      options.onProblem?.(message + note);
    } catch {
      // A reporting failure must not stop the export.
    }
  };

  async function post(batch: SpanBatch): Promise<'sent' | 'retry' | 'refused'> {
    try {
      const status = await send(batch);
      if (status >= 200 && status < 300) return 'sent';
      report('status', `the trace collector at ${target} answered HTTP ${status} to an export of ${batch.count} spans`);
      return RETRYABLE.has(status) ? 'retry' : 'refused';
    } catch (error) {
      report('unreachable', `cannot export ${batch.count} spans to the trace collector at ${target}: ${(error as Error).message}`);
      return 'retry';
    }
  }

  /**
   * One POST on a kept-alive connection; resolves with the status once the answer is read.
   * `node:http` rather than `fetch`: on Node 20, fetch spent three to four times the CPU per
   * export, on the event loop the traced calls share.
   */
  function send(batch: SpanBatch): Promise<number> {
    return new Promise((resolve, reject) => {
      const length = before.length + batch.length + after.length;
      const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
        url,
        { method: 'POST', agent, headers: { ...headers, 'content-length': length }, timeout: timeoutMs },
        (response) => {
          response.resume();
          response.once('end', () => resolve(response.statusCode ?? 0));
          response.once('error', reject);
        },
      );
      request.once('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      request.once('error', reject);
      request.write(before);
      request.write(batch.bytes.subarray(0, batch.length));
      request.end(after);
    });
  }

  /** Sends queued spans batch by batch until they are sent or the collector needs a pause. */
  async function drain(): Promise<void> {
    // After the first, only full batches (or everything, when stopping): the one still
    // filling waits for the next tick, so a busy server sends few, large requests.
    for (let batch = queue.take(); batch !== undefined; batch = queue.hasFullBatch || stopped ? queue.take() : undefined) {
      const outcome = await post(batch);
      if (outcome === 'retry') {
        // Back in front while the queue's bound allows; the next tick tries again.
        if (!queue.putBack(batch)) dropped += batch.count;
        break;
      }
      // Sent or refused, the request has been written out: its bytes can be reused.
      queue.release(batch);
    }
    if (dropped > 0) {
      report('dropped', `dropped ${dropped} spans: the trace collector at ${target} did not keep up`);
      dropped = 0;
    }
  }

  function flush(): void {
    soon = undefined;
    if (inFlight !== undefined || queue.size === 0) return;
    inFlight = drain().finally(() => {
      inFlight = undefined;
    });
  }

  const timer = setInterval(flush, options.intervalMs);
  timer.unref();

  return {
    add(span) {
      if (stopped) return;
      if (!queue.add(span)) {
        dropped++;
        return;
      }
      if (queue.hasFullBatch && soon === undefined && inFlight === undefined) soon = setImmediate(flush);
    },
    async shutdown() {
      stopped = true;
      clearInterval(timer);
      if (soon !== undefined) clearImmediate(soon);
      await inFlight;
      if (queue.size > 0) await drain();
      agent.destroy();
      if (queue.size > 0) throw new Error(`${queue.size} spans could not be exported to ${target}`);
    },
  };
}

/** The endpoint for messages: scheme, host and path, never credentials or a query. */
function describeEndpoint(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return 'the configured endpoint';
  }
}
