import { MODES, type Actor, type Mode } from '../events/DecisionEvent.js';
import { NexusError } from '../errors/NexusError.js';
import { checkIdentifier } from '../text/identifier.js';
import { checkFreeText } from '../text/limits.js';
import { quote } from '../text/quote.js';
import { checkActor } from './eventRules.js';

export function validateActor(actor: unknown): Actor {
  return checkActor(actor);
}

export function validateMode(mode: unknown, field = 'mode'): Mode {
  if (!MODES.includes(mode as Mode)) {
    throw new NexusError('INVALID_MODE', `${field} must be 'dry_run' or 'apply', not ${quote(String(mode))}`, { field });
  }
  return mode as Mode;
}

export function validateDecisionId(decisionId: unknown): string {
  return checkIdentifier(decisionId, 'decision id', 'INVALID_ID');
}

/** Optional free text within its documented limit. */
export function optionalString(value: unknown, field: string, maxBytes: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  return checkFreeText(value, field, maxBytes);
}

/** Names of templates and adapters: readable in URLs, logs and file names. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export function validateName(value: unknown, field: string): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new NexusError(
      'INVALID_ARGUMENT',
      `${field} must be 1-128 characters of letters, digits, '.', '_', ':' or '-', starting with a letter or digit`,
      { field },
    );
  }
  return value;
}
