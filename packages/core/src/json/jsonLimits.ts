/**
 * Bounds on every JSON document the project parses (README "Field limits and hostile input"): a document may be
 * at most `maxLength` UTF-16 code units long and nest arrays and objects at most `maxDepth`
 * deep. Beyond them the parse fails with CANONICAL_JSON_INVALID before building anything.
 */
export interface JsonLimits {
  readonly maxLength: number;
  readonly maxDepth: number;
}

export const DEFAULT_JSON_LIMITS: JsonLimits = Object.freeze({ maxLength: 64 * 1024 * 1024, maxDepth: 128 });
