import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { otlpTraceJson } from './otlpTraceJson.js';
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
  const timeoutMs = options.timeoutMs ?? 10_000;
  const target = describeEndpoint(options.endpoint);
  const headers = { ...options.headers, 'content-type': 'application/json' };
  const url = new URL(options.endpoint);
  // One export at a time, so one connection, kept open between exports.
  const agent = new (url.protocol === 'https:' ? HttpsAgent : HttpAgent)({ keepAlive: true, maxSockets: 1 });
  let queue: SpanRecord[] = [];
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

  async function post(batch: SpanRecord[]): Promise<'sent' | 'retry' | 'refused'> {
    try {
      const status = await send(Buffer.from(otlpTraceJson(options.serviceName, SCOPE_NAME, batch), 'utf8'));
      if (status >= 200 && status < 300) return 'sent';
      report('status', `the trace collector at ${target} answered HTTP ${status} to an export of ${batch.length} spans`);
      return RETRYABLE.has(status) ? 'retry' : 'refused';
    } catch (error) {
      report('unreachable', `cannot export ${batch.length} spans to the trace collector at ${target}: ${(error as Error).message}`);
      return 'retry';
    }
  }

  /**
   * One POST on a kept-alive connection; resolves with the status once the answer is read.
   * `node:http` rather than `fetch`: on Node 20, fetch spent three to four times the CPU per
   * export, on the event loop the traced calls share.
   */
  function send(body: Buffer): Promise<number> {
    return new Promise((resolve, reject) => {
      const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
        url,
        { method: 'POST', agent, headers: { ...headers, 'content-length': body.length }, timeout: timeoutMs },
        (response) => {
          response.resume();
          response.once('end', () => resolve(response.statusCode ?? 0));
          response.once('error', reject);
        },
      );
      request.once('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      request.once('error', reject);
      request.end(body);
    });
  }

  /** Sends queued spans batch by batch until the queue is empty or the collector needs a pause. */
  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      const outcome = await post(batch);
      if (outcome === 'retry') {
        // Back in front, as far as the queue's bound allows; the next tick tries again.
        const room = Math.max(0, maxQueue - queue.length);
        if (room < batch.length) dropped += batch.length - room;
        queue = batch.slice(0, room).concat(queue);
        break;
      }
    }
    if (dropped > 0) {
      report('dropped', `dropped ${dropped} spans: the trace collector at ${target} did not keep up`);
      dropped = 0;
    }
  }

  function flush(): void {
    soon = undefined;
    if (inFlight !== undefined || queue.length === 0) return;
    inFlight = drain().finally(() => {
      inFlight = undefined;
    });
  }

  const timer = setInterval(flush, options.intervalMs);
  timer.unref();

  return {
    add(span) {
      if (stopped) return;
      if (queue.length >= maxQueue) {
        dropped++;
        return;
      }
      queue.push(span);
      if (queue.length >= maxBatch && soon === undefined && inFlight === undefined) soon = setImmediate(flush);
    },
    async shutdown() {
      stopped = true;
      clearInterval(timer);
      if (soon !== undefined) clearImmediate(soon);
      await inFlight;
      if (queue.length > 0) await drain();
      agent.destroy();
      if (queue.length > 0) throw new Error(`${queue.length} spans could not be exported to ${target}`);
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
