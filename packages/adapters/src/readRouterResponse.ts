import { isJsonObject, parseJson, type RouterResponse } from '@nexus-control/core';

/**
 * Parses an adapter's output losslessly (integers and floats keep their identity, so the
 * recorded response digest is the digest of exactly what the executor said). The control
 * plane checks `run_id`, `status` and `steps_executed` itself.
 */
export function readRouterResponse(text: string, source: string): RouterResponse {
  let value;
  try {
    value = parseJson(text.trim());
  } catch (error) {
    throw new Error(`${source} did not return JSON: ${(error as Error).message}`, { cause: error });
  }
  if (!isJsonObject(value)) throw new Error(`${source} returned JSON that is not an object`);
  return value as RouterResponse;
}

/** The end of a long text, for error messages. */
export function tail(text: string, max = 2_000): string {
  const trimmed = text.trim();
  return trimmed.length <= max ? trimmed : '…' + trimmed.slice(-max);
}
