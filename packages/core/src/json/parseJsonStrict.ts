import { NexusError } from '../errors/NexusError.js';
import { quote } from '../text/quote.js';
import { DEFAULT_JSON_LIMITS } from './jsonLimits.js';
import { JsonFloat, type JsonObject, type JsonValue } from './JsonValue.js';
import { isWellFormedString } from './unicode.js';

/**
 * The hand-written lossless parser behind `parseJson`: strict RFC 8259, one token at a time,
 * with errors that name the offset (in UTF-16 code units). `parseJson` only comes here when
 * its native fast path cannot be used, or to explain why a text is not valid JSON.
 */
export function parseJsonStrict(text: string, limits: { readonly maxDepth?: number } = {}): JsonValue {
  src = text;
  pos = 0;
  depth = 0;
  maxDepth = limits.maxDepth ?? DEFAULT_JSON_LIMITS.maxDepth;
  try {
    skipWhitespace();
    const value = parseValue();
    skipWhitespace();
    if (pos < src.length) fail('unexpected text after the JSON value');
    return value;
  } catch (error) {
    if (error instanceof RangeError) throw invalid('JSON nested too deeply', pos);
    throw error;
  } finally {
    src = '';
  }
}

// Parser state lives at module level: parsing is synchronous and never re-entered.
let src = '';
let pos = 0;
let depth = 0;
let maxDepth = DEFAULT_JSON_LIMITS.maxDepth;

function enter(): void {
  if (++depth > maxDepth) fail(`nested deeper than ${maxDepth} levels`);
}

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

function invalid(message: string, position: number): NexusError {
  return new NexusError('CANONICAL_JSON_INVALID', `invalid JSON: ${message} at position ${position}`, { position });
}

function fail(message: string, position = pos): never {
  throw invalid(message, position);
}

function describeHere(): string {
  if (pos >= src.length) return 'unexpected end of input';
  const code = src.codePointAt(pos) as number;
  return code < 0x20 || code === 0x7f
    ? `unexpected character U+${code.toString(16).padStart(4, '0').toUpperCase()}`
    : `unexpected character ${JSON.stringify(String.fromCodePoint(code))}`;
}

function skipWhitespace(): void {
  let c = src.charCodeAt(pos);
  while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = src.charCodeAt(++pos);
}

function parseValue(): JsonValue {
  const c = src.charCodeAt(pos);
  if (c === 0x22) return parseString();
  if (c === 0x7b) return parseObject();
  if (c === 0x5b) return parseArray();
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return parseNumber();
  if (c === 0x74 && src.startsWith('true', pos)) {
    pos += 4;
    return true;
  }
  if (c === 0x66 && src.startsWith('false', pos)) {
    pos += 5;
    return false;
  }
  if (c === 0x6e && src.startsWith('null', pos)) {
    pos += 4;
    return null;
  }
  return fail(describeHere());
}

function parseObject(): JsonObject {
  enter();
  pos++;
  const object: JsonObject = {};
  skipWhitespace();
  if (src.charCodeAt(pos) === 0x7d) {
    pos++;
    depth--;
    return object;
  }
  for (;;) {
    if (src.charCodeAt(pos) !== 0x22) fail(`expected a double-quoted key, ${describeHere()}`);
    const keyAt = pos;
    const key = parseString();
    // Two readers of a document with a repeated key can see different values: refuse it.
    if (Object.hasOwn(object, key)) fail(`duplicate key ${quote(key)}`, keyAt);
    skipWhitespace();
    if (src.charCodeAt(pos) !== 0x3a) fail(`expected ':', ${describeHere()}`);
    pos++;
    skipWhitespace();
    const value = parseValue();
    // "__proto__" must stay an own property.
    if (key === '__proto__') Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
    else object[key] = value;
    skipWhitespace();
    const c = src.charCodeAt(pos);
    if (c === 0x2c) {
      pos++;
      skipWhitespace();
    } else if (c === 0x7d) {
      pos++;
      depth--;
      return object;
    } else fail(`expected ',' or '}', ${describeHere()}`);
  }
}

function parseArray(): JsonValue[] {
  enter();
  pos++;
  const array: JsonValue[] = [];
  skipWhitespace();
  if (src.charCodeAt(pos) === 0x5d) {
    pos++;
    depth--;
    return array;
  }
  for (;;) {
    array.push(parseValue());
    skipWhitespace();
    const c = src.charCodeAt(pos);
    if (c === 0x2c) {
      pos++;
      skipWhitespace();
    } else if (c === 0x5d) {
      pos++;
      depth--;
      return array;
    } else fail(`expected ',' or ']', ${describeHere()}`);
  }
}

function parseString(): string {
  const start = pos;
  const n = src.length;
  let i = pos + 1;
  let escaped = false;
  let surrogate = false;
  for (;;) {
    if (i >= n) fail('unterminated string', start);
    const c = src.charCodeAt(i);
    if (c === 0x22) break;
    if (c === 0x5c) {
      escaped = true;
      i += 2;
    } else {
      if (c < 0x20) fail(`unescaped control character U+${c.toString(16).padStart(4, '0').toUpperCase()} in a string`, i);
      if (c >= 0xd800 && c <= 0xdfff) surrogate = true;
      i++;
    }
  }
  pos = i + 1;
  if (!escaped) {
    const value = src.slice(start + 1, i);
    if (surrogate && !isWellFormedString(value)) fail('lone surrogate in a string', start);
    return value;
  }
  let value: string;
  try {
    value = JSON.parse(src.slice(start, pos)) as string;
  } catch {
    return fail(`invalid escape in a string`, escapeErrorPosition(start + 1, i));
  }
  if (!isWellFormedString(value)) fail('lone surrogate in a string', start);
  return value;
}

const VALID_ESCAPE = /\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/y;

function escapeErrorPosition(from: number, to: number): number {
  for (let i = from; i < to; i++) {
    if (src.charCodeAt(i) !== 0x5c) continue;
    VALID_ESCAPE.lastIndex = i;
    if (!VALID_ESCAPE.test(src)) return i;
    i = VALID_ESCAPE.lastIndex - 1;
  }
  return from - 1;
}

function parseNumber(): JsonValue {
  const start = pos;
  NUMBER.lastIndex = start;
  const match = NUMBER.exec(src);
  if (match === null) return fail(`invalid number, ${describeHere()}`);
  const token = match[0];
  pos = start + token.length;
  const next = src.charCodeAt(pos);
  if (next >= 0x30 && next <= 0x39) fail('a number with a leading zero', start);
  if (match[1] !== undefined || match[2] !== undefined) {
    const value = Number(token);
    if (!Number.isFinite(value)) fail('number out of the range of a double', start);
    // An integral float keeps its float identity: 1.0 is not 1.
    return Number.isInteger(value) ? new JsonFloat(value) : value;
  }
  const value = Number(token);
  return Number.isSafeInteger(value) ? value : BigInt(token);
}
