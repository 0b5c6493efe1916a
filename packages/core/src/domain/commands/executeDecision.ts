import { SYSTEM_ACTOR, type Actor, type Mode, type NewEvent } from '../../events/DecisionEvent.js';
import { commandEvent } from './commandEvent.js';
import { ConcurrencyConflictError, NexusError, type ErrorDetails } from '../../errors/NexusError.js';
import { canonicalJson } from '../../json/canonicalJson.js';
import { digestOf, sha256Hex } from '../../json/digest.js';
import { isJsonObject } from '../../json/JsonValue.js';
import { compileRouterRequest } from '../../router/compileRouterRequest.js';
import type { RouterAdapter, RouterRequest, RouterResponse } from '../../router/Router.js';
import { identifierProblem } from '../../text/identifier.js';
import { FIELD_LIMITS, storableText } from '../../text/limits.js';
import { formatTimestamp } from '../../time/timestamp.js';
import { activeApprovalCount, statusAt, viewOf, type DecisionFold } from '../decisionFold.js';
import { executionIdOf, leaseNow } from '../executionLeases.js';
import type { RouterResultRecord } from '../../store/EventStore.js';
import { definedFields, runIdempotent, type IdempotencyClaim } from '../idempotency.js';
import type { BlockingReason, CommandContext, DecisionView, ExecuteInput, ExecutionResult } from '../NexusControlApi.js';
import { replayDecision } from '../replay.js';
import type { ServiceDeps } from '../ServiceDeps.js';
import { validateActor, validateDecisionId, validateMode, validateName } from '../validation.js';
import { appendToFold } from './appendToFold.js';
import { decideOnFold } from './decideOnFold.js';
import { keepLease } from './keepLease.js';
import { retryOnConflict } from './retryOnConflict.js';

/**
 * Every reason the policy forbids executing now, collected without short-circuiting
 * (SPEC §3). An unknown adapter is a violation, never a pass.
 */
export function policyViolations(
  fold: DecisionFold,
  adapter: RouterAdapter | undefined,
  adapterId: string,
  mode: Mode,
  asOf: number,
): BlockingReason[] {
  const violations: BlockingReason[] = [];
  const policy = fold.policy;
  if (!policy) return [{ code: 'NO_POLICY', message: 'the decision has no policy attached' }];
  if (!policy.allowedModes.includes(mode)) {
    violations.push({ code: 'MODE_NOT_ALLOWED', message: `mode '${mode}' is not allowed (allowed: ${policy.allowedModes.join(', ')})` });
  }
  const active = activeApprovalCount(fold, asOf);
  if (active < policy.minApprovals) {
    violations.push({ code: 'INSUFFICIENT_APPROVALS', message: `${active} of ${policy.minApprovals} required approvals are active` });
  }
  if (!adapter) {
    violations.push({ code: 'ADAPTER_NOT_FOUND', message: `no router adapter is named '${adapterId}'` });
  } else {
    if (!adapter.capabilities.includes(mode)) {
      violations.push({ code: 'ADAPTER_MODE_UNSUPPORTED', message: `adapter '${adapterId}' does not support mode '${mode}'` });
    }
    for (const capability of policy.requireAdapterCapabilities) {
      if (!adapter.capabilities.includes(capability)) {
        violations.push({ code: 'MISSING_CAPABILITY', message: `adapter '${adapterId}' lacks the required capability '${capability}'` });
      }
    }
  }
  return violations;
}

interface Outcome {
  readonly event: NewEvent;
  readonly response?: RouterResponse;
  readonly responseJson?: string;
}

/** The adapter ran: its outcome must be recordable whatever it said, so outside text is made storable. */
function failure(runId: string | null, code: string, message: string, ts: string): Outcome {
  const payload = { error_code: code, error_message: storableText(message, FIELD_LIMITS.errorMessageBytes), run_id: runId };
  return { event: commandEvent('EXECUTION_FAILED', payload, SYSTEM_ACTOR, ts) };
}

function outcomeOf(response: unknown, maxSteps: number | null, ts: string): Outcome {
  if (!isJsonObject(response)) return failure(null, 'ROUTER_ERROR', 'the router returned something other than a JSON object', ts);
  const runId = typeof response['run_id'] === 'string' && response['run_id'] !== '' ? response['run_id'] : null;
  const steps = response['steps_executed'];
  if (runId === null) return failure(null, 'ROUTER_ERROR', 'the router response has no run_id', ts);
  const runIdProblem = identifierProblem(runId);
  if (runIdProblem !== undefined) return failure(null, 'ROUTER_ERROR', `the router response's run_id ${runIdProblem}`, ts);
  if (typeof steps !== 'number' || !Number.isSafeInteger(steps) || steps < 0) {
    return failure(runId, 'ROUTER_ERROR', 'the router response has no valid steps_executed', ts);
  }
  let responseJson: string;
  try {
    responseJson = canonicalJson(response);
  } catch (error) {
    return failure(runId, 'ROUTER_ERROR', `the router response is not canonical JSON: ${(error as Error).message}`, ts);
  }
  if (maxSteps !== null && steps > maxSteps) {
    return failure(runId, 'MAX_STEPS_EXCEEDED', `the router executed ${steps} steps; the policy allows at most ${maxSteps}`, ts);
  }
  return {
    event: commandEvent(
      'EXECUTION_COMPLETED',
      { run_id: runId, response_digest: sha256Hex(responseJson), steps_executed: steps },
      SYSTEM_ACTOR,
      ts,
    ),
    response: response as RouterResponse,
    responseJson,
  };
}

/** SPEC §3 Execute: state guard and policy check, then REQUESTED+STARTED, the router call, and the outcome. */
export async function executeDecision(
  deps: ServiceDeps,
  decisionId: string,
  input: ExecuteInput,
  ctx: CommandContext,
): Promise<ExecutionResult> {
  validateDecisionId(decisionId);
  const actor = validateActor(ctx.actor);
  const adapterId = validateName(input?.adapterId, 'adapter id');
  const modeOverride = input.mode === undefined ? undefined : validateMode(input.mode);

  return runIdempotent(
    deps.store,
    ctx,
    'execute',
    definedFields({ decisionId, adapterId, mode: modeOverride }),
    async (claim) => {
      const run: RunRequest = { adapterId, modeOverride, actor, claim };
      if (deps.router.adapter(adapterId)?.sideEffects === false) {
        return retryOnConflict(deps.maxConflictRetries, () =>
          decideOnFold(deps, decisionId, (fold) => runWithoutSideEffects(deps, fold, run, input.signal)),
        );
      }
      // Only the start is retried: a lost race re-reads and re-validates (a twin may have
      // started the run meanwhile). Nothing is retried once the adapter was called.
      const started = await retryOnConflict(deps.maxConflictRetries, () =>
        decideOnFold(deps, decisionId, (fold) => startRun(deps, fold, run)),
      );
      const { fold, adapter, request, generation, requestedSeq } = started;
      const execution = { decisionId, executionId: executionIdOf(decisionId, generation, requestedSeq) };

      const keeper = keepLease(deps.store, deps.clock, deps.leases, decisionId);
      const signal = input.signal ? AbortSignal.any([input.signal, keeper.lost]) : keeper.lost;
      let outcome: Outcome;
      try {
        outcome = await runAdapter(deps, fold, adapter, request, signal, execution);
      } finally {
        keeper.stop();
      }
      return executionResult(await appendOutcome(deps, decisionId, { generation, requestedSeq }, outcome), requestedSeq, outcome);
    },
    async (record) => {
      const fold = await deps.cache.load(decisionId);
      // The key's command may have run on a log an overwrite import has since replaced.
      const decision =
        fold.generation === record.generation
          ? viewOf(fold, deps.clock.now())
          : replayDecision(await deps.store.readEvents(decisionId, { generation: record.generation }), {
              asOf: formatTimestamp(deps.clock.now()),
            });
      const execution = decision.executions.find((e) => e.requestedSeq === record.seq);
      if (!execution)
        throw new NexusError('INTERNAL', `the execution recorded for this idempotency key is missing from decision ${decisionId}`);
      return { decision, execution };
    },
  );
}

/** What an execute asks for, as validated. */
interface RunRequest {
  readonly adapterId: string;
  readonly modeOverride: Mode | undefined;
  readonly actor: Actor;
  readonly claim: IdempotencyClaim | undefined;
}

/** The router's response to keep with the outcome that carries it, if any. */
function routerResultOf(outcome: Outcome): { routerResult?: RouterResultRecord } {
  return outcome.responseJson === undefined
    ? {}
    : { routerResult: { runId: (outcome.response as RouterResponse).run_id, responseJson: outcome.responseJson } };
}

function executionResult(decision: DecisionView, requestedSeq: number, outcome: Outcome): ExecutionResult {
  return {
    decision,
    execution: decision.executions.find((e) => e.requestedSeq === requestedSeq)!,
    ...(outcome.response ? { response: outcome.response } : {}),
  };
}

/** The adapter's run and what it comes to: the outcome event, never a throw. */
async function runAdapter(
  deps: ServiceDeps,
  fold: DecisionFold,
  adapter: RouterAdapter,
  request: RouterRequest,
  signal: AbortSignal | undefined,
  execution: { readonly decisionId: string; readonly executionId: string },
): Promise<Outcome> {
  try {
    const response = await adapter.run(request, { ...(signal ? { signal } : {}), execution });
    return outcomeOf(response, fold.policy?.maxSteps ?? null, formatTimestamp(deps.clock.now()));
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)) || 'the router failed';
    const ts = formatTimestamp(deps.clock.now());
    // A stopped call (shutdown, deadline, lost lease) is still a router error, but it leaves
    // the side effect unknown: the message says so.
    return failure(
      null,
      'ROUTER_ERROR',
      signal?.aborted ? `interrupted: outcome unknown: ${abortReason(signal)}; ${message}` : message,
      ts,
    );
  }
}

/** What the state guard and the policy check allow: the adapter, the mode, and the request to send. */
interface PlannedRun {
  readonly adapter: RouterAdapter;
  readonly mode: Mode;
  readonly request: RouterRequest;
  readonly now: number;
}

/** State guard and policy check on the fold; throws INVALID_STATE or POLICY_VIOLATION. */
function planRun(deps: ServiceDeps, fold: DecisionFold, { adapterId, modeOverride }: RunRequest): PlannedRun {
  const { decisionId } = fold;
  const now = deps.clock.now();
  const status = statusAt(fold, now);
  if (status !== 'approved' && status !== 'failed') {
    throw new NexusError(
      'INVALID_STATE',
      `decision ${decisionId} is ${status}: only an approved decision, or a failed one (retry), can execute`,
      {
        decisionId,
        status,
      },
    );
  }
  const mode = modeOverride ?? fold.requestedMode;
  const adapter = deps.router.adapter(adapterId);
  const violations = policyViolations(fold, adapter, adapterId, mode, now);
  if (violations.length > 0 || !adapter) {
    const details: ErrorDetails = { decisionId, violations };
    const message = `decision ${decisionId} may not execute: ${violations.map((v) => v.message).join('; ')}`;
    // An unknown adapter is one more violation, reported with the others (execution.proto).
    throw new NexusError('POLICY_VIOLATION', message, details);
  }
  return { adapter, mode, request: compileRouterRequest(fold, adapterId, mode === 'dry_run'), now };
}

function startEvents({ adapterId, actor }: RunRequest, planned: PlannedRun): NewEvent[] {
  const ts = formatTimestamp(planned.now);
  return [
    commandEvent('EXECUTION_REQUESTED', { adapter_id: adapterId, dry_run: planned.mode === 'dry_run' }, actor, ts),
    commandEvent('EXECUTION_STARTED', { router_request_digest: digestOf(planned.request) }, SYSTEM_ACTOR, ts),
  ];
}

/**
 * An adapter that touches nothing outside the server runs before anything is written, and its
 * run is recorded whole: REQUESTED, STARTED and the outcome in one append. No crash can leave
 * such a run half recorded, so it takes no lease. A lost race re-validates and runs it again,
 * which is harmless for the same reason.
 */
async function runWithoutSideEffects(
  deps: ServiceDeps,
  fold: DecisionFold,
  run: RunRequest,
  signal: AbortSignal | undefined,
): Promise<ExecutionResult> {
  const planned = planRun(deps, fold, run);
  const decided = { generation: fold.generation, length: fold.eventCount };
  const requestedSeq = decided.length;
  const execution = { decisionId: fold.decisionId, executionId: executionIdOf(fold.decisionId, decided.generation, requestedSeq) };
  const outcome = await runAdapter(deps, fold, planned.adapter, planned.request, signal, execution);
  // The held fold is shared: another command of this process may have advanced it while the
  // adapter ran. The run was decided on the log as it was, so that is the log it must append to.
  if (fold.generation !== decided.generation || fold.eventCount !== decided.length) {
    throw new ConcurrencyConflictError(fold.decisionId, decided, { generation: fold.generation, length: fold.eventCount });
  }
  const decision = await appendToFold(deps, fold, [...startEvents(run, planned), outcome.event], {
    claim: run.claim,
    ...routerResultOf(outcome),
  });
  return executionResult(decision, requestedSeq, outcome);
}

interface StartedRun {
  readonly fold: DecisionFold;
  readonly adapter: RouterAdapter;
  readonly request: RouterRequest;
  readonly generation: number;
  readonly requestedSeq: number;
}

/** State guard, policy check, then REQUESTED+STARTED appended together with the run's lease. */
async function startRun(deps: ServiceDeps, fold: DecisionFold, run: RunRequest): Promise<StartedRun> {
  const planned = planRun(deps, fold, run);
  // REQUESTED and STARTED go in one append: once it lands the decision is `executing`, so no
  // approval or revocation can slip between them, and a concurrent execute loses the race.
  // The lease is taken in the same transaction, so no started run is ever without an owner.
  const started = await appendToFold(deps, fold, startEvents(run, planned), {
    claim: run.claim,
    lease: { owner: deps.leases.owner, expiresAt: leaseNow(planned.now) + deps.leases.leaseMs },
  });
  // The view, not the shared fold: the fold may stay behind if applying the stored events to it failed.
  const requestedSeq = started.executions[started.executions.length - 1]!.requestedSeq;
  return { fold, adapter: planned.adapter, request: planned.request, generation: fold.generation, requestedSeq };
}

function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.message) return reason.message;
  return typeof reason === 'string' && reason !== '' ? reason : 'the call was cancelled';
}

/** Only this execution writes while the decision is `executing`; a conflict means a reload is due. */
async function appendOutcome(
  deps: ServiceDeps,
  decisionId: string,
  started: { readonly generation: number; readonly requestedSeq: number },
  outcome: Outcome,
) {
  const { requestedSeq } = started;
  return retryOnConflict(deps.maxConflictRetries, () =>
    decideOnFold(deps, decisionId, (fold) => {
      const latest = fold.executions[fold.executions.length - 1];
      // A replaced log is another log, even where it holds a running execution at the same seq.
      if (fold.generation !== started.generation || !latest || latest.requestedSeq !== requestedSeq || latest.status !== 'running') {
        throw new NexusError(
          'INVALID_STATE',
          `execution at seq ${requestedSeq} of decision ${decisionId} is no longer running; its outcome was not recorded`,
          { decisionId },
        );
      }
      return appendToFold(deps, fold, [outcome.event], { lease: 'release', ...routerResultOf(outcome) });
    }),
  );
}
