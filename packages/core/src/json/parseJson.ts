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
 * to the native JSON.parse, and the exact values are put back (or, when they all sit in the
 * last member of a top-level object, only that member is parsed again). Any doubt (an
 * invalid text, a string with surrogates that need checking) goes to the hand-written parser.
 */
export function parseJson(text: string): JsonValue {
  return parseLossless(text, true);
}

function parseLossless(text: string, tryLastMember: boolean): JsonValue {
  const found = findInexactNumbers(text);
  if (found === undefined) return parseJsonStrict(text);
  if (tryLastMember && found.length !== 0) {
    const parsedAsIs = withExactLastMember(text, found);
    if (parsedAsIs !== undefined) return parsedAsIs;
  }
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
  // Parsed objects keep the document's order, so when every placeholder sits in the second
  // half of the text (say, a large document's last section) the walk from the end reaches
  // them all after visiting little; either order gives the same result.
  const fromEnd = (found[0] as InexactNumber).start > text.length / 2;
  const state: RestoreState = { values, left: values.length, marker, fromEnd };
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
 *   - the most common pair, a run as below followed by a string without escapes or
 *     surrogates, in one step (half the steps for typical documents; it adds nothing the
 *     next two alternatives would not consume one after the other);
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
  /(?:[^"\d]*"[^"\\\uD800-\uDFFF]*"|[^"\d]+|"[^"\\\uD800-\uDFFF]*(?:(?:\\(?:[^u]|u(?![dD][89a-fA-F]))|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|[\uD800-\uDBFF][\uDC00-\uDFFF])[^"\\\uD800-\uDFFF]*)*"|\d{1,15}(?![\d.eE])|0\.(?=\d{1,16}(?![\d.eE]))\d*[1-9]\d*|\d{1,7}\.(?=\d{1,8}(?![\d.eE]))\d*[1-9]\d*){0,2048}/y;
const NUMBER_TOKEN = /\d+(\.\d+)?([eE][+-]?\d+)?/y;

const NO_NUMBERS: readonly InexactNumber[] = [];

/** The number tokens JSON.parse would misread, or undefined when the fast path cannot vouch for the text. */
function findInexactNumbers(text: string): readonly InexactNumber[] | undefined {
  // Allocated only when a number needs replacing, which most texts never do.
  let found: InexactNumber[] | undefined;
  const n = text.length;
  let pos = 0;
  for (;;) {
    SCAN.lastIndex = pos;
    try {
      // test(), not exec(): only lastIndex is needed, not a match array and its substring.
      SCAN.test(text);
    } catch {
      // A single huge string with very many escapes can exhaust the regex backtrack stack.
      return undefined;
    }
    const end = SCAN.lastIndex;
    if (end >= n) return found ?? NO_NUMBERS;
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
        if (Number.isInteger(value)) (found ??= []).push({ start, end: NUMBER_TOKEN.lastIndex, value: new JsonFloat(value) });
      } else if (!Number.isSafeInteger(value)) {
        if (leadingZero) return undefined;
        (found ??= []).push({ start, end: NUMBER_TOKEN.lastIndex, value: BigInt(token) });
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

/*
 * When every number JSON.parse would misread lies in the value of a top-level object's last
 * member (an audit package's router section, say), the text goes to JSON.parse as it is and
 * only that value is parsed again, exactly: no copy of a large text with placeholders, no
 * walk of its whole tree. The member is found by walking back from the end of the text, which
 * is outside any string; the walk is bounded, the member's value goes the general way (never
 * this one again, so the cost stays linear), and anything unexpected (undefined) leaves the
 * decision to the general path.
 */
const LAST_MEMBER_SCAN_LIMIT = 65_536;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

function withExactLastMember(text: string, found: readonly InexactNumber[]): JsonValue | undefined {
  const firstStart = (found[0] as InexactNumber).start;
  const close = spaceBefore(text, text.length - 1);
  if (text.charCodeAt(close) !== CLOSE_BRACE) return undefined;
  const valueEnd = spaceBefore(text, close - 1);
  const valueStart = valueStartBefore(text, valueEnd);
  // The positions are only meaningful for valid JSON, which JSON.parse confirms below.
  if (valueStart < 0 || valueStart > firstStart) return undefined;
  const colon = spaceBefore(text, valueStart - 1);
  if (text.charCodeAt(colon) !== COLON) return undefined;
  const keyEnd = spaceBefore(text, colon - 1);
  if (keyEnd < 0 || text.charCodeAt(keyEnd) !== QUOTE) return undefined;
  const keyStart = stringStartBefore(text, keyEnd);
  if (keyStart < 0) return undefined;
  const opener = text.charCodeAt(spaceBefore(text, keyStart - 1));
  if (opener !== COMMA && opener !== OPEN_BRACE) return undefined;
  let root: unknown;
  let key: unknown;
  let value: JsonValue;
  try {
    root = JSON.parse(text);
    key = JSON.parse(text.slice(keyStart, keyEnd + 1));
    value = parseLossless(text.slice(valueStart, valueEnd + 1), false);
  } catch {
    return undefined;
  }
  if (typeof root !== 'object' || root === null || Array.isArray(root)) return undefined;
  // The last occurrence of the key is the member JSON.parse kept (the last wins).
  if (typeof key !== 'string' || key === '__proto__' || !Object.hasOwn(root, key)) return undefined;
  (root as Record<string, unknown>)[key] = value;
  return root as JsonValue;
}

/** The index of the last non-whitespace character at or before `at` (-1 if none). */
function spaceBefore(text: string, at: number): number {
  let i = at;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i--;
  }
}

/** The opening quote of the string whose closing quote is at `close` (-1 if none). */
function stringStartBefore(text: string, close: number): number {
  let at = close - 1;
  for (;;) {
    if (at < 0) return -1;
    at = text.lastIndexOf('"', at);
    if (at < 0) return -1;
    // A quote inside a string is escaped: an odd number of backslashes before it.
    let slashes = 0;
    while (text.charCodeAt(at - 1 - slashes) === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return at;
    at--;
  }
}

/** The first index of the JSON value that ends at `end` (-1 if not found within the limit). */
function valueStartBefore(text: string, end: number): number {
  const last = text.charCodeAt(end);
  if (last === QUOTE) return stringStartBefore(text, end);
  if (last === CLOSE_BRACE || last === CLOSE_BRACKET) {
    let depth = 0;
    for (let i = end; i >= 0 && end - i <= LAST_MEMBER_SCAN_LIMIT; i--) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        i = stringStartBefore(text, i);
        if (i < 0) return -1;
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        depth++;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        depth--;
        if (depth === 0) return i;
      }
    }
    return -1;
  }
  // A number or a literal.
  let i = end;
  while (i > 0 && isScalarChar(text.charCodeAt(i - 1))) i--;
  return i;
}

function isScalarChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

interface RestoreState {
  values: JsonValue[];
  left: number;
  marker: number;
  /** Visit children last to first. */
  fromEnd: boolean;
}

function restoreString(value: string, state: RestoreState): unknown {
  if (value.charCodeAt(0) !== state.marker) return value;
  state.left--;
  return state.values[Number(value.slice(1))];
}

/** Puts the exact values back in place of their placeholders; stops once all are back. */
function restore(node: unknown, state: RestoreState): void {
  if (state.fromEnd) {
    restoreFromEnd(node, state);
    return;
  }
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

function restoreFromEnd(node: unknown, state: RestoreState): void {
  if (Array.isArray(node)) {
    for (let i = node.length - 1; i >= 0 && state.left > 0; i--) {
      const item: unknown = node[i];
      if (typeof item === 'string') node[i] = restoreString(item, state);
      else if (typeof item === 'object' && item !== null) restoreFromEnd(item, state);
    }
    return;
  }
  const object = node as Record<string, unknown>;
  const keys = Object.keys(object);
  for (let i = keys.length - 1; i >= 0 && state.left > 0; i--) {
    const key = keys[i] as string;
    const item = object[key];
    if (typeof item === 'string') object[key] = restoreString(item, state);
    else if (typeof item === 'object' && item !== null) restoreFromEnd(item, state);
  }
}
