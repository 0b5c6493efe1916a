import { JsonFloat, type JsonValue } from './JsonValue.js';
import { parseJsonStrict } from './parseJsonStrict.js';

/**
 * Parses strict JSON (RFC 8259) without losing what canonical JSON needs: integers beyond
 * 2^53 become `bigint`, floats with an integral value (`1.0`, `1e16`, `-0.0`) become
 * `JsonFloat`, every other number a `number`. Duplicate keys: the last wins. Rejected with
 * CANONICAL_JSON_INVALID (naming the position): anything JSON.parse rejects, lone surrogates
 * (escaped or raw) in strings, and floats that overflow a double.
 *
 * Fast path: one native regex pass skips over strings and checks only the number tokens
 * JSON.parse could misread; those few are swapped for placeholder strings, the text goes
 * to the native JSON.parse, and the exact values are put back. Any doubt (an invalid text, a
 * string with surrogates that need checking) goes to the hand-written parser.
 */
export function parseJson(text: string): JsonValue {
  const found = findInexactNumbers(text);
  if (found === undefined) return parseJsonStrict(text);
  let parsed: unknown;
  const marker = found.length === 0 ? ASCII_MARKER : markerFor(text);
  try {
    parsed = JSON.parse(found.length === 0 ? text : withPlaceholders(text, found, marker));
  } catch {
    // Not valid JSON: the strict parser says where and why.
    return parseJsonStrict(text);
  }
  if (found.length === 0) return parsed as JsonValue;
  const values = found.map((n) => n.value);
  const state = { values, left: values.length, marker };
  if (typeof parsed === 'string') return restoreString(parsed, state) as JsonValue;
  try {
    restore(parsed, state);
  } catch (error) {
    if (error instanceof RangeError) return parseJsonStrict(text);
    throw error;
  }
  // A placeholder left over stood where JSON allows no number (a key), or was dropped by a
  // duplicate key: the strict parser gives the exact answer for either.
  return state.left === 0 ? (parsed as JsonValue) : parseJsonStrict(text);
}

interface InexactNumber {
  start: number;
  end: number;
  value: JsonValue;
}

/*
 * One sticky pass consumes, up to a bounded number of tokens at a time (an unbounded repeat
 * would grow the regex backtrack stack with the text):
 *   - runs of anything but quotes and digits (structure, whitespace, literals, minus signs);
 *   - a whole string whose surrogates are all properly paired (raw or as \u escapes), so no
 *     lone surrogate can slip through JSON.parse;
 *   - an integer token of at most 15 digits (always a safe integer);
 *   - a decimal without exponent, with a non-zero fraction digit and either at most 15
 *     digits in all or the form 0.f with at most 16 fraction digits: never integral (the
 *     rounding error of a double is smaller than the distance to the nearest integer), so
 *     JSON.parse gives exactly the value needed.
 * It stops at any other number token (checked in JavaScript, usually harmless) and at a
 * string it cannot vouch for.
 */
const SCAN =
  /(?:[^"\d]+|"[^"\\\uD800-\uDFFF]*(?:(?:\\(?:[^u]|u(?![dD][89a-fA-F]))|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|[\uD800-\uDBFF][\uDC00-\uDFFF])[^"\\\uD800-\uDFFF]*)*"|\d{1,15}(?![\d.eE])|0\.(?=\d{1,16}(?![\d.eE]))\d*[1-9]\d*|\d{1,7}\.(?=\d{1,8}(?![\d.eE]))\d*[1-9]\d*){0,2048}/y;
const NUMBER_TOKEN = /\d+(\.\d+)?([eE][+-]?\d+)?/y;

/** The number tokens JSON.parse would misread, or undefined when the fast path cannot vouch for the text. */
function findInexactNumbers(text: string): InexactNumber[] | undefined {
  const found: InexactNumber[] = [];
  const n = text.length;
  let pos = 0;
  for (;;) {
    SCAN.lastIndex = pos;
    try {
      SCAN.exec(text);
    } catch {
      // A single huge string with very many escapes can exhaust the regex backtrack stack.
      return undefined;
    }
    const end = SCAN.lastIndex;
    if (end >= n) return found;
    const c = text.charCodeAt(end);
    if (c >= 0x30 && c <= 0x39) {
      NUMBER_TOKEN.lastIndex = end;
      const match = NUMBER_TOKEN.exec(text) as RegExpExecArray;
      const negative = end > 0 && text.charCodeAt(end - 1) === 0x2d;
      const start = negative ? end - 1 : end;
      const token = text.slice(start, NUMBER_TOKEN.lastIndex);
      const value = Number(token);
      // A replaced token is no longer seen by JSON.parse, so it must be valid here: no leading zero.
      const second = text.charCodeAt(end + 1);
      const leadingZero = c === 0x30 && second >= 0x30 && second <= 0x39;
      if (match[1] !== undefined || match[2] !== undefined) {
        if (!Number.isFinite(value) || leadingZero) return undefined;
        if (Number.isInteger(value)) found.push({ start, end: NUMBER_TOKEN.lastIndex, value: new JsonFloat(value) });
      } else if (!Number.isSafeInteger(value)) {
        if (leadingZero) return undefined;
        found.push({ start, end: NUMBER_TOKEN.lastIndex, value: BigInt(token) });
      }
      pos = NUMBER_TOKEN.lastIndex;
    } else if (end === pos) {
      return undefined;
    } else {
      pos = end;
    }
  }
}

/*
 * Placeholder strings start with a marker no parsed string of the text can start with.
 * Preferred: U+0001 written as the escape `\u0001`, which keeps a one-byte (Latin-1) text
 * one-byte, so JSON.parse stays on its fast path; usable only when the text has no such
 * escape of its own. Otherwise a lone U+DFFF, which never survives the scan in a string.
 */
const ASCII_MARKER = 0x01;
const SURROGATE_MARKER = 0xdfff;

function markerFor(text: string): number {
  return text.includes('\\u0001') ? SURROGATE_MARKER : ASCII_MARKER;
}

function withPlaceholders(text: string, found: readonly InexactNumber[], marker: number): string {
  const open = marker === ASCII_MARKER ? '"\\u0001' : '"\uDFFF';
  let out = '';
  let last = 0;
  for (let i = 0; i < found.length; i++) {
    const { start, end } = found[i] as InexactNumber;
    out += text.slice(last, start) + open + i + '"';
    last = end;
  }
  return out + text.slice(last);
}

interface RestoreState {
  values: JsonValue[];
  left: number;
  marker: number;
}

function restoreString(value: string, state: RestoreState): unknown {
  if (value.charCodeAt(0) !== state.marker) return value;
  state.left--;
  return state.values[Number(value.slice(1))];
}

/** Puts the exact values back in place of their placeholders; stops once all are back. */
function restore(node: unknown, state: RestoreState): void {
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length && state.left > 0; i++) {
      const item: unknown = node[i];
      if (typeof item === 'string') node[i] = restoreString(item, state);
      else if (typeof item === 'object' && item !== null) restore(item, state);
    }
    return;
  }
  const object = node as Record<string, unknown>;
  for (const key in object) {
    if (state.left === 0) return;
    const item = object[key];
    if (typeof item === 'string') object[key] = restoreString(item, state);
    else if (typeof item === 'object' && item !== null) restore(item, state);
  }
}
