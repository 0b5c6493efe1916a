import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { NexusError } from '../src/errors/NexusError.js';
import { canonicalJson, digestOf, JsonFloat, parseJson, pythonFloatRepr, type JsonValue } from '../src/json/index.js';
import { seededRandom } from './seededRandom.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof NexusError) return error.code;
    throw error;
  }
  return undefined;
}

describe('canonical JSON: the SPEC §4 vectors', () => {
  const eventDigest = (type: string, payload: JsonValue) => digestOf({ event_type: type, payload });

  it('{} digests to the reference value', () => {
    expect(digestOf({})).toBe('44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
  });

  it('{"b":1,"a":"é"} sorts its keys and keeps é as raw UTF-8', () => {
    expect(canonicalJson({ b: 1, a: 'é' })).toBe('{"a":"é","b":1}');
    expect(digestOf({ b: 1, a: 'é' })).toBe('aa58fba8483623bed37c1b02edfccbdd9a53123837c20bfa4cb4049993a2872e');
  });

  it('{"x":1} and {"x":1.0} are different values with different digests', () => {
    expect(digestOf({ x: 1 })).toBe('5041bf1f713df204784353e82f6a4a535931cb64f1f4b4a5aeaffcb720918b22');
    expect(canonicalJson({ x: new JsonFloat(1) })).toBe('{"x":1.0}');
    expect(digestOf({ x: new JsonFloat(1) })).toBe('bf32f56236899e13ef54db875d136c6cbcc65244464829c54911aa9069b0ae25');
  });

  it('event digest of DECISION_CREATED', () => {
    expect(eventDigest('DECISION_CREATED', { goal: 'g', plan: null, requested_mode: 'dry_run', labels: [] })).toBe(
      'ea08c8db72786a95e11ea83e80e8c4a6bbcdd2219ffd7278e74f80dc8e1b8efa',
    );
  });

  it('event digest of POLICY_ATTACHED', () => {
    const payload = { min_approvals: 1, allowed_modes: ['dry_run'], require_adapter_capabilities: [], max_steps: null, labels: [] };
    expect(eventDigest('POLICY_ATTACHED', payload)).toBe('1312919df176092df6e67c38dd09284aa998e644c8d095fdae9967a0a6299a72');
  });

  it('event digest of APPROVAL_GRANTED', () => {
    expect(eventDigest('APPROVAL_GRANTED', { expires_at: null })).toBe('79b78629bf4dee55065517c950fe627418e05dd0bbee2603b6e008838c3ce759');
  });

  it('event digest of EXECUTION_REQUESTED', () => {
    expect(eventDigest('EXECUTION_REQUESTED', { adapter_id: 'ad', dry_run: true })).toBe(
      '14aec977c77b783b3f37b16f6d61258ab24d99558daca26e32a36eb18e394b03',
    );
  });

  it('binding digest of a 0.6 audit package over prefixed digests', () => {
    const binding = {
      package_version: '0.6',
      control_digest: 'sha256:aaa',
      router_digest: 'sha256:bbb',
      control_router_link_digest: 'sha256:ccc',
    };
    expect(digestOf(binding)).toBe('b9b80da7429447c915a40ddaaefe963edfe3951adcb5ae2631d243faa0d3d901');
  });
});

describe('canonical JSON: objects and key order', () => {
  it('sorts keys recursively and writes no whitespace', () => {
    expect(canonicalJson({ z: [{ d: 1, c: { f: null, e: true } }], a: false })).toBe('{"a":false,"z":[{"c":{"e":true,"f":null},"d":1}]}');
  });

  it('orders keys by code point: U+E000 comes before an astral character', () => {
    expect(canonicalJson({ '\u{1F600}': 1, '\uE000': 2 })).toBe('{"\uE000":2,"\u{1F600}":1}');
    expect(canonicalJson({ '\uE000': 2, '\u{1F600}': 1 })).toBe('{"\uE000":2,"\u{1F600}":1}');
    expect(canonicalJson({ a: { b: 0, '\u{1F600}x': 1, '\uFFFF': 2, '\u{10000}': 3 } })).toBe(
      '{"a":{"b":0,"\uFFFF":2,"\u{10000}":3,"\u{1F600}x":1}}',
    );
  });

  it('orders integer-like keys as strings, not numerically', () => {
    expect(canonicalJson({ 9: 'nine', 10: 'ten', a: 1, '!': 0 })).toBe('{"!":0,"10":"ten","9":"nine","a":1}');
    expect(canonicalJson({ b: { 2: new JsonFloat(2), 10: 10n } })).toBe('{"b":{"10":10,"2":2.0}}');
  });

  it('keeps "__proto__" as an ordinary key', () => {
    const value = parseJson('{"z":1,"__proto__":{"b":2,"a":1.0}}');
    expect(canonicalJson(value)).toBe('{"__proto__":{"a":1.0,"b":2},"z":1}');
  });

  it('accepts objects without a prototype', () => {
    const bare = Object.create(null) as Record<string, JsonValue>;
    bare.b = 1;
    bare.a = 2;
    expect(canonicalJson(bare)).toBe('{"a":2,"b":1}');
  });

  it('does not modify the value it writes', () => {
    const value = { b: [new JsonFloat(1), 2n], a: { d: 1e-7, c: 1 } };
    canonicalJson(value);
    expect(Object.keys(value)).toEqual(['b', 'a']);
    expect(value.b[0]).toBeInstanceOf(JsonFloat);
    expect(Object.keys(value.a)).toEqual(['d', 'c']);
  });
});

describe('canonical JSON: strings', () => {
  it('escapes C0 controls as lowercase \\u00xx and the short escapes as such', () => {
    expect(canonicalJson('\u0001\u001f\b\f\n\r\t"\\')).toBe('"\\u0001\\u001f\\b\\f\\n\\r\\t\\"\\\\"');
    expect(canonicalJson('\u001b')).toBe('"\\u001b"');
  });

  it('leaves U+2028, U+2029, U+007F, "/" and non-ASCII unescaped', () => {
    expect(canonicalJson('\u2028\u2029\u007f/é\u{1F600}')).toBe('"\u2028\u2029\u007f/é\u{1F600}"');
  });

  it('rejects a lone surrogate in a string value', () => {
    expect(codeOf(() => canonicalJson({ a: 'x\uD800y' }))).toBe('CANONICAL_JSON_INVALID');
    expect(codeOf(() => canonicalJson(['\uDC00']))).toBe('CANONICAL_JSON_INVALID');
    expect(codeOf(() => canonicalJson('\uD83D'))).toBe('CANONICAL_JSON_INVALID');
  });

  it('rejects a lone surrogate in a key', () => {
    expect(codeOf(() => canonicalJson({ '\uD800': 1 }))).toBe('CANONICAL_JSON_INVALID');
    expect(codeOf(() => canonicalJson({ a: 1, ['b\uDFFF']: 2, '\u{1F600}': 3 }))).toBe('CANONICAL_JSON_INVALID');
  });

  it('rejects a lone-surrogate string even when it looks like an internal placeholder', () => {
    expect(codeOf(() => canonicalJson([new JsonFloat(1), '\uDFFF0']))).toBe('CANONICAL_JSON_INVALID');
    expect(codeOf(() => canonicalJson({ a: new JsonFloat(1), b: '\uDFFF1' }))).toBe('CANONICAL_JSON_INVALID');
  });

  it('accepts a literal backslash followed by "ud800" (an escape lookalike, not a surrogate)', () => {
    expect(canonicalJson({ a: '\\ud800', b: new JsonFloat(1) })).toBe('{"a":"\\\\ud800","b":1.0}');
  });
});

describe('canonical JSON: numbers', () => {
  it('writes integers exactly, beyond 2^53 and without exponent', () => {
    expect(canonicalJson([0, -0, 7, -42, Number.MAX_SAFE_INTEGER])).toBe('[0,0,7,-42,9007199254740991]');
    expect(canonicalJson(2 ** 64)).toBe('18446744073709551616');
    expect(canonicalJson(1e21)).toBe('1000000000000000000000');
    expect(canonicalJson(-(2 ** 60))).toBe('-1152921504606846976');
  });

  it('writes bigints exactly', () => {
    expect(canonicalJson(2n ** 64n)).toBe('18446744073709551616');
    expect(canonicalJson({ n: -(10n ** 30n) - 1n })).toBe('{"n":-1000000000000000000000000000001}');
  });

  it('writes floats as Python repr does', () => {
    const cases: [JsonValue, string][] = [
      [new JsonFloat(1), '1.0'],
      [new JsonFloat(-0), '-0.0'],
      [new JsonFloat(0), '0.0'],
      [0.1, '0.1'],
      [-2.5, '-2.5'],
      [new JsonFloat(123456789), '123456789.0'],
      [0.0001, '0.0001'],
      [1e-5, '1e-05'],
      [0.00012, '0.00012'],
      [1.5e-7, '1.5e-07'],
      [new JsonFloat(1e16), '1e+16'],
      [new JsonFloat(9999999999999998), '9999999999999998.0'],
      [new JsonFloat(1.5e300), '1.5e+300'],
      [new JsonFloat(1.7976931348623157e308), '1.7976931348623157e+308'],
      [5e-324, '5e-324'],
      [-1.2345e-100, '-1.2345e-100'],
      [new JsonFloat(0.5), '0.5'],
    ];
    for (const [value, text] of cases) expect(canonicalJson(value)).toBe(text);
  });

  it('pythonFloatRepr covers the notation boundaries', () => {
    expect(pythonFloatRepr(1e16)).toBe('1e+16');
    expect(pythonFloatRepr(1e15)).toBe('1000000000000000.0');
    expect(pythonFloatRepr(1e-4)).toBe('0.0001');
    expect(pythonFloatRepr(9.999999999999999e-5)).toBe('9.999999999999999e-05');
    expect(pythonFloatRepr(-0)).toBe('-0.0');
    expect(pythonFloatRepr(1e100)).toBe('1e+100');
    expect(pythonFloatRepr(1e22)).toBe('1e+22');
  });

  it('rejects NaN and infinities, plain or wrapped', () => {
    for (const bad of [NaN, Infinity, -Infinity, new JsonFloat(NaN), new JsonFloat(Infinity)]) {
      expect(codeOf(() => canonicalJson({ x: bad }))).toBe('CANONICAL_JSON_INVALID');
    }
    expect(codeOf(() => pythonFloatRepr(NaN))).toBe('CANONICAL_JSON_INVALID');
  });
});

describe('canonical JSON: what is not a JSON value', () => {
  const cases: [string, unknown][] = [
    ['undefined', { a: undefined }],
    ['a function', { a: () => 1 }],
    ['a symbol', [Symbol('s')]],
    ['a Date', { at: new Date(0) }],
    ['a Map', new Map([['a', 1]])],
    [
      'a class instance',
      new (class Point {
        x = 1;
      })(),
    ],
    ['an array hole', [1, , 3]],
  ];
  for (const [name, value] of cases) {
    it(`rejects ${name}`, () => {
      expect(codeOf(() => canonicalJson(value as JsonValue))).toBe('CANONICAL_JSON_INVALID');
    });
  }

  it('rejects a cyclic value instead of overflowing the stack', () => {
    const cyclic: Record<string, JsonValue> = { a: 1 };
    cyclic.self = cyclic;
    expect(codeOf(() => canonicalJson(cyclic))).toBe('CANONICAL_JSON_INVALID');
  });
});

describe('canonical JSON: parse then canonicalize', () => {
  it('keeps int/float identity and exact digits through a round trip', () => {
    const text =
      '{"n": [1, 1.0, 1e-07, 1e+16, 12345678901234567890, -0.0, 0.5], "o": {"b": [[], {}], "a": {"z": 2E3, "y": 9007199254740993}}}';
    expect(canonicalJson(parseJson(text))).toBe(
      '{"n":[1,1.0,1e-07,1e+16,12345678901234567890,-0.0,0.5],"o":{"a":{"y":9007199254740993,"z":2000.0},"b":[[],{}]}}',
    );
  });

  it('an integer 2^53+1 parsed from text comes back exactly', () => {
    expect(canonicalJson(parseJson('9007199254740993'))).toBe('9007199254740993');
    expect(canonicalJson(parseJson('[-9007199254740993]'))).toBe('[-9007199254740993]');
  });

  it('canonical text is a fixed point', () => {
    const text = '{"a":[1,2.5,1.0,1e+16,"\\u0001é"],"b":{"\uE000":null,"\u{1F600}":true}}';
    expect(canonicalJson(parseJson(text))).toBe(text);
  });
});

// ---------------------------------------------------------------------------------------------
// Against the reference itself: Python's json module, when python3 is available.

const python = spawnSync('python3', ['-c', 'print(1)'], { encoding: 'utf8' });
const hasPython = python.status === 0;
if (!hasPython) console.warn('python3 not found: the comparison with Python json.dumps is skipped');

const PYTHON_SCRIPT = `
import json, struct, sys
req = json.loads(sys.stdin.buffer.read().decode('utf-8'))
floats = [repr(struct.unpack('>d', bytes.fromhex(h))[0]) for h in req['floats']]
docs = [json.dumps(json.loads(t), sort_keys=True, separators=(',', ':'), ensure_ascii=False) for t in req['docs']]
sys.stdout.write(json.dumps({'floats': floats, 'docs': docs}))
`;

function runPython(floats: string[], docs: string[]): { floats: string[]; docs: string[] } {
  const result = spawnSync('python3', ['-c', PYTHON_SCRIPT], {
    input: Buffer.from(JSON.stringify({ floats, docs }), 'utf8'),
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`python3 failed: ${result.stderr.toString()}`);
  return JSON.parse(result.stdout.toString('utf8')) as { floats: string[]; docs: string[] };
}

const view = new DataView(new ArrayBuffer(8));
function toHex(x: number): string {
  view.setFloat64(0, x);
  return view.getBigUint64(0).toString(16).padStart(16, '0');
}
function fromBits(hi: number, lo: number): number {
  view.setUint32(0, hi);
  view.setUint32(4, lo);
  return view.getFloat64(0);
}
function neighbours(x: number): number[] {
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const out: number[] = [];
  for (const b of [bits - 1n, bits + 1n]) {
    view.setBigUint64(0, b);
    out.push(view.getFloat64(0));
  }
  return out.filter(Number.isFinite);
}

function sampleDoubles(random: () => number): number[] {
  const out: number[] = [];
  for (let e = -30; e <= 30; e++) {
    const p = Number(`1e${e}`);
    out.push(p, -p, ...neighbours(p), 1.5 * p, 9.999999999999999 * p);
  }
  out.push(5e-324, 2.2250738585072014e-308, Number.MAX_VALUE, Number.EPSILON, 2 ** 53, 2 ** 53 + 2, 2 ** 63, 0.1 + 0.2);
  for (let i = 0; i < 2500; i++) {
    const x = fromBits(Math.floor(random() * 2 ** 32), Math.floor(random() * 2 ** 32));
    if (Number.isFinite(x)) out.push(x);
  }
  for (let i = 0; i < 1500; i++) {
    const digits = Math.floor(random() * 1e9);
    out.push(digits / 10 ** Math.floor(random() * 25), digits * 10 ** Math.floor(random() * 12));
  }
  for (let i = 0; i < 500; i++) out.push(random() * 10 ** (Math.floor(random() * 40) - 20));
  return out;
}

const KEY_POOL = [
  'a',
  'b',
  'B',
  '',
  '10',
  '9',
  '0',
  '__proto__',
  'é',
  '\uE000',
  '\uFFFF',
  '\u{1F600}',
  '\u{10000}',
  'a\u{1F600}',
  'a\uE000',
  'x y',
  '"',
  '\u0001',
];
const STRING_POOL = ['', 'plain', 'é ✓', '\u2028\u2029', '\u007f', '/', '\\', '"q"', '\u0000\u001f\n\t', '\u{1F600}', 'line\r\n'];

function randomValue(random: () => number, depth: number): JsonValue {
  const pick = random();
  if (depth > 3 || pick < 0.45) {
    const kind = Math.floor(random() * 9);
    switch (kind) {
      case 0:
        return null;
      case 1:
        return random() < 0.5;
      case 2:
        return Math.floor((random() - 0.5) * 2 ** 40);
      case 3:
        return BigInt(Math.floor(random() * 2 ** 30)) * 10n ** BigInt(Math.floor(random() * 20)) * (random() < 0.5 ? -1n : 1n);
      case 4:
        return new JsonFloat(Math.floor((random() - 0.5) * 2 ** 20) * 10 ** Math.floor(random() * 25));
      case 5: {
        const x = (random() - 0.5) * 10 ** (Math.floor(random() * 30) - 15);
        return Number.isInteger(x) ? new JsonFloat(x) : x;
      }
      case 6:
        return new JsonFloat(random() < 0.5 ? -0 : 0);
      default:
        return STRING_POOL[Math.floor(random() * STRING_POOL.length)] as string;
    }
  }
  if (pick < 0.7) {
    return Array.from({ length: Math.floor(random() * 5) }, () => randomValue(random, depth + 1));
  }
  const object: Record<string, JsonValue> = {};
  const n = Math.floor(random() * 6);
  for (let i = 0; i < n; i++) {
    const key = KEY_POOL[Math.floor(random() * KEY_POOL.length)] as string;
    Object.defineProperty(object, key, { value: randomValue(random, depth + 1), enumerable: true, writable: true, configurable: true });
  }
  return object;
}

/** Writes a value as valid but non-canonical JSON: insertion order, whitespace, other number spellings. */
function looseJson(value: JsonValue, random: () => number): string {
  const ws = () => [' ', '', '\n  ', '\t', '\r\n'][Math.floor(random() * 5)] as string;
  if (value === null || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return String(value);
    return random() < 0.5 ? pythonFloatRepr(value) : value.toExponential().toUpperCase();
  }
  if (value instanceof JsonFloat) {
    const x = value.value;
    const spellings = Object.is(x, -0) ? ['-0.0', '-0e0', '-0.000E+3'] : [pythonFloatRepr(x), x.toExponential(), `${BigInt(x)}.000`];
    return spellings[Math.floor(random() * spellings.length)] as string;
  }
  if (Array.isArray(value)) return '[' + ws() + value.map((v) => looseJson(v, random)).join(ws() + ',' + ws()) + ws() + ']';
  const entries = Object.keys(value).map((k) => JSON.stringify(k) + ws() + ':' + ws() + looseJson(value[k] as JsonValue, random));
  return '{' + ws() + entries.join(',' + ws()) + ws() + '}';
}

describe.skipIf(!hasPython)('canonical JSON agrees with Python json.dumps', () => {
  it('prints thousands of doubles exactly as Python repr does', () => {
    const doubles = sampleDoubles(seededRandom(20250101));
    const python = runPython(doubles.map(toHex), []);
    const mismatches = doubles
      .map((x, i) => ({ x, ours: pythonFloatRepr(x), theirs: python.floats[i] }))
      .filter((r) => r.ours !== r.theirs);
    expect(mismatches.slice(0, 10)).toEqual([]);
    expect(python.floats.length).toBe(doubles.length);
  });

  it('canonicalizes random documents exactly as Python does, from canonical and from loose text', () => {
    const random = seededRandom(7);
    const values = Array.from({ length: 400 }, () => randomValue(random, 0));
    const canonical = values.map((v) => canonicalJson(v));
    const loose = values.map((v) => looseJson(v, random));
    const python = runPython([], [...canonical, ...loose]);
    for (let i = 0; i < values.length; i++) {
      const ours = canonical[i] as string;
      expect(python.docs[i], `canonical text of document ${i}`).toBe(ours);
      expect(python.docs[values.length + i], `loose text of document ${i}: ${loose[i]}`).toBe(ours);
      expect(canonicalJson(parseJson(loose[i] as string))).toBe(ours);
      expect(canonicalJson(parseJson(ours))).toBe(ours);
    }
  });
});
