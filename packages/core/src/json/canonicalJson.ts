import { NexusError } from '../errors/NexusError.js';
import { JsonFloat, type JsonValue } from './JsonValue.js';
import { pythonFloatRepr } from './pythonFloatRepr.js';
import { compareCodePoints, hasSurrogate, isWellFormedString } from './unicode.js';

/**
 * Canonical JSON (SPEC §4), byte for byte what the reference writes with
 * `json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`.
 *
 * Strategy, for speed: building the text in JavaScript is an order of magnitude slower than
 * the native `JSON.stringify`, so the value is *prepared* for it instead. Objects whose keys
 * are already in code-point order are reused as they are; other objects are copied with their
 * keys inserted in order (the native serializer follows insertion order). Values the native
 * serializer would print differently (integral floats, bigints, unsafe integers, tiny floats)
 * are replaced by a placeholder string that starts with a lone surrogate — a string that can
 * never survive into the output, since lone surrogates are rejected — and the exact text is
 * put back into the output afterwards.
 */
export function canonicalJson(value: JsonValue): string {
  const ctx: Context = { raw: [], hits: 0, uses: 0, byText: new Map(), byFloat: new Map() };
  let out: string;
  try {
    out = JSON.stringify(prepare(value, ctx));
  } catch (error) {
    if (error instanceof RangeError) throw invalid('the value is nested too deeply, or refers to itself');
    throw error;
  }
  if (ctx.raw.length !== 0) {
    out = resolvePlaceholders(out, ctx);
    // More hits than placeholders: an input string mimicked one, so it holds a lone surrogate.
    if (ctx.hits !== ctx.uses) assertWellFormedStrings(value);
  }
  // JSON.stringify writes a lone surrogate as "\udxxx"; confirm on the value (a false hit is
  // an escaped backslash followed by "ud8…", which is fine).
  if (ESCAPED_SURROGATE.test(out)) assertWellFormedStrings(value);
  return out;
}

interface Context {
  /** Exact output text for each placeholder, by index. */
  raw: string[];
  /** Placeholders found while resolving; must end equal to `uses`. */
  hits: number;
  /** Placeholders handed out (one text may be handed out many times). */
  uses: number;
  /** Placeholder per exact text, and per integral float value: a float-heavy document repeats them. */
  byText: Map<string, string>;
  byFloat: Map<number, string>;
}

const PLACEHOLDER_PREFIX = '\uDFFF';
/** How JSON.stringify writes a placeholder's opening: the quote and the escaped lone surrogate. */
const PLACEHOLDER_OPEN = '"\\udfff';
const ESCAPED_SURROGATE = /\\ud[89a-f]/;

function placeholder(text: string, ctx: Context): string {
  ctx.uses++;
  let held = ctx.byText.get(text);
  if (held === undefined) {
    ctx.raw.push(text);
    held = PLACEHOLDER_PREFIX + (ctx.raw.length - 1);
    ctx.byText.set(text, held);
  }
  return held;
}

function floatPlaceholder(value: number, ctx: Context): string {
  // -0 and 0 are one Map key but two texts ("-0.0", "0.0").
  if (value === 0) return placeholder(pythonFloatRepr(value), ctx);
  const held = ctx.byFloat.get(value);
  if (held !== undefined) {
    ctx.uses++;
    return held;
  }
  const made = placeholder(pythonFloatRepr(value), ctx);
  ctx.byFloat.set(value, made);
  return made;
}

/** Replaces each `"\udfffN"` in the output by the exact text N stands for, in one pass. */
function resolvePlaceholders(text: string, ctx: Context): string {
  let at = text.indexOf(PLACEHOLDER_OPEN);
  if (at < 0) return text;
  const parts: string[] = [];
  let last = 0;
  while (at >= 0) {
    let end = at + PLACEHOLDER_OPEN.length;
    let c = text.charCodeAt(end);
    let index = 0;
    let digits = 0;
    while (c >= 0x30 && c <= 0x39) {
      index = index * 10 + (c - 0x30);
      digits++;
      c = text.charCodeAt(++end);
    }
    const raw = ctx.raw[index];
    if (digits === 0 || c !== 0x22 || raw === undefined) {
      at = text.indexOf(PLACEHOLDER_OPEN, at + 1);
      continue;
    }
    ctx.hits++;
    parts.push(text.slice(last, at), raw);
    last = end + 1;
    at = text.indexOf(PLACEHOLDER_OPEN, last);
  }
  if (parts.length === 0) return text;
  parts.push(text.slice(last));
  return parts.join('');
}

function invalid(message: string, details: Record<string, unknown> = {}): NexusError {
  return new NexusError('CANONICAL_JSON_INVALID', message, details);
}

/** Returns what JSON.stringify must see: the value itself when it already serializes exactly. */
function prepare(value: unknown, ctx: Context): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (Number.isSafeInteger(value)) return value;
      if (!Number.isFinite(value)) throw invalid(`${value} cannot be written as JSON`, { value: String(value) });
      if (Number.isInteger(value)) return placeholder(BigInt(value).toString(), ctx);
      // Non-integral and not tiny: JavaScript prints the same digits and notation as Python.
      if (value >= 1e-4 || value <= -1e-4) return value;
      return placeholder(pythonFloatRepr(value), ctx);
    case 'bigint':
      return placeholder(value.toString(), ctx);
    case 'object': {
      if (value === null) return null;
      if (Array.isArray(value)) return prepareArray(value, ctx);
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto === Object.prototype || proto === null) return prepareObject(value as Record<string, unknown>, ctx);
      if (value instanceof JsonFloat) {
        if (typeof value.value !== 'number') throw invalid('JsonFloat must hold a number');
        return floatPlaceholder(value.value, ctx);
      }
      const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
      throw invalid(`a ${typeof name === 'string' ? name : 'non-plain object'} is not a JSON value`);
    }
    default:
      throw invalid(`a ${typeof value} is not a JSON value`);
  }
}

/** Exact output text of a value JSON.stringify would print differently; undefined for containers and plain values. */
function exactScalarText(value: unknown): string | undefined {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return undefined;
    if (!Number.isFinite(value)) throw invalid(`${value} cannot be written as JSON`, { value: String(value) });
    if (Number.isInteger(value)) return BigInt(value).toString();
    return value >= 1e-4 || value <= -1e-4 ? undefined : pythonFloatRepr(value);
  }
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof JsonFloat) {
    if (typeof value.value !== 'number') throw invalid('JsonFloat must hold a number');
    return pythonFloatRepr(value.value);
  }
  return undefined;
}

/** Arrays with at least this many elements, a quarter of them needing exact text, are written here. */
const DIRECT_ARRAY_MIN = 64;

/**
 * A number-heavy array written directly, one placeholder for the whole array: a placeholder
 * per element costs far more than writing the element (millions of `1.0` in a router's metrics).
 */
function directArray(array: readonly unknown[], ctx: Context): string {
  const parts = new Array<string>(array.length);
  for (let i = 0; i < array.length; i++) {
    const item = array[i];
    const exact = exactScalarText(item);
    if (exact !== undefined) parts[i] = exact;
    else if (typeof item === 'object' && item !== null) parts[i] = resolvePlaceholders(JSON.stringify(prepare(item, ctx)), ctx);
    else parts[i] = JSON.stringify(prepare(item, ctx));
  }
  return placeholder(`[${parts.join(',')}]`, ctx);
}

function prepareArray(array: readonly unknown[], ctx: Context): unknown {
  const n = array.length;
  if (n >= DIRECT_ARRAY_MIN) {
    let exact = 0;
    for (let i = 0; i < n; i += 4) if (exactScalarText(array[i]) !== undefined) exact++;
    if (exact * 4 >= n / 4) return directArray(array, ctx);
  }
  let copy: unknown[] | undefined;
  for (let i = 0; i < n; i++) {
    const item = array[i];
    const prepared = prepare(item, ctx);
    if (copy !== undefined) copy.push(prepared);
    else if (prepared !== item) {
      copy = array.slice(0, i);
      copy.push(prepared);
    }
  }
  return copy ?? (array as unknown[]);
}

function prepareObject(object: Record<string, unknown>, ctx: Context): unknown {
  const keys = Object.keys(object);
  const n = keys.length;
  if (n === 0) return object;

  // Only the order of two or more keys depends on surrogates; a lone surrogate in any key
  // is caught on the output.
  let surrogateKeys = false;
  if (n > 1) {
    for (let i = 0; i < n; i++) {
      if (hasSurrogate(keys[i] as string)) {
        surrogateKeys = true;
        break;
      }
    }
  }
  let sorted = true;
  for (let i = 1; i < n; i++) {
    const a = keys[i - 1] as string;
    const b = keys[i] as string;
    if (surrogateKeys ? compareCodePoints(a, b) > 0 : a > b) {
      sorted = false;
      break;
    }
  }

  if (sorted) {
    let changed: unknown[] | undefined;
    for (let i = 0; i < n; i++) {
      const item = object[keys[i] as string];
      const prepared = prepare(item, ctx);
      if (changed !== undefined) changed[i] = prepared;
      else if (prepared !== item) {
        changed = new Array<unknown>(n);
        for (let j = 0; j < i; j++) changed[j] = object[keys[j] as string];
        changed[i] = prepared;
      }
    }
    // Same keys as the original, so a copy enumerates in the original's (sorted) order.
    return changed === undefined ? object : buildObject(keys, changed);
  }

  const values = new Array<unknown>(n);
  if (surrogateKeys) keys.sort(compareCodePoints);
  else if (n <= 16) insertionSort(keys);
  else keys.sort();
  let indexLikeKey = false;
  for (let i = 0; i < n; i++) {
    const key = keys[i] as string;
    values[i] = prepare(object[key], ctx);
    const c = key.charCodeAt(0);
    if (c >= 0x30 && c <= 0x39) indexLikeKey = true;
  }
  const copy = buildObject(keys, values);
  // Integer-like keys enumerate first in ascending numeric order whatever the insertion
  // order, so such an object cannot be handed to JSON.stringify; write it here instead.
  if (indexLikeKey && !sameKeys(Object.keys(copy), keys)) {
    let text = '{';
    for (let i = 0; i < n; i++) {
      if (i !== 0) text += ',';
      text += JSON.stringify(keys[i]) + ':' + resolvePlaceholders(JSON.stringify(values[i]), ctx);
    }
    return placeholder(text + '}', ctx);
  }
  return copy;
}

/** For the few keys of a typical object, about twice as fast as Array.prototype.sort. */
function insertionSort(keys: string[]): void {
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i] as string;
    let j = i - 1;
    while (j >= 0 && (keys[j] as string) > key) {
      keys[j + 1] = keys[j] as string;
      j--;
    }
    keys[j + 1] = key;
  }
}

function buildObject(keys: readonly string[], values: readonly unknown[]): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    // A plain assignment to "__proto__" would set the prototype instead of a property.
    if (key === '__proto__') Object.defineProperty(copy, key, { value: values[i], enumerable: true, writable: true, configurable: true });
    else copy[key] = values[i];
  }
  return copy;
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Throws CANONICAL_JSON_INVALID naming the first string or key that holds a lone surrogate. */
function assertWellFormedStrings(value: unknown, path = '$'): void {
  if (typeof value === 'string') {
    if (!isWellFormedString(value)) throw invalid(`the string at ${path} holds a lone surrogate`, { path });
    return;
  }
  if (typeof value !== 'object' || value === null || value instanceof JsonFloat) return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) assertWellFormedStrings(value[i], `${path}[${i}]`);
    return;
  }
  for (const key of Object.keys(value)) {
    if (!isWellFormedString(key)) throw invalid(`a key in the object at ${path} holds a lone surrogate`, { path });
    assertWellFormedStrings((value as Record<string, unknown>)[key], `${path}.${key}`);
  }
}
