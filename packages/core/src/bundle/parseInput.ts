import type { ErrorCode } from '../errors/errorCodes.js';
import { NexusError } from '../errors/NexusError.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../json/JsonValue.js';
import { parseJson } from '../json/parseJson.js';

/** JSON text (parsed losslessly) or an already parsed value → an object, or `code` when it is not one. */
export function parseDocument(input: string | JsonValue, code: ErrorCode, what: string): JsonObject {
  let value: JsonValue;
  if (typeof input === 'string') {
    try {
      value = parseJson(input);
    } catch (error) {
      throw new NexusError(code, `${what} is not valid JSON: ${(error as Error).message}`, {}, { cause: error });
    }
  } else {
    value = input;
  }
  if (!isJsonObject(value)) throw new NexusError(code, `${what} must be a JSON object`);
  return value;
}
