import { NexusError } from '../errors/NexusError.js';

const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * A store that keeps text as UTF-8 cannot hold a lone UTF-16 surrogate: it would come back as
 * U+FFFD. Such strings are refused rather than silently changed.
 */
export function assertStorableText(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string') {
    throw new NexusError('INVALID_ARGUMENT', `${field} must be a string`, { field });
  }
  if (LONE_SURROGATE.test(value)) {
    throw new NexusError('INVALID_ARGUMENT', `${field} holds a lone surrogate, which cannot be stored`, { field });
  }
}
