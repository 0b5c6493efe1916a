import { checkWritableLog } from '../domain/checkWritableLog.js';
import type { ReplayableEvent } from '../domain/decisionFold.js';
import { isNexusError } from '../errors/NexusError.js';
import type { JsonObject } from '../json/JsonValue.js';
import { identifierProblem } from '../text/identifier.js';
import type { ImportErrorCode } from './types.js';

/**
 * Why a bundle's log could not have been written by commands (README "Field limits and hostile input", imported logs), or
 * undefined. Run whatever `replay_after_import` says, before anything is written.
 */
export function importableLogProblem(
  decisionId: string,
  events: readonly JsonObject[],
): { code: Extract<ImportErrorCode, 'BUNDLE_INVALID_SCHEMA' | 'REPLAY_INVALID'>; message: string } | undefined {
  const idProblem = identifierProblem(decisionId);
  if (idProblem !== undefined) return { code: 'BUNDLE_INVALID_SCHEMA', message: `decision.decision_id ${idProblem}` };
  try {
    // The schema check has seen seq, type, ts, actor and payload under the names replay reads.
    checkWritableLog(events as unknown as readonly ReplayableEvent[]);
  } catch (error) {
    if (!isNexusError(error)) throw error;
    const code = error.code === 'BUNDLE_INVALID_SCHEMA' ? 'BUNDLE_INVALID_SCHEMA' : 'REPLAY_INVALID';
    return { code, message: `the log could not have been written by commands: ${error.message}` };
  }
  return undefined;
}
