import { describe, expect, it } from 'vitest';
import { NexusError } from '../src/errors/NexusError.js';
import { canonicalJson, parseJson, parseJsonStrict, type JsonValue } from '../src/json/index.js';
import { seededRandom } from './seededRandom.js';

/*
 * The fast parser (JSON.parse plus a walk over the text) must read every document exactly as
 * the hand-written strict parser does, or refuse it with the same code. Random documents,
 * seeded so a failure reproduces.
 */

const SEED = Number(process.env['PARSE_SEED'] ?? 20261130);

const random = seededRandom(SEED);
const int = (n: number) => Math.floor(random() * n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;

const NUMBERS = [
  '0',
  '-0',
  '1',
  '-1',
  '1.0',
  '-0.0',
  '2.5',
  '1e16',
  '1E+2',
  '1e-7',
  '9007199254740993',
  '-12345678901234567890',
  '0.1',
  '123.456e3',
  '5e-324',
  '1.7976931348623157e308',
  '100.000',
];
const STRINGS = [
  '""',
  '"a"',
  '"é😀"',
  '"\\n\\t\\"\\\\"',
  '"\\u0000"',
  '"\\ud83d\\ude00"',
  '"a:b"',
  '"\\u003a"',
  '"\\/"',
  '"2025-01-01T00:00:00+00:00"',
];
const KEYS = ['"a"', '"b"', '"goal"', '"0"', '"1"', '"10"', '"01"', '"__proto__"', '"\\u0061"', '"é"', '""'];
const SPACE = ['', ' ', '\n', '\t ', '\r\n  '];

function value(depth: number): string {
  const roll = int(depth > 4 ? 3 : 6);
  if (roll === 0) return pick(NUMBERS);
  if (roll === 1) return pick(STRINGS);
  if (roll === 2) return pick(['true', 'false', 'null']);
  if (roll === 3) return `[${Array.from({ length: int(5) }, () => pick(SPACE) + value(depth + 1) + pick(SPACE)).join(',')}]`;
  const keys = Array.from({ length: int(5) }, () => pick(KEYS));
  return `{${keys.map((key) => `${pick(SPACE)}${key}${pick(SPACE)}:${pick(SPACE)}${value(depth + 1)}`).join(',')}}`;
}

/** A small corruption now and then: the two parsers must also agree on what they refuse. */
function corrupt(text: string): string {
  if (random() < 0.8 || text.length === 0) return text;
  const at = int(text.length);
  return text.slice(0, at) + pick(['', ',', '"', '}', '1.', '\\ud800', '0']) + text.slice(at + 1);
}

function outcome(parse: (text: string) => JsonValue, text: string): string {
  try {
    return `ok ${canonicalJson(parse(text))}`;
  } catch (error) {
    if (error instanceof NexusError) return `refused ${error.code}`;
    throw error;
  }
}

describe(`parseJson agrees with the strict parser (seed ${SEED})`, () => {
  it('on 3,000 random documents, valid and corrupted', () => {
    for (let i = 0; i < 3_000; i++) {
      const text = corrupt(pick(SPACE) + value(0) + pick(SPACE));
      expect(outcome(parseJson, text), text).toBe(outcome(parseJsonStrict, text));
    }
  });
});
