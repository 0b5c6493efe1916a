import { NexusError, isNexusError } from '../errors/NexusError.js';
import { digestOf } from '../json/digest.js';
import { checkIdentifier } from '../text/identifier.js';
import { quote } from '../text/quote.js';
import type { JsonObject } from '../json/JsonValue.js';
import type { EventStore, IdempotencyRecord } from '../store/EventStore.js';
import type { CommandContext } from './NexusControlApi.js';

export interface IdempotencyClaim {
  readonly key: string;
  readonly fingerprint: string;
}

/**
 * Runs a command at most once per idempotency key. The key is recorded by the store in the
 * same transaction as the command's events; a repeat (or a concurrent twin that lost the
 * race) gets the first result through `replay`. The fingerprint binds the key to the actor,
 * the command and its arguments, so reusing a key for something else is an error.
 */
export async function runIdempotent<T>(
  store: EventStore,
  ctx: CommandContext,
  command: string,
  args: JsonObject,
  run: (claim: IdempotencyClaim | undefined) => Promise<T>,
  replay: (record: IdempotencyRecord) => Promise<T>,
): Promise<T> {
  const key = ctx.idempotencyKey;
  if (key === undefined || key === '') return run(undefined);
  checkIdentifier(key, 'idempotency key', 'INVALID_ARGUMENT');
  const fingerprint = digestOf({ command, actor: ctx.actor.id, args });
  const resolve = async (record: IdempotencyRecord): Promise<T> => {
    if (record.fingerprint !== fingerprint) {
      throw new NexusError(
        'IDEMPOTENCY_KEY_REUSED',
        `idempotency key ${quote(key)} was already used for a different command or arguments`,
        { idempotencyKey: key },
      );
    }
    return replay(record);
  };
  const existing = await store.getIdempotency(key);
  if (existing) return resolve(existing);
  try {
    return await run({ key, fingerprint });
  } catch (error) {
    // A twin with the same key may have won: the store says so with IDEMPOTENCY_KEY_REUSED, or
    // this command first lost the version race and then, re-validating against the twin's
    // events, failed (e.g. ALREADY_APPROVED). Either way the winner's record is the answer.
    if (isNexusError(error) && error.kind !== 'unavailable' && error.kind !== 'internal') {
      const winner = await store.getIdempotency(key);
      if (winner) return resolve(winner);
    }
    throw error;
  }
}

/** Drops undefined fields so arguments fingerprint the same however they were spelled. */
export function definedFields(fields: Record<string, unknown>): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v as JsonObject[string];
  return out;
}
