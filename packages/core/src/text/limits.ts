import type { ErrorCode } from '../errors/errorCodes.js';
import { NexusError } from '../errors/NexusError.js';
import { isWellFormedString } from '../json/unicode.js';

/**
 * The documented maximum of every free-text field and list, in UTF-8 bytes or entries
 * (README "Field limits and hostile input"; the proto comments repeat them). Free text is stored exactly as
 * given, U+0000 included, but it is bounded, so no single field can make a decision, a
 * listing page or an error too large to send.
 */
export const FIELD_LIMITS = {
  goalBytes: 16 * 1024,
  planBytes: 64 * 1024,
  commentBytes: 4 * 1024,
  reasonBytes: 4 * 1024,
  descriptionBytes: 4 * 1024,
  errorCodeBytes: 256,
  errorMessageBytes: 16 * 1024,
  /** Entries in `labels` and in `require_adapter_capabilities`. */
  listEntries: 64,
  minApprovalsMax: 1_000,
  maxStepsMax: 1_000_000,
  /** A template snapshot or overrides object inside POLICY_ATTACHED, as canonical JSON. */
  templateObjectBytes: 64 * 1024,
} as const;

/** Bytes of UTF-8 the string takes (a lone surrogate counts as the 3 bytes of U+FFFD). */
export function utf8Bytes(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

/**
 * Free text: any string (U+0000 included) of at most `maxBytes` UTF-8 bytes. A lone surrogate
 * is refused: it cannot be encoded as UTF-8, so a store would keep something else.
 */
export function freeTextProblem(value: unknown, maxBytes: number): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length > maxBytes || utf8Bytes(value) > maxBytes) return `must be at most ${maxBytes} bytes of UTF-8`;
  if (!isWellFormedString(value)) return 'must be valid Unicode (it holds a lone surrogate)';
  return undefined;
}

export function checkFreeText(value: unknown, field: string, maxBytes: number, code: ErrorCode = 'INVALID_ARGUMENT'): string {
  const problem = freeTextProblem(value, maxBytes);
  if (problem !== undefined)
    throw new NexusError(code, `${field} ${problem}`, { field, ...(typeof value === 'string' ? { limit: maxBytes } : {}) });
  return value as string;
}

/**
 * Text from outside the request (an adapter's error message) made storable: lone surrogates
 * replaced, cut to `maxBytes` of UTF-8 at a character boundary.
 */
export function storableText(value: string, maxBytes: number): string {
  let text = (value as unknown as { toWellFormed(): string }).toWellFormed();
  if (utf8Bytes(text) <= maxBytes) return text;
  const bytes = Buffer.from(text, 'utf8').subarray(0, maxBytes - 3);
  // A cut inside a multi-byte character decodes to U+FFFD at the end: drop it.
  text = bytes.toString('utf8').replace(/\uFFFD$/, '');
  return `${text}…`;
}
