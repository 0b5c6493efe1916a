/**
 * A JSON value that keeps what canonical JSON needs and JavaScript's JSON drops:
 * - integers are `number` (safe range) or `bigint` (beyond 2^53), printed exactly;
 * - a float is a non-integral `number`, or a `JsonFloat` when its value is integral
 *   (`1.0`, `-0.0`, `1e16`), so `{"x":1}` and `{"x":1.0}` stay different values.
 */
export type JsonValue = null | boolean | string | number | bigint | JsonFloat | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** A float whose value happens to be integral; without the wrapper it would print as an int. */
export class JsonFloat {
  constructor(readonly value: number) {}
  valueOf(): number {
    return this.value;
  }
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof JsonFloat);
}
