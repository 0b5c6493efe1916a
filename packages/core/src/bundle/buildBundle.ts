import { replayDecision } from '../domain/replay.js';
import type { Actor, DecisionEventType } from '../events/DecisionEvent.js';
import { eventId } from '../events/DecisionEvent.js';
import { NexusError } from '../errors/NexusError.js';
import { prefixDigest } from '../json/digest.js';
import type { JsonObject } from '../json/JsonValue.js';
import { canonicalBundleDigest, canonicalizeBundle } from './canonicalBundle.js';
import { deriveSections } from './deriveSections.js';
import { provenanceRecord } from './digests.js';
import { BUNDLE_EXPORT_METHOD_ID, BUNDLE_VERSION, type BundleEvent, type DecisionBundle } from './types.js';

/** What a bundle is built from: a stored event (or anything shaped like one). */
export interface BundleSourceEvent {
  readonly seq: number;
  readonly type: DecisionEventType | string;
  readonly ts: string;
  readonly actor: Actor;
  readonly payload: JsonObject;
  /** Canonical payload text, as stored; reused for the bundle digest. */
  readonly payloadJson: string;
  readonly digest: string;
}

/**
 * Builds the v0.5 bundle of a decision from its log (pure). Everything under `integrity` is a
 * function of the events alone; only `meta.exported_at` depends on the export instant.
 * Status is the replayed state evaluated at the last event's `ts`, so the digest does not
 * depend on when the export runs.
 */
export function buildBundle(decisionId: string, events: readonly BundleSourceEvent[], exportedAt: string): DecisionBundle {
  const first = events[0];
  if (!first) throw new NexusError('DECISION_NOT_FOUND', `decision ${decisionId} has no events`, { decisionId });
  const view = replayDecision(events.map((e) => ({ decisionId, seq: e.seq, type: e.type, ts: e.ts, actor: e.actor, payload: e.payload })));
  const { decision, template_snapshot, router_link } = deriveSections(decisionId, view, first.ts);

  const bundleEvents: BundleEvent[] = events.map((e) => ({
    event_id: eventId(decisionId, e.seq),
    decision_id: decisionId,
    seq: e.seq,
    type: e.type,
    payload: e.payload,
    ts: e.ts,
    actor: { type: e.actor.type, id: e.actor.id },
    digest: e.digest,
  }));

  const content = {
    bundle_version: BUNDLE_VERSION as typeof BUNDLE_VERSION,
    decision,
    events: bundleEvents,
    template_snapshot,
    router_link,
  };
  const digest = canonicalBundleDigest(
    canonicalizeBundle(
      content as unknown as JsonObject,
      events.map((e) => e.payloadJson),
    ),
  );
  return {
    ...content,
    integrity: { alg: 'sha256', canonical_digest: prefixDigest(digest) },
    provenance: { records: [provenanceRecord(BUNDLE_EXPORT_METHOD_ID, decisionId, 'bundle', digest)] },
    meta: { exported_at: exportedAt },
  };
}
