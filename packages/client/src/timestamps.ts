import type { Timestamp } from './gen/google/protobuf/timestamp.js';

// Instants travel as google.protobuf.Timestamp; the control plane writes them as text
// (SPEC §4: UTC, `YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00`) with microsecond precision.

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;
const MIN_SECONDS = -62135596800n; // 0001-01-01T00:00:00Z
const MAX_SECONDS = 253402300799n; // 9999-12-31T23:59:59Z

/**
 * Parses an RFC 3339 timestamp that carries a time zone (any offset). Returns undefined
 * for anything else, including timestamps without a zone.
 */
export function timestampFromText(text: string): Timestamp | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string | undefined,
    string,
  ];
  const date = new Date(0);
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  date.setUTCHours(Number(h), Number(mi), Number(s), 0);
  // Reject overflowing fields (e.g. February 30th) instead of letting Date roll them over.
  if (
    date.getUTCFullYear() !== Number(y) ||
    date.getUTCMonth() !== Number(mo) - 1 ||
    date.getUTCDate() !== Number(d) ||
    date.getUTCHours() !== Number(h) ||
    date.getUTCMinutes() !== Number(mi) ||
    date.getUTCSeconds() !== Number(s)
  ) {
    return undefined;
  }
  let seconds = BigInt(date.getTime() / 1000);
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1n : 1n;
    const offsetMinutes = BigInt(Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
    seconds -= sign * offsetMinutes * 60n;
  }
  if (seconds < MIN_SECONDS || seconds > MAX_SECONDS) return undefined;
  const nanos = frac === undefined ? 0 : Number(frac.padEnd(9, '0'));
  return { seconds: seconds.toString(), nanos };
}

/**
 * Formats a Timestamp the way the control plane records instants. Nanoseconds beyond
 * the microsecond are truncated. Throws RangeError for a Timestamp outside 0001–9999 or
 * with nanos outside 0..999999999.
 */
export function textFromTimestamp(timestamp: Timestamp): string {
  const seconds = BigInt(timestamp.seconds);
  const nanos = timestamp.nanos;
  if (seconds < MIN_SECONDS || seconds > MAX_SECONDS) throw new RangeError(`timestamp seconds out of range: ${timestamp.seconds}`);
  if (!Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999) throw new RangeError(`timestamp nanos out of range: ${nanos}`);
  const date = new Date(Number(seconds) * 1000);
  const year = String(date.getUTCFullYear()).padStart(4, '0');
  const rest = date.toISOString().slice(-20, -5); // "-MM-DDTHH:MM:SS"
  const micros = Math.floor(nanos / 1000);
  const fraction = micros === 0 ? '' : '.' + String(micros).padStart(6, '0');
  return `${year}${rest}${fraction}+00:00`;
}

export function timestampFromDate(date: Date): Timestamp {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('invalid date');
  const seconds = Math.floor(ms / 1000);
  return { seconds: String(seconds), nanos: (ms - seconds * 1000) * 1_000_000 };
}

/** Millisecond precision: a Date cannot hold the microseconds. */
export function dateFromTimestamp(timestamp: Timestamp): Date {
  return new Date(Number(timestamp.seconds) * 1000 + Math.floor(timestamp.nanos / 1_000_000));
}
