import { newDecisionId } from '../domain/newDecisionId.js';
import { replayDecision } from '../domain/replay.js';
import type { Actor, DecisionEventType, NewEvent, StoredEvent } from '../events/DecisionEvent.js';
import { eventId } from '../events/DecisionEvent.js';
import { eventDigestFromPayloadJson } from '../events/newEvent.js';
import { isNexusError, NexusError } from '../errors/NexusError.js';
import { unprefixDigest } from '../json/digest.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../json/JsonValue.js';
import { parseJson } from '../json/parseJson.js';
import type { DecisionHeader, EventStore } from '../store/EventStore.js';
import { analyzeBundle } from './bundleChecks.js';
import { importableLogProblem } from './importableLogProblem.js';
import { buildBundle } from './buildBundle.js';
import {
  CONFLICT_MODES,
  type BundleStatus,
  type ConflictMode,
  type DecisionBundle,
  type ImportBundleResult,
  type ImportErrorCode,
} from './types.js';

export interface ImportBundleOptions {
  /** `reject_on_conflict` (default), `new_decision_id` or `overwrite`. */
  readonly conflictMode?: string;
  /** Replay inside the import's atomic unit and require the bundle's status (default true). */
  readonly replayAfterImport?: boolean;
  /** The fresh id for `new_decision_id` (default `dec_` + a random UUID). */
  readonly generateDecisionId?: () => string;
}

/** A failure found inside the store's atomic unit; throwing it undoes the import. */
class ImportCheckFailed extends NexusError {}

function failure(code: ImportErrorCode, error: string): ImportBundleResult {
  return { ok: false, error_code: code, error };
}

function problemList(problems: readonly string[]): string {
  return problems.slice(0, 5).join('; ') + (problems.length > 5 ? `; …and ${problems.length - 5} more` : '');
}

/**
 * Imports a v0.5 bundle (SPEC §5), never throwing for domain failures: the result says what
 * happened. Order: schema, conflict mode, bundle digest, sequence and consistency, then one
 * atomic store write that also re-checks every event digest from the payloads as stored and,
 * with `replayAfterImport`, replays them and requires the bundle's status and digest to
 * reproduce. Any failure leaves the store as it was.
 *
 * `new_decision_id` always imports under a fresh id. Payloads are kept verbatim; the events'
 * `decision_id` and `event_id` are those of the new decision (event ids derive from the
 * decision id), so the new decision's bundle differs from the imported one exactly in those
 * ids and, through them, in its digests.
 */
export async function importBundle(
  store: EventStore,
  input: string | JsonObject | DecisionBundle,
  options: ImportBundleOptions = {},
): Promise<ImportBundleResult> {
  // 1. schema
  let parsed: JsonValue;
  if (typeof input === 'string') {
    try {
      parsed = parseJson(input);
    } catch (error) {
      return failure('BUNDLE_INVALID_SCHEMA', `the bundle is not valid JSON: ${(error as Error).message}`);
    }
  } else {
    parsed = input as JsonValue;
  }
  if (!isJsonObject(parsed)) return failure('BUNDLE_INVALID_SCHEMA', 'the bundle must be a JSON object');
  const analysis = analyzeBundle(parsed);
  if (analysis.schemaProblems.length > 0) {
    return failure('BUNDLE_INVALID_SCHEMA', `invalid bundle: ${problemList(analysis.schemaProblems)}`);
  }

  // 2. conflict mode
  const conflictMode = (options.conflictMode ?? 'reject_on_conflict') as ConflictMode;
  if (!CONFLICT_MODES.includes(conflictMode)) {
    return failure(
      'CONFLICT_MODE_INVALID',
      `conflict_mode must be one of ${CONFLICT_MODES.join(', ')}, not '${String(options.conflictMode)}'`,
    );
  }
  const replayAfterImport = options.replayAfterImport ?? true;

  // 3. bundle digest (nothing written)
  const claimed = analysis.integrity['canonical_digest'] as string;
  if (!analysis.digest.ok) return failure('INTEGRITY_MISMATCH', `the bundle digest cannot be computed: ${analysis.digest.error}`);
  const digestHex = analysis.digest.hex;
  if (unprefixDigest(claimed) !== digestHex) {
    return failure('INTEGRITY_MISMATCH', `bundle digest mismatch: integrity says ${claimed}, the content gives sha256:${digestHex}`);
  }

  // 4. sequence and consistency: the store derives event ids and created_at, so a bundle that
  // disagrees with them could not be exported back unchanged.
  const originalId = analysis.decisionId as string;
  const events = analysis.events;
  const problems: string[] = [];
  events.forEach((event, i) => {
    if (event['seq'] !== i) problems.push(`events[${i}] has seq ${String(event['seq'])}, expected ${i}`);
    else if (event['event_id'] !== eventId(originalId, i)) problems.push(`events[${i}].event_id is not ${eventId(originalId, i)}`);
    if (event['decision_id'] !== originalId) problems.push(`events[${i}].decision_id is not ${originalId}`);
  });
  if (analysis.decision['created_at'] !== events[0]?.['ts']) problems.push('decision.created_at is not the first event ts');
  if (problems.length > 0) return failure('REPLAY_INVALID', `the event sequence is invalid: ${problemList(problems)}`);
  const writable = importableLogProblem(originalId, events);
  if (writable !== undefined) return failure(writable.code, writable.message);
  const replay = analysis.replay();
  if (!replay.ok) return failure('REPLAY_INVALID', `the events do not replay: ${replay.error}`);
  const view = replay.view;

  // 5. atomic write, with the checks that must see the stored events inside the same unit
  const targetId = conflictMode === 'new_decision_id' ? (options.generateDecisionId ?? newDecisionId)() : originalId;
  const header: DecisionHeader = {
    decisionId: targetId,
    createdAt: view.createdAt,
    goal: view.goal,
    requestedMode: view.requestedMode,
    labels: [...view.labels],
  };
  const newEvents: NewEvent[] = events.map((event, i) => {
    const actor = event['actor'] as JsonObject;
    return {
      type: event['type'] as DecisionEventType,
      ts: event['ts'] as string,
      actor: { type: actor['type'], id: actor['id'] } as Actor,
      payload: event['payload'] as JsonObject,
      payloadJson: analysis.payloadJsons[i] as string,
      digest: event['digest'] as string,
    };
  });
  const claimedStatus = analysis.decision['status'] as BundleStatus;

  const verify = (stored: readonly StoredEvent[]): void => {
    if (stored.length !== newEvents.length) {
      throw new ImportCheckFailed('REPLAY_INVALID', `the store holds ${stored.length} events, the bundle has ${newEvents.length}`);
    }
    for (let i = 0; i < stored.length; i++) {
      const event = stored[i] as StoredEvent;
      const recomputed = eventDigestFromPayloadJson(event.type, event.payloadJson);
      if (recomputed !== event.digest || recomputed !== newEvents[i]?.digest) {
        throw new ImportCheckFailed('REPLAY_INVALID', `event ${i}: digest ${newEvents[i]?.digest} does not recompute (got ${recomputed})`);
      }
    }
    if (!replayAfterImport) return;
    const replayed = replayDecision(stored).status.toUpperCase();
    if (replayed !== claimedStatus) {
      throw new ImportCheckFailed('REPLAY_INVALID', `replayed status ${replayed} differs from the bundle's status ${claimedStatus}`);
    }
    // The stored log must export back to the very bundle imported (under its original id).
    const rebuilt = buildBundle(originalId, stored, '').integrity.canonical_digest;
    if (unprefixDigest(rebuilt) !== digestHex) {
      throw new ImportCheckFailed('REPLAY_INVALID', `the stored events rebuild to ${rebuilt}, not the bundle's ${claimed}`);
    }
  };

  let checkFailure: ImportCheckFailed | undefined;
  try {
    await store.importDecision({
      header,
      events: newEvents,
      status: view.status,
      conflictMode: conflictMode === 'overwrite' ? 'overwrite' : 'reject',
      verify: async (stored) => {
        try {
          verify(stored);
        } catch (error) {
          checkFailure =
            error instanceof ImportCheckFailed
              ? error
              : new ImportCheckFailed('REPLAY_INVALID', `replay failed: ${(error as Error).message}`, {}, { cause: error });
          throw checkFailure;
        }
      },
    });
  } catch (error) {
    if (checkFailure) return failure('REPLAY_INVALID', checkFailure.message);
    if (isNexusError(error) && error.code === 'DECISION_EXISTS') return failure('DECISION_EXISTS', error.message);
    return failure('IMPORT_ATOMICITY_FAILED', `the import was not written: ${(error as Error).message}`);
  }

  const imported: Extract<ImportBundleResult, { ok: true }>['imported'] = { decision_id: targetId, events_imported: newEvents.length };
  if (targetId !== originalId) {
    imported.original_decision_id = originalId;
    imported.new_decision_id = targetId;
  }
  return {
    ok: true,
    imported,
    digest_verified: true,
    conflict_mode: conflictMode,
    replay_ran: replayAfterImport,
    ...(replayAfterImport
      ? {
          replay: { ok: true as const, status: claimedStatus, events_replayed: newEvents.length, event_digests_verified: newEvents.length },
        }
      : {}),
  };
}
