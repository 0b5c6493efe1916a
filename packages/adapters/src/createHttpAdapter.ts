import { canonicalJson, type RouterAdapter, type RouterRequest, type RouterResponse, type RunOptions } from '@nexus-control/core';
import { DEFAULT_ADAPTER_CAPABILITIES } from './defaultCapabilities.js';
import { readRouterResponse, tail } from './readRouterResponse.js';

export interface HttpAdapterOptions {
  readonly id: string;
  readonly url: string;
  /** Extra request headers (e.g. an authorization header for the executor). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly capabilities?: readonly string[];
  /** A larger response body is an error (default 16 MiB). */
  readonly maxResponseBytes?: number;
  /**
   * The W3C \`traceparent\` of the call the run belongs to, if any: passed on to the executor
   * (a `traceparent` header) so that its own work joins the call's trace.
   */
  readonly traceparent?: () => string | undefined;
}

/**
 * POSTs the compiled router request as canonical JSON to a configured URL and expects a 2xx
 * answer whose body is the router response (a JSON object). Redirects are not followed; a
 * timeout, a non-2xx status or an unreadable body fails the run.
 */
export function createHttpAdapter(options: HttpAdapterOptions): RouterAdapter {
  const maxBytes = options.maxResponseBytes ?? 16 * 1024 * 1024;
  const label = `adapter '${options.id}' (${options.url})`;

  async function readBody(response: Response): Promise<string> {
    if (!response.body) return '';
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      total += chunk.length;
      if (total > maxBytes) throw new Error(`${label} answered with more than ${maxBytes} bytes`);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  return {
    id: options.id,
    capabilities: Object.freeze([...(options.capabilities ?? DEFAULT_ADAPTER_CAPABILITIES)]),
    async run(request: RouterRequest, runOptions: RunOptions = {}): Promise<RouterResponse> {
      const timeout = AbortSignal.timeout(options.timeoutMs);
      const signal = runOptions.signal ? AbortSignal.any([timeout, runOptions.signal]) : timeout;
      let response: Response;
      let text: string;
      // The executor's own work joins the call's trace (W3C trace context).
      const traceparent = options.traceparent?.();
      try {
        response = await fetch(options.url, {
          method: 'POST',
          headers: {
            ...options.headers,
            'content-type': 'application/json',
            accept: 'application/json',
            'x-nexus-adapter-id': options.id,
            // Percent-encoded: ids may hold characters a header value cannot.
            ...(runOptions.execution
              ? {
                  'x-nexus-decision-id': encodeURIComponent(runOptions.execution.decisionId),
                  'x-nexus-execution-id': encodeURIComponent(runOptions.execution.executionId),
                }
              : {}),
            // The executor's own work joins the call's trace (W3C trace context).
            ...(traceparent ? { traceparent } : {}),
          },
          body: canonicalJson(request),
          redirect: 'error',
          signal,
        });
        text = await readBody(response);
      } catch (error) {
        if (timeout.aborted) throw new Error(`${label} timed out after ${options.timeoutMs} ms`, { cause: error });
        if (runOptions.signal?.aborted) throw new Error(`${label} was cancelled`, { cause: error });
        const cause = (error as Error & { cause?: Error }).cause;
        throw new Error(`${label} failed: ${(error as Error).message}${cause?.message ? ` (${cause.message})` : ''}`, { cause: error });
      }
      if (!response.ok) throw new Error(`${label} answered HTTP ${response.status}${text.trim() ? `: ${tail(text, 1_000)}` : ''}`);
      return readRouterResponse(text, label);
    },
  };
}
