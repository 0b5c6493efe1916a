import type { ErrorCode } from '../errors/errorCodes.js';
import { NexusError } from '../errors/NexusError.js';
import { isWellFormedString } from '../json/unicode.js';
import { quote } from './quote.js';

/** The longest identifier any store must hold, in UTF-8 bytes. */
export const IDENTIFIER_MAX_BYTES = 256;

/** C0 controls, DEL and C1 controls: invisible in logs, and PostgreSQL `text` cannot hold U+0000. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Why `value` is not an identifier, or undefined when it is one. One rule for every
 * identifier (decision ids, labels, capabilities, actor ids, template names, idempotency keys,
 * adapter ids, run ids) so that whatever one store accepts every store accepts: a non-blank
 * string of at most 256 UTF-8 bytes, valid Unicode (no lone surrogate), with no control
 * character.
 */
export function identifierProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.trim() === '') return 'must not be empty or blank';
  // Checked on the UTF-16 length first: a string longer than the limit in code units is
  // longer in bytes too, and is never encoded.
  if (value.length > IDENTIFIER_MAX_BYTES || Buffer.byteLength(value, 'utf8') > IDENTIFIER_MAX_BYTES) {
    return `must be at most ${IDENTIFIER_MAX_BYTES} bytes of UTF-8`;
  }
  if (!isWellFormedString(value)) return 'must be valid Unicode (it holds a lone surrogate)';
  if (CONTROL.test(value)) return 'must not contain control characters';
  return undefined;
}

export function isIdentifier(value: unknown): value is string {
  return identifierProblem(value) === undefined;
}

/** Returns `value` when it is an identifier; otherwise throws `code` naming the field. */
export function checkIdentifier(value: unknown, field: string, code: ErrorCode = 'INVALID_ID'): string {
  const problem = identifierProblem(value);
  if (problem !== undefined) {
    throw new NexusError(code, `${field} ${problem}${typeof value === 'string' ? ` (got ${quote(value)})` : ''}`, { field });
  }
  return value as string;
}
