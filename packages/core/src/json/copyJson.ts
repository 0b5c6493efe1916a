import { NexusError } from '../errors/NexusError.js';
import { JsonFloat, type JsonObject, type JsonValue } from './JsonValue.js';

/**
 * A deep copy that keeps JSON identity (bigint, JsonFloat) and own `__proto__` keys; frozen
 * on request, so a store can keep what it was given out of every caller's reach.
 */
export function copyJson(value: JsonValue, freeze = false): JsonValue {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
      return value;
    case 'object': {
      let copy: JsonValue;
      if (value instanceof JsonFloat) {
        copy = new JsonFloat(value.value);
      } else if (Array.isArray(value)) {
        copy = value.map((item) => copyJson(item, freeze));
      } else {
        const object: JsonObject = {};
        for (const key of Object.keys(value)) {
          const item = copyJson(value[key] as JsonValue, freeze);
          // Plain assignment to "__proto__" would set the prototype instead of a key.
          if (key === '__proto__') {
            Object.defineProperty(object, key, { value: item, enumerable: true, writable: true, configurable: true });
          } else {
            object[key] = item;
          }
        }
        copy = object;
      }
      if (freeze) Object.freeze(copy);
      return copy;
    }
    default:
      throw new NexusError('INVALID_ARGUMENT', `not a JSON value: ${typeof value}`);
  }
}
