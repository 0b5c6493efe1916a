import type { Actor, DecisionEventType, DecisionPayloads, NewEvent } from '../../events/DecisionEvent.js';
import { newEvent } from '../../events/newEvent.js';
import type { JsonObject } from '../../json/JsonValue.js';
import { checkEvent } from '../eventRules.js';

/**
 * An event a command writes, checked against the same rules an import applies
 * (`eventRules.ts`), so the two cannot drift: what commands write always imports.
 */
export function commandEvent<T extends DecisionEventType>(type: T, payload: DecisionPayloads[T], actor: Actor, ts: string): NewEvent {
  checkEvent({ type, ts, actor, payload });
  return newEvent(type, payload as unknown as JsonObject, actor, ts);
}
