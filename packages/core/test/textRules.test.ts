import { describe, expect, it } from 'vitest';
import { NexusError } from '../src/errors/NexusError.js';
import {
  checkFreeText,
  checkIdentifier,
  FIELD_LIMITS,
  identifierProblem,
  isIdentifier,
  quote,
  storableText,
  utf8Bytes,
} from '../src/text/index.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof NexusError) return error.code;
    throw error;
  }
  return 'none';
}

describe('the identifier rule (one for every store)', () => {
  it('accepts ordinary and non-ASCII identifiers up to 256 bytes of UTF-8', () => {
    for (const id of ['dec_1', 'alice@example.com', 'équipe-ops', '😀', 'a b', 'x'.repeat(256), 'é'.repeat(128)])
      expect(isIdentifier(id), id).toBe(true);
  });

  it('refuses empty, blank, too long (counted in bytes), control characters and lone surrogates', () => {
    const refused: [unknown, RegExp][] = [
      ['', /empty or blank/],
      ['  \t', /empty or blank/],
      ['x'.repeat(257), /256 bytes/],
      ['é'.repeat(129), /256 bytes/],
      ['a\u0000b', /control/],
      ['a\nb', /control/],
      ['a\u007fb', /control/],
      ['a\u0085b', /control/],
      ['a\ud800b', /lone surrogate/],
      ['\udc00', /lone surrogate/],
      [42, /must be a string/],
      [null, /must be a string/],
    ];
    for (const [value, reason] of refused) expect(identifierProblem(value), String(value)).toMatch(reason);
  });

  it('throws the given code and quotes only a short prefix of what it got', () => {
    const error = (() => {
      try {
        checkIdentifier('d'.repeat(100_000), 'decision id');
      } catch (e) {
        return e as NexusError;
      }
      throw new Error('expected a refusal');
    })();
    expect(error.code).toBe('INVALID_ID');
    expect(error.message.length).toBeLessThan(200);
    expect(codeOf(() => checkIdentifier('', 'actor id', 'INVALID_ACTOR'))).toBe('INVALID_ACTOR');
  });
});

describe('free text', () => {
  it('is kept as given, U+0000 and control characters included, up to its limit in bytes', () => {
    expect(checkFreeText('a\u0000b\nc', 'goal', FIELD_LIMITS.goalBytes)).toBe('a\u0000b\nc');
    expect(checkFreeText('é'.repeat(8 * 1024), 'goal', FIELD_LIMITS.goalBytes)).toHaveLength(8 * 1024);
    expect(codeOf(() => checkFreeText('é'.repeat(8 * 1024 + 1), 'goal', FIELD_LIMITS.goalBytes))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => checkFreeText('a\ud800', 'plan', FIELD_LIMITS.planBytes))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => checkFreeText(7, 'plan', FIELD_LIMITS.planBytes))).toBe('INVALID_ARGUMENT');
  });

  it('text from outside a request is made storable: lone surrogates replaced, cut at a character boundary', () => {
    const cut = storableText('é'.repeat(5_000), 4096);
    expect(utf8Bytes(cut)).toBeLessThanOrEqual(4096);
    expect(cut.endsWith('…')).toBe(true);
    expect(cut).not.toMatch(/\uFFFD/);
    expect(storableText('bad \ud800 text', 4096)).toBe('bad \uFFFD text');
  });
});

describe('quote', () => {
  it('repeats short input whole and long input as a prefix with its length, never splitting a pair', () => {
    expect(quote('abc')).toBe('"abc"');
    expect(quote('x'.repeat(1_000))).toBe(`"${'x'.repeat(64)}"… (1000 characters)`);
    const pairs = '😀'.repeat(100);
    expect(quote(pairs)).not.toMatch(/\\ud83d"/);
  });
});
