import { canonicalJson } from '../json/canonicalJson.js';
import { sha256Hex } from '../json/digest.js';
import type { JsonObject } from '../json/JsonValue.js';
import type { Actor, DecisionEventType, DecisionPayloads, NewEvent } from './DecisionEvent.js';

/**
 * Event digest (reference-compatible): SHA-256 of canonical `{"event_type","payload"}`.
 * Built from the payload's canonical text so the payload is canonicalized once per event.
 */
export function eventDigestFromPayloadJson(type: string, payloadJson: string): string {
  return sha256Hex(`{"event_type":${JSON.stringify(type)},"payload":${payloadJson}}`);
}

/** Builds an event ready to append: canonical payload text and digest computed once here. */
export function newEvent<T extends DecisionEventType>(
  type: T,
  payload: DecisionPayloads[T] | JsonObject,
  actor: Actor,
  ts: string,
): NewEvent {
  const generic = payload as unknown as JsonObject;
  const payloadJson = canonicalJson(generic);
  return { type, ts, actor, payload: generic, payloadJson, digest: eventDigestFromPayloadJson(type, payloadJson) };
}
