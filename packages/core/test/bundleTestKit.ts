import { bundleDigest } from '../src/bundle/index.js';
import { createNexusControl } from '../src/domain/createNexusControl.js';
import { newEvent } from '../src/events/newEvent.js';
import type { NewEvent } from '../src/events/DecisionEvent.js';
import { formatTimestamp } from '../src/time/timestamp.js';
import type { NexusControl } from '../src/domain/NexusControlApi.js';
import type { Actor } from '../src/events/DecisionEvent.js';
import { JsonFloat, type JsonObject, type JsonValue } from '../src/json/JsonValue.js';
import { createNullAdapter } from '../src/router/createNullAdapter.js';
import { createRouter } from '../src/router/createRouter.js';
import type { RouterAdapter, RouterResponse } from '../src/router/Router.js';
import { createMemoryEventStore } from '../src/store/createMemoryEventStore.js';
import type { EventStore } from '../src/store/EventStore.js';
import { fixedClock, type ManualClock } from '../src/time/Clock.js';

/*
 * Real decisions for the bundle, audit and attestation tests: produced by the service itself
 * (request → approve → execute), never hand-assembled, so the formats are tested on what the
 * product writes.
 */

export const T0 = '2025-03-01T12:00:00+00:00';
export const ALICE: Actor = { type: 'human', id: 'alice' };
export const BOB: Actor = { type: 'human', id: 'bob' };
export const CAROL: Actor = { type: 'human', id: 'carol' };
export const REQUESTER: Actor = { type: 'human', id: 'requester' };

/** A router response holding what plain JSON would lose: integral floats, a tiny float, an int beyond 2^53. */
export const LOSSY_RESPONSE_EXTRAS: JsonObject = {
  ratio: new JsonFloat(1.0),
  tiny: 1e-7,
  huge: new JsonFloat(1e16),
  big_count: 9007199254740993n,
  nested: { values: [new JsonFloat(-0), 0.5, 12345678901234567890n], label: 'é😀' },
};

/** An adapter whose response carries `LOSSY_RESPONSE_EXTRAS`. */
export function lossyAdapter(id = 'lossy'): RouterAdapter {
  let runs = 0;
  return {
    id,
    capabilities: ['dry_run', 'apply'],
    async run(request): Promise<RouterResponse> {
      runs++;
      return { run_id: `run_lossy_${runs}`, status: 'completed', steps_executed: 3, dry_run: request.dry_run, ...LOSSY_RESPONSE_EXTRAS };
    },
  };
}

export interface Harness {
  readonly store: EventStore;
  readonly clock: ManualClock;
  readonly control: NexusControl;
}

export function harness(store: EventStore = createMemoryEventStore()): Harness {
  const clock = fixedClock(T0);
  const control = createNexusControl({ store, clock, router: createRouter([createNullAdapter(), lossyAdapter()]) });
  return { store, clock, control };
}

const SECOND = 1_000_000;

export interface DecisionOptions {
  readonly goal?: string;
  readonly approvers?: readonly Actor[];
  readonly minApprovals?: number;
  readonly adapterId?: string;
  /** Stop before executing. */
  readonly execute?: boolean;
  readonly templateName?: string;
  readonly plan?: string | null;
}

/** Request → approvals → execute (one second apart), returning the decision id. */
export async function makeDecision(h: Harness, options: DecisionOptions = {}): Promise<string> {
  const view = await h.control.request(
    {
      goal: options.goal ?? 'rotate the signing keys',
      plan: options.plan ?? 'step one\nstep two',
      mode: 'dry_run',
      ...(options.templateName === undefined
        ? { policy: { minApprovals: options.minApprovals ?? 1 } }
        : { templateName: options.templateName }),
    },
    { actor: REQUESTER },
  );
  for (const approver of options.approvers ?? [ALICE]) {
    h.clock.advance(SECOND);
    await h.control.approve(view.decisionId, { comment: `ok from ${approver.id}` }, { actor: approver });
  }
  if (options.execute ?? true) {
    h.clock.advance(SECOND);
    await h.control.execute(view.decisionId, { adapterId: options.adapterId ?? 'null' }, { actor: { type: 'system', id: 'scheduler' } });
  }
  return view.decisionId;
}

/** A deep copy that keeps bigints and JsonFloats as they are. */
export function cloneJson<T extends JsonValue>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => cloneJson(item)) as T;
  if (value !== null && typeof value === 'object' && !(value instanceof JsonFloat)) {
    const out: JsonObject = {};
    for (const [key, item] of Object.entries(value)) out[key] = cloneJson(item);
    return out as T;
  }
  return value;
}

/** A JSON object view of an exported document (its types are closed; tests poke at it generically). */
export function asJson(value: unknown): JsonObject {
  return cloneJson(value as JsonObject);
}

/** Everything a store shows, to compare before and after a failed import. */
export async function storeState(store: EventStore): Promise<string> {
  const page = await store.listDecisions({ limit: 500 });
  const feed = (await store.readFeed({ limit: 1_000_000 })).events;
  const logs = await Promise.all(page.items.map(async (d) => [d.decisionId, await store.readEvents(d.decisionId)] as const));
  return JSON.stringify({ page, feed, logs, head: await store.headCheckpoint() });
}

/** Recomputes a bundle's digest after an edit: what a forger who knows the format would do. */
export function reseal(bundle: JsonObject): JsonObject {
  const integrity = bundle['integrity'] as JsonObject;
  integrity['canonical_digest'] = `sha256:${bundleDigest(bundle)}`;
  return bundle;
}

/**
 * A long-lived decision of exactly `total` events: requested through the service, then waves
 * of approvals and revocations by 50 approvers appended straight to the store, then executed.
 */
export async function longDecision(h: Harness, total: number): Promise<string> {
  const view = await h.control.request(
    { goal: 'keep the gateway keys rotated', mode: 'dry_run', policy: { minApprovals: 3 } },
    { actor: REQUESTER },
  );
  const id = view.decisionId;
  const bulk = total - 2 - 3;
  const base = h.clock.now();
  const lastWave = Math.floor((bulk - 1) / 50);
  let seq = 2;
  const generation = (await h.store.getDecision(id))?.generation ?? 0;
  const batch: NewEvent[] = [];
  for (let k = 0; k < bulk; k++) {
    const wave = Math.floor(k / 50);
    const actor: Actor = { type: 'human', id: `approver-${k % 50}` };
    const ts = formatTimestamp(base + (k + 1) * 1000);
    batch.push(
      wave % 2 === 0 || wave === lastWave
        ? newEvent('APPROVAL_GRANTED', { expires_at: null, comment: `wave ${wave}` }, actor, ts)
        : newEvent('APPROVAL_REVOKED', { reason: 'superseded' }, actor, ts),
    );
    if (batch.length === 1000 || k === bulk - 1) {
      await h.store.append({ decisionId: id, expectedVersion: { generation, length: seq }, events: batch, status: 'approved' });
      seq += batch.length;
      batch.length = 0;
    }
  }
  h.clock.set(base + (bulk + 10) * 1000);
  await h.control.execute(id, { adapterId: 'lossy' }, { actor: { type: 'system', id: 'scheduler' } });
  return id;
}
