import { describe, expect, it } from 'vitest';
import { dateFromTimestamp, textFromTimestamp, timestampFromDate, timestampFromText } from '../src/timestamps.js';

describe('timestamps', () => {
  it('a recorded timestamp survives the round trip through google.protobuf.Timestamp exactly', () => {
    for (const text of [
      '2025-01-01T00:00:00+00:00',
      '2025-01-01T00:00:00.123000+00:00',
      '1999-12-31T23:59:59.000001+00:00',
      '0001-01-01T00:00:00+00:00',
      '9999-12-31T23:59:59.999999+00:00',
    ]) {
      const ts = timestampFromText(text);
      expect(ts, text).toBeDefined();
      expect(textFromTimestamp(ts!)).toBe(text);
    }
  });

  it('offsets are normalised to UTC and a zero fraction is omitted', () => {
    expect(textFromTimestamp(timestampFromText('2025-06-01T02:30:00.000+02:30')!)).toBe('2025-06-01T00:00:00+00:00');
    expect(textFromTimestamp(timestampFromText('2025-06-01T00:00:00Z')!)).toBe('2025-06-01T00:00:00+00:00');
    expect(timestampFromText('1970-01-01T00:00:00-01:00')).toEqual({ seconds: '3600', nanos: 0 });
  });

  it('nanoseconds beyond the microsecond are truncated', () => {
    expect(textFromTimestamp({ seconds: '0', nanos: 123_456_789 })).toBe('1970-01-01T00:00:00.123456+00:00');
    expect(textFromTimestamp({ seconds: '-1', nanos: 999 })).toBe('1969-12-31T23:59:59+00:00');
  });

  it('timestamps without a zone, with impossible fields, or out of range are rejected', () => {
    expect(timestampFromText('2025-01-01T00:00:00')).toBeUndefined();
    expect(timestampFromText('2025-02-30T00:00:00Z')).toBeUndefined();
    expect(timestampFromText('2025-01-01 00:00:00Z')).toBeUndefined();
    expect(timestampFromText('not a time')).toBeUndefined();
    expect(() => textFromTimestamp({ seconds: '253402300800', nanos: 0 })).toThrow(RangeError);
    expect(() => textFromTimestamp({ seconds: '0', nanos: 1_000_000_000 })).toThrow(RangeError);
  });

  it('converts to and from Date at millisecond precision', () => {
    const date = new Date('2025-03-04T05:06:07.089Z');
    expect(timestampFromDate(date)).toEqual({ seconds: String(Math.floor(date.getTime() / 1000)), nanos: 89_000_000 });
    expect(dateFromTimestamp(timestampFromDate(date)).getTime()).toBe(date.getTime());
    expect(timestampFromDate(new Date(-1))).toEqual({ seconds: '-1', nanos: 999_000_000 });
  });
});
