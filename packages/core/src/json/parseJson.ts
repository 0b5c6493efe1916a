import { NexusError } from '../errors/NexusError.js';
import { DEFAULT_JSON_LIMITS, type JsonLimits } from './jsonLimits.js';
import { JsonFloat, type JsonValue } from './JsonValue.js';
import { parseJsonStrict } from './parseJsonStrict.js';

/**
 * Parses strict JSON (RFC 8259) without losing what canonical JSON needs: integers beyond
 * 2^53 become `bigint`, floats with an integral value (`1.0`, `1e16`, `-0.0`) become
 * `JsonFloat`, every other number a `number`. Refused with CANONICAL_JSON_INVALID (naming
 * the position): anything JSON.parse rejects, duplicate object keys (two readers would see
 * different documents), lone surrogates (escaped or raw) in strings, floats that overflow a
 * double, and documents beyond the length or depth limit.
 *
 * The native JSON.parse builds the tree; one pass over the text, in step with the tree, then
 * finds what it cannot tell: which numbers were written as floats, which integers are too
 * large for a double, and whether any object lost a member to a duplicate key. Where the
 * two disagree, or the text holds something the pass cannot vouch for, the hand-written
 * strict parser decides, and explains any error.
 */
export function parseJson(text: string, limits: Partial<JsonLimits> = {}): JsonValue {
  const maxLength = limits.maxLength ?? DEFAULT_JSON_LIMITS.maxLength;
  const maxDepth = limits.maxDepth ?? DEFAULT_JSON_LIMITS.maxDepth;
  if (text.length > maxLength) {
    throw new NexusError(
      'CANONICAL_JSON_INVALID',
      `invalid JSON: the document is ${text.length} characters long, more than the limit of ${maxLength}`,
      {
        limit: maxLength,
      },
    );
  }
  let tree: unknown;
  try {
    tree = JSON.parse(text);
  } catch {
    return parseJsonStrict(text, { maxDepth });
  }
  const walk = new Walk(text, maxDepth);
  try {
    return walk.value(tree, 0);
  } catch (error) {
    if (error === DISAGREE) return parseJsonStrict(text, { maxDepth });
    throw error;
  }
}

/*
 * JsonFloat is immutable, so the small integral floats documents repeat most (1.0, 0.0,
 * 100.0) share one instance each instead of allocating one per occurrence.
 */
const SHARED_FLOATS = Array.from({ length: 1025 }, (_, i) => Object.freeze(new JsonFloat(i - 512)));

function floatOf(value: number): JsonFloat {
  // -0.0 is its own value (Object.is), never the shared 0.0.
  if (value >= -512 && value <= 512 && !Object.is(value, -0)) return SHARED_FLOATS[value + 512] as JsonFloat;
  return new JsonFloat(value);
}

/** Thrown inside the walk when the strict parser must decide. */
const DISAGREE = Symbol('disagree');

/** An array index key: objects list those first, not in document order. */
const INDEX_KEY = /^(?:0|[1-9]\d{0,9})$/;

interface WellFormed {
  isWellFormed(): boolean;
}

class Walk {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
  ) {}

  private space(): number {
    const t = this.text;
    let p = this.pos;
    let c = t.charCodeAt(p);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = t.charCodeAt(++p);
    this.pos = p;
    return c;
  }

  /** The value at the current position, which JSON.parse gave as `node`: returned as is, or its exact replacement. */
  value(node: unknown, depth: number): JsonValue {
    const c = this.space();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number(node);
    if (c === 0x22) {
      this.skipString();
      if (typeof node !== 'string' || !(node as unknown as WellFormed).isWellFormed()) throw DISAGREE;
      return node;
    }
    if (c === 0x7b) return this.object(node, depth + 1);
    if (c === 0x5b) return this.array(node, depth + 1);
    if (c === 0x74) {
      this.pos += 4;
      if (node !== true) throw DISAGREE;
      return node;
    }
    if (c === 0x66) {
      this.pos += 5;
      if (node !== false) throw DISAGREE;
      return node;
    }
    if (c === 0x6e) {
      this.pos += 4;
      if (node !== null) throw DISAGREE;
      return node;
    }
    throw DISAGREE;
  }

  private tooDeep(): never {
    throw new NexusError('CANONICAL_JSON_INVALID', `invalid JSON: nested deeper than ${this.maxDepth} levels at position ${this.pos}`, {
      position: this.pos,
      limit: this.maxDepth,
    });
  }

  private number(node: unknown): JsonValue {
    const t = this.text;
    const start = this.pos;
    let p = start;
    let float = false;
    for (;;) {
      const c = t.charCodeAt(p);
      if (c >= 0x30 && c <= 0x39) p++;
      else if (c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d) {
        // A minus sign only begins a number; after the first character it is an exponent's.
        if (p !== start || c !== 0x2d) float = true;
        p++;
      } else break;
    }
    this.pos = p;
    if (typeof node !== 'number') throw DISAGREE;
    if (float) {
      // The strict parser refuses a float beyond a double's range, naming it.
      if (!Number.isFinite(node)) throw DISAGREE;
      return Number.isInteger(node) ? floatOf(node) : node;
    }
    return Number.isSafeInteger(node) ? node : BigInt(t.slice(start, p));
  }

  private skipString(): void {
    const t = this.text;
    let from = this.pos + 1;
    for (;;) {
      const quote = t.indexOf('"', from);
      if (quote < 0) throw DISAGREE;
      let slash = quote - 1;
      while (t.charCodeAt(slash) === 0x5c) slash--;
      if ((quote - 1 - slash) % 2 === 0) {
        this.pos = quote + 1;
        return;
      }
      from = quote + 1;
    }
  }

  private object(node: unknown, depth: number): JsonValue {
    if (depth > this.maxDepth) this.tooDeep();
    if (typeof node !== 'object' || node === null || Array.isArray(node)) throw DISAGREE;
    const object = node as Record<string, unknown>;
    const keys = Object.keys(object);
    this.pos++;
    if (this.space() === 0x7d) {
      this.pos++;
      if (keys.length !== 0) throw DISAGREE;
      return object as JsonValue;
    }
    let i = 0;
    for (;;) {
      // Members pair with keys in document order; a duplicate key leaves fewer keys than members.
      const key = keys[i];
      if (key === undefined || !(key as unknown as WellFormed).isWellFormed()) throw DISAGREE;
      const first = key.charCodeAt(0);
      if (first >= 0x30 && first <= 0x39 && INDEX_KEY.test(key)) throw DISAGREE;
      this.skipString();
      this.space();
      this.pos++; // ':'
      const child = object[key];
      const exact = this.value(child, depth);
      if (exact !== child) object[key] = exact;
      i++;
      const c = this.space();
      this.pos++;
      if (c === 0x7d) break;
      this.space();
    }
    if (i !== keys.length) throw DISAGREE;
    return object as JsonValue;
  }

  private array(node: unknown, depth: number): JsonValue {
    if (depth > this.maxDepth) this.tooDeep();
    if (!Array.isArray(node)) throw DISAGREE;
    this.pos++;
    if (this.space() === 0x5d) {
      this.pos++;
      if (node.length !== 0) throw DISAGREE;
      return node as JsonValue;
    }
    const t = this.text;
    for (let i = 0; ; i++) {
      const child: unknown = node[i];
      // Number arrays are the long ones: straight to the number, when it starts right here.
      const first = t.charCodeAt(this.pos);
      const exact =
        typeof child === 'number' && (first === 0x2d || (first >= 0x30 && first <= 0x39)) ? this.number(child) : this.value(child, depth);
      if (exact !== child) node[i] = exact;
      // Most arrays are written without spaces: look at the next character before skipping any.
      let c = t.charCodeAt(this.pos);
      if (c !== 0x2c && c !== 0x5d) c = this.space();
      this.pos++;
      if (c === 0x5d) {
        if (i + 1 !== node.length) throw DISAGREE;
        return node as JsonValue;
      }
    }
  }
}
