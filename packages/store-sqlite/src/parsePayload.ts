import { parseJson, type JsonObject } from '@nexus-control/core';

/** Payload and snapshot columns hold canonical JSON objects; parsed losslessly (bigint, JsonFloat). */
export function parsePayload(text: string): JsonObject {
  return parseJson(text) as JsonObject;
}
