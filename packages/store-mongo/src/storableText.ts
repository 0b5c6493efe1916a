import { NexusError } from '@nexus-control/core';

const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * BSON strings are UTF-8, which cannot hold a lone UTF-16 surrogate: the driver would write
 * U+FFFD in its place. Such strings are refused rather than silently changed.
 */
export function assertStorableText(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string') {
    throw new NexusError('INVALID_ARGUMENT', `${field} must be a string`, { field });
  }
  if (LONE_SURROGATE.test(value)) {
    throw new NexusError('INVALID_ARGUMENT', `${field} holds a lone surrogate, which cannot be stored`, { field });
  }
}
