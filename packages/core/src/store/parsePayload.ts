import { NexusError } from '../errors/NexusError.js';
import { isJsonObject, type JsonObject } from '../json/JsonValue.js';
import { parseJson } from '../json/parseJson.js';

/**
 * Reads a stored payload (or template snapshot) back from its canonical JSON text, losslessly
 * (bigint, JsonFloat). Stores keep that text exactly as written, so anything but a JSON object
 * means the stored data is damaged: STORE_CORRUPT, never a silently different payload.
 */
export function parsePayload(text: string): JsonObject {
  let value: unknown;
  try {
    value = parseJson(text);
  } catch (error) {
    throw new NexusError('STORE_CORRUPT', 'a stored payload is not valid JSON', {}, { cause: error });
  }
  if (!isJsonObject(value)) throw new NexusError('STORE_CORRUPT', 'a stored payload is not a JSON object');
  return value;
}
