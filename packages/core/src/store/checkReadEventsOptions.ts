import { NexusError } from '../errors/NexusError.js';
import type { ReadEventsOptions } from './EventStore.js';

/** `ReadEventsOptions` with its defaults applied; `toSeq` and `generation` stay absent when not given. */
export interface CheckedReadEventsOptions {
  readonly fromSeq: number;
  readonly toSeq: number | undefined;
  /** Absent: the current log. */
  readonly generation: number | undefined;
}

/** The checks on a log read, shared by every store so they reject the same options with the same code. */
export function checkReadEventsOptions(options: ReadEventsOptions = {}): CheckedReadEventsOptions {
  if (typeof options !== 'object' || options === null) {
    throw new NexusError('INVALID_ARGUMENT', 'read options must be an object');
  }
  return {
    fromSeq: nonNegativeInteger('fromSeq', options.fromSeq ?? 0),
    toSeq: options.toSeq === undefined ? undefined : nonNegativeInteger('toSeq', options.toSeq),
    generation: options.generation === undefined ? undefined : nonNegativeInteger('generation', options.generation),
  };
}

function nonNegativeInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new NexusError('INVALID_ARGUMENT', `${name} must be a non-negative integer`, { [name]: value });
  }
  return value;
}
