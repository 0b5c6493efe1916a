import { MODES, type Actor, type Mode } from '../events/DecisionEvent.js';
import { NexusError } from '../errors/NexusError.js';

export function validateActor(actor: unknown): Actor {
  const a = actor as Partial<Actor> | null;
  if (typeof a !== 'object' || a === null) throw new NexusError('INVALID_ACTOR', 'an actor {type, id} is required');
  if (a.type !== 'human' && a.type !== 'system') {
    throw new NexusError('INVALID_ACTOR', `actor type must be 'human' or 'system', not '${String(a.type)}'`);
  }
  if (typeof a.id !== 'string' || a.id.trim() === '') throw new NexusError('INVALID_ACTOR', 'actor id must be a non-empty string');
  return { type: a.type, id: a.id };
}

export function validateMode(mode: unknown, field = 'mode'): Mode {
  if (!MODES.includes(mode as Mode)) {
    throw new NexusError('INVALID_MODE', `${field} must be 'dry_run' or 'apply', not '${String(mode)}'`, { field });
  }
  return mode as Mode;
}

export function validateDecisionId(decisionId: unknown): string {
  if (typeof decisionId !== 'string' || decisionId === '') {
    throw new NexusError('INVALID_ID', 'a decision id must be a non-empty string');
  }
  return decisionId;
}

export function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new NexusError('INVALID_ARGUMENT', `${field} must be a string`, { field });
  return value;
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
