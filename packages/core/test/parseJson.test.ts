import { describe, expect, it } from 'vitest';
import { NexusError } from '../src/errors/NexusError.js';
import { canonicalJson, JsonFloat, parseJson, parseJsonStrict, type JsonValue } from '../src/json/index.js';

function errorOf(fn: () => unknown): NexusError {
  try {
    fn();
  } catch (error) {
    if (error instanceof NexusError) return error;
    throw error;
  }
  throw new Error('expected a NexusError');
}

/** Both parsers must agree; returns parseJson's result. */
function parseBoth(text: string): JsonValue {
  const fast = parseJson(text);
  const strict = parseJsonStrict(text);
  expect(canonicalJson(fast)).toBe(canonicalJson(strict));
  return fast;
}

describe('parseJson: numbers keep their identity', () => {
  it('integers in the safe range are numbers', () => {
    expect(parseBoth('[0, 7, -42, 9007199254740991, -9007199254740991]')).toEqual([0, 7, -42, 9007199254740991, -9007199254740991]);
  });

  it('integers beyond 2^53 are bigints with every digit', () => {
    expect(parseBoth('9007199254740992')).toBe(9007199254740992n);
    expect(parseBoth('9007199254740993')).toBe(9007199254740993n);
    expect(parseBoth('[12345678901234567890, -18446744073709551617]')).toEqual([12345678901234567890n, -18446744073709551617n]);
  });

  it('a 16-digit integer that is still safe stays a number', () => {
    expect(parseBoth('1000000000000000')).toBe(1000000000000000);
  });

  it('floats with a fraction are numbers', () => {
    expect(parseBoth('[0.5, -2.25, 1e-07, 3.14159, 0.8444218515250481, 1.5e-300]')).toEqual([
      0.5, -2.25, 1e-7, 3.14159, 0.8444218515250481, 1.5e-300,
    ]);
  });

  it('float tokens with an integral value are JsonFloat, including -0.0 and exponents', () => {
    const parsed = parseBoth('[1.0, -0.0, 1e16, 1E+16, 2e3, 10E-1, 0.0, 1.000000000000000000001, 1e-400]') as JsonValue[];
    for (const item of parsed) expect(item).toBeInstanceOf(JsonFloat);
    expect(parsed.map((f) => (f as JsonFloat).value)).toEqual([1, -0, 1e16, 1e16, 2000, 1, 0, 1, 0]);
    expect(Object.is((parsed[1] as JsonFloat).value, -0)).toBe(true);
  });

  it('a top-level integral float is a JsonFloat', () => {
    expect(parseBoth(' 1.0 ')).toEqual(new JsonFloat(1));
    expect(parseBoth('-5e0')).toEqual(new JsonFloat(-5));
  });

  it('-0 written as an integer is the integer zero in canonical form', () => {
    expect(canonicalJson(parseBoth('-0'))).toBe('0');
  });

  it('a float that overflows a double is rejected', () => {
    expect(errorOf(() => parseJson('[1e400]')).code).toBe('CANONICAL_JSON_INVALID');
    expect(errorOf(() => parseJson('{"a": -1.5E+309}')).code).toBe('CANONICAL_JSON_INVALID');
  });

  it('numbers inside strings are left alone', () => {
    expect(parseBoth('{"v": "1.0", "w": "12345678901234567890", "x": "3e5"}')).toEqual({ v: '1.0', w: '12345678901234567890', x: '3e5' });
  });
});

describe('parseJson: strict syntax, with the position of the error', () => {
  const invalid: [string, string, number][] = [
    ['a trailing comma in an array', '[1,2,]', 5],
    ['a trailing comma in an object', '{"a":1,}', 7],
    ['a line comment', '{"a":1 // c\n}', 7],
    ['a block comment', '/* c */ 1', 0],
    ['single quotes', "{'a':1}", 1],
    ['an unquoted key', '{a:1}', 1],
    ['a number as a key', '{1.0: 2}', 1],
    ['a leading zero', '[01]', 1],
    ['a leading zero on an integral float', '[01.0]', 1],
    ['a leading zero on a big integer', '[012345678901234567890]', 1],
    ['NaN', '[NaN]', 1],
    ['Infinity', '-Infinity', 0],
    ['a leading plus', '+1', 0],
    ['a bare decimal point', '.5', 0],
    ['a trailing decimal point', '1.', 1],
    ['hexadecimal', '0x10', 1],
    ['trailing garbage', '{"a":1} x', 8],
    ['a second value', '1 2', 2],
    ['nothing', '', 0],
    ['only whitespace', '  \n', 3],
    ['an unterminated string', '["abc', 1],
    ['an unterminated array', '[1, 2', 5],
    ['a raw control character in a string', '["a\u0001b"]', 3],
    ['a raw newline in a string', '"a\nb"', 2],
    ['an invalid escape', '["a\\xb"]', 3],
    ['a short unicode escape', '"\\u12"', 1],
    ['a byte order mark', '\uFEFF{}', 0],
    ['a literal in the wrong case', 'True', 0],
    ['a non-breaking space as whitespace', '[1,\u00a02]', 3],
  ];
  for (const [name, text, position] of invalid) {
    it(`rejects ${name}`, () => {
      const error = errorOf(() => parseJson(text));
      expect(error.code).toBe('CANONICAL_JSON_INVALID');
      expect(error.details.position).toBe(position);
      expect(error.message).toContain(`position ${position}`);
    });
  }

  it('accepts every kind of JSON whitespace', () => {
    expect(parseBoth(' \t\r\n{ \t\r\n"a" \t\r\n: \t\r\n[ 1 , 2.0 ] \t\r\n} \t\r\n')).toEqual({ a: [1, new JsonFloat(2)] });
  });

  it('reports a document nested too deeply as invalid rather than crashing', () => {
    const deep = '['.repeat(200_000) + '1.0' + ']'.repeat(200_000);
    expect(errorOf(() => parseJson(deep)).code).toBe('CANONICAL_JSON_INVALID');
    expect(errorOf(() => parseJsonStrict(deep)).code).toBe('CANONICAL_JSON_INVALID');
  });
});

describe('parseJson: strings', () => {
  it('decodes escapes, including escaped surrogate pairs', () => {
    expect(parseBoth('["\\"\\\\\\/\\b\\f\\n\\r\\t", "\\u00e9\\u2028", "\\ud83d\\ude00", "\\uD83D\\uDE00"]')).toEqual([
      '"\\/\b\f\n\r\t',
      'é\u2028',
      '\u{1F600}',
      '\u{1F600}',
    ]);
  });

  it('keeps raw non-ASCII, astral characters and U+2028 as they are', () => {
    expect(parseBoth('{"é\u{1F600}": "\u2028\u007f✓"}')).toEqual({ 'é\u{1F600}': '\u2028\u007f✓' });
  });

  it('rejects an escaped lone surrogate', () => {
    for (const text of ['"\\ud800"', '["x\\uDFFF"]', '{"a":"\\ud83d x"}', '"\\ude00\\ud83d"']) {
      expect(errorOf(() => parseJson(text)).code).toBe('CANONICAL_JSON_INVALID');
    }
  });

  it('rejects a lone surrogate in a key', () => {
    expect(errorOf(() => parseJson('{"\\ud800": 1}')).code).toBe('CANONICAL_JSON_INVALID');
    expect(errorOf(() => parseJson('{"\uDC00": 1}')).code).toBe('CANONICAL_JSON_INVALID');
  });

  it('rejects a raw lone surrogate in a string', () => {
    expect(errorOf(() => parseJson('["a\uD800b"]')).code).toBe('CANONICAL_JSON_INVALID');
    expect(errorOf(() => parseJson('"\uDFFF0"')).code).toBe('CANONICAL_JSON_INVALID');
  });

  it('accepts an escaped high surrogate followed by a raw low one (a valid pair)', () => {
    expect(parseBoth('"\\ud83d\uDE00"')).toBe('\u{1F600}');
  });

  it('accepts a literal backslash followed by "ud800"', () => {
    expect(parseBoth('["\\\\ud800", 1.0]')).toEqual(['\\ud800', new JsonFloat(1)]);
  });

  it('parses a single string with millions of escapes', () => {
    const text = JSON.stringify(['a\n"'.repeat(1_000_000)]);
    expect(parseJson(text)).toEqual(['a\n"'.repeat(1_000_000)]);
  });
});

describe('parseJson: objects', () => {
  it('refuses duplicate keys on both paths, naming the repeated key at its position', () => {
    const cases: [string, string][] = [
      ['{"a": 1, "b": 2, "a": 3}', '"a"'],
      ['{"a": 1.0, "a": 2}', '"a"'],
      ['{"x": [{"goal": "g", "goal": "h"}]}', '"goal"'],
      ['{"a": 1, "\\u0061": 2}', '"\\u0061"'],
      ['{"0": 1, "0": 2}', '"0"'],
    ];
    for (const [text, repeated] of cases) {
      for (const parse of [parseJson, parseJsonStrict]) {
        const error = errorOf(() => parse(text));
        expect(error.code, text).toBe('CANONICAL_JSON_INVALID');
        expect(error.message).toMatch(/duplicate key/);
        expect(error.details['position'], text).toBe(text.lastIndexOf(repeated));
      }
    }
  });

  it('keeps objects whose keys merely look alike, and index-like keys in any order', () => {
    expect(parseBoth('{"a": 1, "A": 2, "a ": 3}')).toEqual({ a: 1, A: 2, 'a ': 3 });
    expect(parseBoth('{"b": 1.0, "2": 2, "1": 3.0}')).toEqual({ b: new JsonFloat(1), 2: 2, 1: new JsonFloat(3) });
  });

  it('refuses a document beyond the length limit or nested beyond the depth limit, before building it', () => {
    expect(errorOf(() => parseJson('[1, 2, 3]', { maxLength: 8 })).message).toMatch(/more than the limit of 8/);
    const deep = (n: number) => '['.repeat(n) + '1.0' + ']'.repeat(n);
    expect(parseJson(deep(128))).toBeDefined();
    for (const parse of [(t: string) => parseJson(t), (t: string) => parseJsonStrict(t)]) {
      expect(errorOf(() => parse(deep(129))).message).toMatch(/nested deeper than 128 levels/);
    }
    expect(errorOf(() => parseJson(deep(10), { maxDepth: 9 })).code).toBe('CANONICAL_JSON_INVALID');
  });

  it('"__proto__" is an own key, not a prototype', () => {
    for (const text of ['{"__proto__": {"x": 1}}', '{"__proto__": {"x": 1.0}}']) {
      const parsed = parseJson(text) as Record<string, unknown>;
      expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
      expect(Object.keys(parsed)).toEqual(['__proto__']);
      const strict = parseJsonStrict(text) as Record<string, unknown>;
      expect(Object.getPrototypeOf(strict)).toBe(Object.prototype);
      expect(Object.keys(strict)).toEqual(['__proto__']);
    }
  });

  it('parses a realistic document the same way on both paths', () => {
    const events = Array.from({ length: 200 }, (_, i) => ({
      seq: i,
      type: 'APPROVAL_GRANTED',
      ts: `2025-01-01T00:00:0${i % 10}.123456+00:00`,
      payload: { expires_at: null, comment: `ok ${i} — v1.2`, weight: i % 3 === 0 ? '1.0' : 0.25 },
      digest: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    }));
    const text = JSON.stringify({ events, total: 12345678901234567890n.toString(), ratio: 1e-7 }).replace(
      '"total":"12345678901234567890"',
      '"total":12345678901234567890',
    );
    const parsed = parseBoth(text) as { total: bigint; events: unknown[] };
    expect(parsed.total).toBe(12345678901234567890n);
    expect(parsed.events).toHaveLength(200);
  });
});

describe('parseJson: round trip with canonical JSON', () => {
  it('a document mixing ints, floats and big ints comes back byte for byte', () => {
    const text = '{"a":[1,1.0,1e-07,1e+16,12345678901234567890,{"b":[[],{}],"c":-0.0}],"d":{"e":0.5}}';
    expect(canonicalJson(parseBoth(text))).toBe(text);
  });
});

describe('placeholder markers of the fast path', () => {
  it('keeps a string that starts with U+0001 next to numbers that need restoring', () => {
    const text = '{"a":"\\u00010","b":1.0,"c":["\\u0001",12345678901234567890]}';
    const value = parseJson(text);
    expect(canonicalJson(value)).toBe('{"a":"\\u00010","b":1.0,"c":["\\u0001",12345678901234567890]}');
  });

  it('restores integral floats and big integers in a text without U+0001', () => {
    const text = '{"a":"0","b":[1e16,-0.0,18446744073709551616],"c":"\\u0002"}';
    expect(canonicalJson(parseJson(text))).toBe('{"a":"0","b":[1e+16,-0.0,18446744073709551616],"c":"\\u0002"}');
  });
});

describe('numbers only in the last member of a top-level object', () => {
  const documents = [
    '{"a":"x","router":{"run":{"cost":1.0,"big":18446744073709551616,"r":1e-07}}}',
    '{"a":{"s":"} ] , \\" {"},"b":[1,2,3],"z":[1e16,{"k":-0.0}]}',
    '{"events":[{"n":1}],"router":{"s":"\\"}"} ,"last": 2.0 }',
    '{"first":1.0,"last":{"x":12345678901234567890}}',
    '  {"only":3.0}  ',
  ];
  it.each(documents)('gives what the strict parser gives: %s', (text) => {
    expect(canonicalJson(parseJson(text))).toBe(canonicalJson(parseJsonStrict(text)));
  });
});
