import { NexusError } from '../errors/NexusError.js';
import { quote, truncateText } from '../text/quote.js';

/*
 * Instants are epoch microseconds held in a `number`. Exact for every microsecond within
 * about ±285 years of 1970 (|t| <= 2^53); beyond that, whole seconds stay exact but a
 * sub-second fraction rounds to the nearest representable value (8–32 µs apart).
 */

const MICROS_PER_SECOND = 1_000_000;
const SECONDS_PER_DAY = 86_400;

/** Writes an instant as the reference does: UTC, `YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00`. */
export function formatTimestamp(epochMicros: number): string {
  if (!Number.isInteger(epochMicros)) {
    throw new NexusError('INVALID_TIMESTAMP', `${String(epochMicros)} is not a whole number of epoch microseconds`, {
      value: String(epochMicros),
    });
  }
  let seconds: number;
  let fraction: number;
  if (Number.isSafeInteger(epochMicros)) {
    fraction = epochMicros % MICROS_PER_SECOND;
    if (fraction < 0) fraction += MICROS_PER_SECOND;
    seconds = (epochMicros - fraction) / MICROS_PER_SECOND;
  } else {
    const micros = BigInt(epochMicros);
    let rest = micros % 1_000_000n;
    if (rest < 0n) rest += 1_000_000n;
    seconds = Number((micros - rest) / 1_000_000n);
    fraction = Number(rest);
  }
  if (seconds < MIN_SECONDS || seconds > MAX_SECONDS) {
    throw new NexusError('INVALID_TIMESTAMP', `epoch microseconds ${epochMicros} fall outside years 0001–9999`, {
      value: epochMicros,
    });
  }
  const days = Math.floor(seconds / SECONDS_PER_DAY);
  let secondOfDay = seconds - days * SECONDS_PER_DAY;
  const hour = Math.floor(secondOfDay / 3600);
  secondOfDay -= hour * 3600;
  const minute = Math.floor(secondOfDay / 60);
  const second = secondOfDay - minute * 60;
  const [year, month, day] = civilFromDays(days);
  let text = pad(year, 4) + '-' + pad(month, 2) + '-' + pad(day, 2) + 'T' + pad(hour, 2) + ':' + pad(minute, 2) + ':' + pad(second, 2);
  if (fraction !== 0) text += '.' + pad(fraction, 6);
  return text + '+00:00';
}

/**
 * Reads an ISO 8601 / RFC 3339 timestamp that carries a time zone (`Z`, `+00:00`, `-08:00`),
 * with `T` or a space between date and time and an optional fraction of 1–9 digits
 * (truncated to microseconds). Returns epoch microseconds. A timestamp without a time zone,
 * or with any field out of range, is rejected with INVALID_TIMESTAMP.
 */
export function parseTimestamp(text: string): number {
  const fast = typeof text === 'string' ? canonicalTimestampMicros(text) : undefined;
  if (fast !== undefined) return fast;
  const result = tryParseTimestamp(text);
  if (typeof result === 'number') return result;
  throw new NexusError('INVALID_TIMESTAMP', `${quote(String(text))} is not a valid timestamp: ${result.reason}`, {
    value: truncateText(String(text), 64),
  });
}

/** True when `value` is a timestamp string that `parseTimestamp` accepts. */
export function isTimestamp(value: unknown): value is string {
  return typeof value === 'string' && typeof tryParseTimestamp(value) === 'number';
}

/** Re-writes a zoned timestamp in the canonical form (UTC, `+00:00`, microseconds only when non-zero). */
export function normalizeTimestamp(text: string): string {
  return formatTimestamp(parseTimestamp(text));
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))?$/;

function tryParseTimestamp(text: string): number | { reason: string } {
  if (typeof text !== 'string') return { reason: 'not a string' };
  const m = TIMESTAMP.exec(text);
  if (m === null) return { reason: 'expected YYYY-MM-DDTHH:MM:SS[.fraction] followed by Z or ±HH:MM' };
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (m[8] === undefined && m[9] === undefined) return { reason: 'it has no time zone' };
  if (year < 1) return { reason: 'the year must be 0001–9999' };
  if (month < 1 || month > 12) return { reason: 'the month must be 01–12' };
  if (day < 1 || day > daysInMonth(year, month)) return { reason: `the day must be 01–${daysInMonth(year, month)} in that month` };
  if (hour > 23) return { reason: 'the hour must be 00–23' };
  if (minute > 59) return { reason: 'the minute must be 00–59' };
  if (second > 59) return { reason: 'the second must be 00–59' };
  let offsetSeconds = 0;
  if (m[9] !== undefined) {
    const offsetHours = Number(m[10]);
    const offsetMinutes = Number(m[11]);
    if (offsetHours > 23 || offsetMinutes > 59) return { reason: 'the time zone offset must be within ±23:59' };
    offsetSeconds = (offsetHours * 3600 + offsetMinutes * 60) * (m[9] === '-' ? -1 : 1);
  }
  const seconds = daysFromCivil(year, month, day) * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second - offsetSeconds;
  if (seconds < MIN_SECONDS || seconds > MAX_SECONDS) return { reason: 'it falls outside years 0001–9999 in UTC' };
  const digits = m[7];
  const fraction = digits === undefined ? 0 : Number((digits + '00000').slice(0, 6));
  return seconds * MICROS_PER_SECOND + fraction;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

// Proleptic Gregorian day counts relative to 1970-01-01 (H. Hinnant's civil-date algorithms).
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

function civilFromDays(days: number): [number, number, number] {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

const MIN_SECONDS = daysFromCivil(1, 1, 1) * SECONDS_PER_DAY;
const MAX_SECONDS = (daysFromCivil(9999, 12, 31) + 1) * SECONDS_PER_DAY - 1;

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/*
 * Replay parses every approval's expiry, and long logs are mostly approvals; every response
 * of the API carries a handful of instants. The timestamps the control plane writes have one
 * exact shape, `YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00`, read here without a regex; any other form
 * (or a field out of range) returns undefined and takes the general path, which gives the same
 * value or the error.
 */
function canonicalTimestampMicros(text: string): number | undefined {
  const seconds = canonicalSeconds(text);
  return seconds === undefined ? undefined : seconds * MICROS_PER_SECOND + canonicalFraction(text);
}

/**
 * A timestamp in the exact shape the control plane writes, as whole seconds since the epoch
 * and the microseconds within that second (exact over all of years 0001–9999, where epoch
 * microseconds in one number would not be); undefined for any other text.
 */
export function readCanonicalTimestamp(text: string): { readonly seconds: number; readonly micros: number } | undefined {
  const seconds = canonicalSeconds(text);
  return seconds === undefined ? undefined : { seconds, micros: canonicalFraction(text) };
}

/** The microseconds of a text `canonicalSeconds` accepted. */
function canonicalFraction(text: string): number {
  return text.length === 32 ? digitsAt(text, 20, 6) : 0;
}

function canonicalSeconds(text: string): number | undefined {
  const n = text.length;
  if (
    (n === 25 || (n === 32 && text.charCodeAt(19) === 0x2e)) &&
    text.charCodeAt(4) === 0x2d &&
    text.charCodeAt(7) === 0x2d &&
    text.charCodeAt(10) === 0x54 &&
    text.charCodeAt(13) === 0x3a &&
    text.charCodeAt(16) === 0x3a &&
    text.endsWith('+00:00')
  ) {
    const year = digitsAt(text, 0, 4);
    const month = digitsAt(text, 5, 2);
    const day = digitsAt(text, 8, 2);
    const hour = digitsAt(text, 11, 2);
    const minute = digitsAt(text, 14, 2);
    const second = digitsAt(text, 17, 2);
    const fraction = n === 32 ? digitsAt(text, 20, 6) : 0;
    // Any field out of range (or not digits: -1) takes the general path, which says why.
    if (
      year >= 1 &&
      month >= 1 &&
      month <= 12 &&
      day >= 1 &&
      day <= daysInMonth(year, month) &&
      hour >= 0 &&
      hour <= 23 &&
      minute >= 0 &&
      minute <= 59 &&
      second >= 0 &&
      second <= 59 &&
      fraction >= 0
    ) {
      return daysFromCivil(year, month, day) * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second;
    }
  }
  return undefined;
}

/** The decimal value of `length` ASCII digits at `start`, or -1 if any is not a digit. */
function digitsAt(text: string, start: number, length: number): number {
  let value = 0;
  for (let i = start; i < start + length; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}
