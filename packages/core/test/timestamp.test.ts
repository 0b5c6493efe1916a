import { describe, expect, it } from 'vitest';
import { NexusError } from '../src/errors/NexusError.js';
import {
  fixedClock,
  formatTimestamp,
  isTimestamp,
  normalizeTimestamp,
  parseTimestamp,
  readCanonicalTimestamp,
  systemClock,
} from '../src/time/index.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof NexusError) return error.code;
    throw error;
  }
  return undefined;
}

const micros = (iso: string) => Date.parse(iso) * 1000;

describe('formatTimestamp writes the reference form', () => {
  it('UTC with +00:00 and no fraction when the microseconds are zero', () => {
    expect(formatTimestamp(micros('2025-01-01T00:00:00Z'))).toBe('2025-01-01T00:00:00+00:00');
    expect(formatTimestamp(0)).toBe('1970-01-01T00:00:00+00:00');
  });

  it('exactly six fraction digits when the microseconds are not zero', () => {
    expect(formatTimestamp(micros('2025-01-01T00:00:00Z') + 123_000)).toBe('2025-01-01T00:00:00.123000+00:00');
    expect(formatTimestamp(micros('2025-06-30T23:59:59Z') + 1)).toBe('2025-06-30T23:59:59.000001+00:00');
    expect(formatTimestamp(micros('2025-06-30T23:59:59Z') + 999_999)).toBe('2025-06-30T23:59:59.999999+00:00');
  });

  it('instants before 1970 count down correctly', () => {
    expect(formatTimestamp(-1)).toBe('1969-12-31T23:59:59.999999+00:00');
    expect(formatTimestamp(-1_000_000)).toBe('1969-12-31T23:59:59+00:00');
    expect(formatTimestamp(micros('1900-02-28T12:00:00Z'))).toBe('1900-02-28T12:00:00+00:00');
  });

  it('covers years 0001 to 9999 with four-digit years', () => {
    expect(formatTimestamp(parseTimestamp('0001-01-01T00:00:00Z'))).toBe('0001-01-01T00:00:00+00:00');
    expect(formatTimestamp(parseTimestamp('0099-03-01T00:00:00Z'))).toBe('0099-03-01T00:00:00+00:00');
    expect(formatTimestamp(parseTimestamp('9999-12-31T23:59:59Z'))).toBe('9999-12-31T23:59:59+00:00');
  });

  it('agrees with Date for a spread of instants', () => {
    for (let ms = -5e12; ms <= 5e12; ms += 7_777_777_777) {
      const expected = new Date(ms)
        .toISOString()
        .replace(/\.000Z$/, '+00:00')
        .replace(/\.(\d{3})Z$/, '.$1000+00:00');
      expect(formatTimestamp(ms * 1000)).toBe(expected);
    }
  });

  it('rejects a fractional or non-finite number and instants outside years 0001–9999', () => {
    for (const bad of [1.5, NaN, Infinity, parseTimestamp('9999-12-31T23:59:59Z') + 1e9, parseTimestamp('0001-01-01T00:00:00Z') - 1e6]) {
      expect(codeOf(() => formatTimestamp(bad))).toBe('INVALID_TIMESTAMP');
    }
  });
});

describe('parseTimestamp reads zoned ISO 8601 / RFC 3339', () => {
  const base = micros('2025-01-01T00:00:00Z');

  it('accepts Z, +00:00 and other offsets, converting to UTC', () => {
    expect(parseTimestamp('2025-01-01T00:00:00Z')).toBe(base);
    expect(parseTimestamp('2025-01-01T00:00:00+00:00')).toBe(base);
    expect(parseTimestamp('2025-01-01T05:30:00+05:30')).toBe(base);
    expect(parseTimestamp('2024-12-31T16:00:00-08:00')).toBe(base);
    expect(parseTimestamp('2025-01-01T00:00:00-00:00')).toBe(base);
  });

  it('accepts a space or a lowercase t between date and time, and a lowercase z', () => {
    expect(parseTimestamp('2025-01-01 00:00:00+00:00')).toBe(base);
    expect(parseTimestamp('2025-01-01t00:00:00z')).toBe(base);
  });

  it('reads fractions of 1 to 9 digits, truncated to microseconds', () => {
    expect(parseTimestamp('2025-01-01T00:00:00.1Z')).toBe(base + 100_000);
    expect(parseTimestamp('2025-01-01T00:00:00.123Z')).toBe(base + 123_000);
    expect(parseTimestamp('2025-01-01T00:00:00.123456+00:00')).toBe(base + 123_456);
    expect(parseTimestamp('2025-01-01T00:00:00.123456789Z')).toBe(base + 123_456);
    expect(parseTimestamp('2025-01-01T00:00:00.000000999Z')).toBe(base);
  });

  it('rejects a timestamp without a time zone', () => {
    expect(codeOf(() => parseTimestamp('2025-01-01T00:00:00'))).toBe('INVALID_TIMESTAMP');
    expect(codeOf(() => parseTimestamp('2025-01-01T00:00:00.123456'))).toBe('INVALID_TIMESTAMP');
  });

  it('validates every field, including leap years', () => {
    expect(parseTimestamp('2024-02-29T00:00:00Z')).toBe(micros('2024-02-29T00:00:00Z'));
    expect(parseTimestamp('2000-02-29T00:00:00Z')).toBe(micros('2000-02-29T00:00:00Z'));
    for (const bad of [
      '2023-02-29T00:00:00Z',
      '1900-02-29T00:00:00Z',
      '2025-04-31T00:00:00Z',
      '2025-00-10T00:00:00Z',
      '2025-13-10T00:00:00Z',
      '2025-01-00T00:00:00Z',
      '2025-01-32T00:00:00Z',
      '2025-01-01T24:00:00Z',
      '2025-01-01T00:60:00Z',
      '2025-01-01T00:00:60Z',
      '0000-01-01T00:00:00Z',
      '2025-01-01T00:00:00+24:00',
      '2025-01-01T00:00:00+05:60',
    ]) {
      expect(
        codeOf(() => parseTimestamp(bad)),
        bad,
      ).toBe('INVALID_TIMESTAMP');
    }
  });

  it('rejects malformed text', () => {
    for (const bad of [
      '',
      'yesterday',
      '2025-01-01',
      '2025-1-01T00:00:00Z',
      '2025-01-01T00:00Z',
      '2025-01-01T00:00:00.Z',
      '2025-01-01T00:00:00.1234567890Z',
      '2025-01-01T00:00:00+0000',
      '2025-01-01T00:00:00 +00:00',
      ' 2025-01-01T00:00:00Z',
      '2025-01-01T00:00:00Z\n',
      '１２３４-01-01T00:00:00Z',
    ]) {
      expect(
        codeOf(() => parseTimestamp(bad)),
        bad,
      ).toBe('INVALID_TIMESTAMP');
    }
  });

  it('rejects an offset that moves the instant outside years 0001–9999', () => {
    expect(codeOf(() => parseTimestamp('0001-01-01T00:00:00+01:00'))).toBe('INVALID_TIMESTAMP');
    expect(codeOf(() => parseTimestamp('9999-12-31T23:00:00-01:30'))).toBe('INVALID_TIMESTAMP');
  });

  it('round-trips with formatTimestamp', () => {
    let x = 1;
    for (let i = 0; i < 2000; i++) {
      x = (x * 48271) % 2147483647;
      const t = Math.floor((x / 2147483647 - 0.5) * 2 * 8e15);
      expect(parseTimestamp(formatTimestamp(t))).toBe(t);
    }
  });

  it('isTimestamp tells accepted text apart without throwing', () => {
    expect(isTimestamp('2025-01-01T00:00:00+00:00')).toBe(true);
    expect(isTimestamp('2025-01-01T00:00:00')).toBe(false);
    expect(isTimestamp(42)).toBe(false);
    expect(isTimestamp(null)).toBe(false);
  });

  it('normalizeTimestamp rewrites to the reference form', () => {
    expect(normalizeTimestamp('2025-01-01T05:30:00.5+05:30')).toBe('2025-01-01T00:00:00.500000+00:00');
    expect(normalizeTimestamp('2025-01-01 00:00:00Z')).toBe('2025-01-01T00:00:00+00:00');
  });
});

describe('clocks', () => {
  it('the system clock reads the wall clock in microseconds', () => {
    const before = Date.now() * 1000;
    const now = systemClock.now();
    expect(Number.isSafeInteger(now)).toBe(true);
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now() * 1000);
  });

  it('a fixed clock stands still until set or advanced', () => {
    const clock = fixedClock('2025-01-01T00:00:00Z');
    expect(formatTimestamp(clock.now())).toBe('2025-01-01T00:00:00+00:00');
    expect(clock.now()).toBe(clock.now());
    clock.advance(1_500_000);
    expect(formatTimestamp(clock.now())).toBe('2025-01-01T00:00:01.500000+00:00');
    clock.advance(-500_000);
    expect(formatTimestamp(clock.now())).toBe('2025-01-01T00:00:01+00:00');
    clock.set('2030-06-01T12:00:00+02:00');
    expect(formatTimestamp(clock.now())).toBe('2030-06-01T10:00:00+00:00');
    clock.set(0);
    expect(clock.now()).toBe(0);
  });

  it('a fixed clock rejects what is not an instant', () => {
    expect(codeOf(() => fixedClock('2025-01-01T00:00:00'))).toBe('INVALID_TIMESTAMP');
    expect(codeOf(() => fixedClock(1.5))).toBe('INVALID_TIMESTAMP');
    expect(codeOf(() => fixedClock(0).advance(0.5))).toBe('INVALID_ARGUMENT');
  });
});

describe('the canonical-shape fast path of parseTimestamp', () => {
  it('agrees with the general path on the instants it writes', () => {
    for (let i = 0; i < 2000; i++) {
      const micros = Math.floor((Math.random() * 2 - 0.5) * 4e15);
      const canonical = formatTimestamp(micros);
      expect(parseTimestamp(canonical)).toBe(micros);
      // The same instant in a shape the fast path does not take ('Z' instead of +00:00).
      expect(parseTimestamp(canonical.replace('+00:00', 'Z'))).toBe(micros);
    }
  });

  it('still rejects out-of-range fields in the canonical shape', () => {
    for (const bad of [
      '2025-02-29T00:00:00+00:00',
      '2025-13-01T00:00:00+00:00',
      '2025-01-01T24:00:00+00:00',
      '0000-01-01T00:00:00+00:00',
    ]) {
      expect(() => parseTimestamp(bad), bad).toThrowError(NexusError);
    }
  });
});

describe('readCanonicalTimestamp', () => {
  it('splits the instants the control plane writes into seconds and microseconds', () => {
    for (let i = 0; i < 2000; i++) {
      const micros = Math.floor((Math.random() * 2 - 0.5) * 4e15);
      const fraction = ((micros % 1e6) + 1e6) % 1e6;
      expect(readCanonicalTimestamp(formatTimestamp(micros))).toEqual({ seconds: (micros - fraction) / 1e6, micros: fraction });
    }
  });

  it('is exact at the ends of years 0001–9999, where epoch microseconds in one number are not', () => {
    expect(readCanonicalTimestamp('0001-01-01T00:00:00.000001+00:00')).toEqual({ seconds: -62135596800, micros: 1 });
    expect(readCanonicalTimestamp('9999-12-31T23:59:59.999999+00:00')).toEqual({ seconds: 253402300799, micros: 999999 });
  });

  it('takes no other shape and no field out of range', () => {
    for (const other of [
      '2025-01-01T00:00:00Z',
      '2025-01-01T00:00:00.5+00:00',
      '2025-01-01 00:00:00+00:00',
      '2025-01-01T00:00:00-01:00',
      '2025-01-01T00:00:00.123456789+00:00',
      '2025-02-29T00:00:00+00:00',
      '2025-01-01T00:00:6a+00:00',
      '',
    ]) {
      expect(readCanonicalTimestamp(other), other).toBeUndefined();
    }
  });
});
