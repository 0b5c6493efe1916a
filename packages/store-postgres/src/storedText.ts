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

const NEEDS_ESCAPE = /[\u0000\u0001]/;
const ESCAPED = /\u0001[\u0001\u0002]/g;
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * A string as a `text` value, one to one: U+0001 is doubled and U+0000 becomes U+0001 U+0002,
 * so text that cannot hold U+0000 still stores every string exactly, and equal strings (and
 * only those) store equal. Strings without either character, i.e. nearly all, are unchanged.
 * Lone surrogates cannot be stored (UTF-8) and are refused.
 */
export function encodeText(value: unknown, field: string): string {
  if (typeof value !== 'string') {
    throw new NexusError('INVALID_ARGUMENT', `${field} must be a string`, { field });
  }
  if (LONE_SURROGATE.test(value)) {
    throw new NexusError('INVALID_ARGUMENT', `${field} holds a lone surrogate, which cannot be stored`, { field });
  }
  return NEEDS_ESCAPE.test(value) ? value.replace(/\u0001/g, '\u0001\u0001').replace(/\u0000/g, '\u0001\u0002') : value;
}

export function decodeText(stored: string): string {
  return stored.includes('\u0001') ? stored.replace(ESCAPED, (pair) => (pair === '\u0001\u0001' ? '\u0001' : '\u0000')) : stored;
}

/** A lookup key in stored form; undefined when no stored value can equal it (so nothing is found). */
export function lookupText(value: unknown, field: string): string | undefined {
  if (typeof value === 'string' && LONE_SURROGATE.test(value)) return undefined;
  return encodeText(value, field);
}

/** Free text as a JSON string literal: PostgreSQL text that keeps U+0000 and lone surrogates exactly. */
export function encodeFreeText(value: string): string {
  return JSON.stringify(value);
}

export function decodeFreeText(stored: string): string {
  return JSON.parse(stored) as string;
}
