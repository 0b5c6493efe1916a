import { NexusError } from '@nexus-control/core';

const UNSTORABLE = /[\u0000\p{Surrogate}]/u;

/**
 * PostgreSQL `text` cannot hold U+0000, and UTF-8 cannot hold a lone UTF-16 surrogate (the
 * driver would turn it into U+FFFD). Identifier-like columns refuse such strings rather than
 * change them; free text is stored as JSON text, where both are escaped.
 */
export function assertStorableText(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string') {
    throw new NexusError('INVALID_ARGUMENT', `${field} must be a string`, { field });
  }
  if (UNSTORABLE.test(value)) {
    throw new NexusError('INVALID_ARGUMENT', `${field} holds U+0000 or a lone surrogate, which cannot be stored`, {
      field,
    });
  }
}

/** Free text as a JSON string literal: PostgreSQL text that keeps U+0000 and lone surrogates exactly. */
export function encodeFreeText(value: string): string {
  return JSON.stringify(value);
}

export function decodeFreeText(stored: string): string {
  return JSON.parse(stored) as string;
}
