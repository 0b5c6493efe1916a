import type { JsonObject } from '../json/JsonValue.js';

/** The request compiled for the router at execution time (SPEC §3). */
export interface RouterRequest extends JsonObject {
  goal: string;
  adapter_id: string;
  dry_run: boolean;
}

/** What a router returns: at least these keys; the digest covers the whole object. */
export interface RouterResponse extends JsonObject {
  run_id: string;
  status: string;
  steps_executed: number;
}

export interface RunOptions {
  /** Aborted when the caller gives up (deadline, shutdown); adapters stop their work. */
  readonly signal?: AbortSignal;
  /**
   * Which run this is: `executionId` is stable for the run and new for a retry, so an adapter
   * can refuse to repeat a side effect it already performed (see the README's operations section).
   */
  readonly execution?: { readonly decisionId: string; readonly executionId: string };
}

/** One way of executing: declares its capabilities (`dry_run`, `apply`, `timeout`, `external`, …). */
export interface RouterAdapter {
  readonly id: string;
  readonly capabilities: readonly string[];
  /**
   * `false` only for an adapter whose run changes nothing outside this server (the built-in
   * `null` adapter): its whole run is then recorded in one append, with no lease, and a lost
   * race may run it again. Any other value means the run may act on the world.
   */
  readonly sideEffects?: boolean;
  run(request: RouterRequest, options?: RunOptions): Promise<RouterResponse>;
}

export interface Router {
  adapter(id: string): RouterAdapter | undefined;
  adapters(): readonly RouterAdapter[];
}
