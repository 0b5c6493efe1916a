import { NexusError } from '../errors/NexusError.js';
import { parseTimestamp } from './timestamp.js';

/** The source of "now", in epoch microseconds. Injected everywhere so tests control time. */
export interface Clock {
  now(): number;
}

/** The wall clock (millisecond resolution, so the microsecond digits are always 000). */
export const systemClock: Clock = Object.freeze({
  now: (): number => Date.now() * 1000,
});

/** A clock that moves only when told to. */
export interface ManualClock extends Clock {
  /** Jumps to an instant: a zoned timestamp or epoch microseconds. */
  set(at: string | number): void;
  /** Moves by a (possibly negative) whole number of microseconds. */
  advance(micros: number): void;
}

export function fixedClock(initial: string | number): ManualClock {
  let current = toMicros(initial);
  return {
    now: () => current,
    set: (at) => {
      current = toMicros(at);
    },
    advance: (micros) => {
      if (!Number.isInteger(micros)) {
        throw new NexusError('INVALID_ARGUMENT', `advance takes whole microseconds, got ${micros}`, { micros });
      }
      current += micros;
    },
  };
}

function toMicros(at: string | number): number {
  if (typeof at === 'string') return parseTimestamp(at);
  if (!Number.isInteger(at)) {
    throw new NexusError('INVALID_TIMESTAMP', `${at} is not a whole number of epoch microseconds`, { value: String(at) });
  }
  return at;
}
