import {
  NEW_DECISION,
  newEvent,
  type Actor,
  type AppendRequest,
  type DecisionHeader,
  type DecisionStatus,
  type LogVersion,
  type Mode,
  type NewEvent,
} from '@nexus-control/core';

/*
 * Tiny domain fixtures for store tests: events with payloads exactly as the service writes them.
 */

export const REQUESTER: Actor = Object.freeze({ type: 'human', id: 'requester' });

const BASE_MS = Date.UTC(2025, 0, 1);

/** An event timestamp `seconds` after 2025-01-01T00:00:00+00:00, in the service's format (fraction only when non-zero). */
export function fixtureTs(seconds = 0): string {
  const iso = new Date(BASE_MS + Math.round(seconds * 1000)).toISOString();
  const [whole, fraction] = iso.slice(0, -1).split('.') as [string, string];
  return fraction === '000' ? `${whole}+00:00` : `${whole}.${fraction}000+00:00`;
}

export interface CreatedEventsOptions {
  readonly goal?: string;
  readonly plan?: string | null;
  readonly mode?: Mode;
  readonly labels?: readonly string[];
  readonly minApprovals?: number;
  readonly requester?: Actor;
  readonly ts?: string;
}

export interface CreatedEvents {
  readonly header: DecisionHeader;
  /** DECISION_CREATED then POLICY_ATTACHED, as one request writes them. */
  readonly events: NewEvent[];
}

/** The DECISION_CREATED + POLICY_ATTACHED pair of a request without a template, and its header. */
export function createdEvents(decisionId: string, options: CreatedEventsOptions = {}): CreatedEvents {
  const goal = options.goal ?? `goal of ${decisionId}`;
  const mode = options.mode ?? 'dry_run';
  const labels = [...(options.labels ?? [])];
  const requester = options.requester ?? REQUESTER;
  const ts = options.ts ?? fixtureTs();
  const events = [
    newEvent('DECISION_CREATED', { goal, plan: options.plan ?? null, requested_mode: mode, labels: [...labels] }, requester, ts),
    newEvent(
      'POLICY_ATTACHED',
      {
        min_approvals: options.minApprovals ?? 1,
        allowed_modes: mode === 'dry_run' ? ['dry_run'] : ['dry_run', 'apply'],
        require_adapter_capabilities: [],
        max_steps: null,
        labels: [...labels],
      },
      requester,
      ts,
    ),
  ];
  return { header: { decisionId, createdAt: ts, goal, requestedMode: mode, labels }, events };
}

export interface CreateRequestOptions extends CreatedEventsOptions {
  readonly status?: DecisionStatus;
  readonly idempotency?: AppendRequest['idempotency'];
}

/** The append that creates a decision: header, the created pair, expectedVersion NEW_DECISION. */
export function createRequest(decisionId: string, options: CreateRequestOptions = {}): AppendRequest {
  const { header, events } = createdEvents(decisionId, options);
  return {
    decisionId,
    expectedVersion: NEW_DECISION,
    header,
    events,
    status: options.status ?? 'pending_approval',
    ...(options.idempotency === undefined ? {} : { idempotency: options.idempotency }),
  };
}

export interface ApprovalOptions {
  readonly ts?: string;
  readonly expiresAt?: string | null;
  readonly comment?: string;
}

/** APPROVAL_GRANTED by a human: `expires_at` always, `comment` only when non-empty. */
export function approvalEvent(actorId: string, options: ApprovalOptions = {}): NewEvent {
  const payload = {
    expires_at: options.expiresAt ?? null,
    ...(options.comment === undefined || options.comment === '' ? {} : { comment: options.comment }),
  };
  return newEvent('APPROVAL_GRANTED', payload, { type: 'human', id: actorId }, options.ts ?? fixtureTs(60));
}

export interface ApproveRequestOptions extends ApprovalOptions {
  readonly status?: DecisionStatus;
  readonly idempotency?: AppendRequest['idempotency'];
}

/** A log version: a bare number is that length of generation 0 (a log no import has replaced). */
export function versionOf(expected: number | LogVersion): LogVersion {
  return typeof expected === 'number' ? { generation: 0, length: expected } : expected;
}

/** The append of one approval, expecting the log at `expected`. */
export function approveRequest(
  decisionId: string,
  expected: number | LogVersion,
  actorId: string,
  options: ApproveRequestOptions = {},
): AppendRequest {
  return {
    decisionId,
    expectedVersion: versionOf(expected),
    events: [approvalEvent(actorId, options)],
    status: options.status ?? 'approved',
    ...(options.idempotency === undefined ? {} : { idempotency: options.idempotency }),
  };
}

/**
 * Strings that break naive storage code: SQL and query-language injection, quoting, NUL,
 * astral characters, bidi controls, escapes, pattern wildcards. All distinct and non-empty.
 */
export const HOSTILE_STRINGS: readonly string[] = Object.freeze([
  `double"quote`,
  `single'quote`,
  `"'`,
  `'; DROP TABLE decisions; --`,
  `"); DELETE FROM events; --`,
  `{"$gt": ""}`,
  `$where`,
  `a.b`,
  `nul\u0000inside`,
  `\u0000`,
  `emoji 😀 and astral 𝄞 𠜎`,
  `\u{E000}\u{FFFF}\u{10000}`,
  `שלום עולם \u202E reversed`,
  `back\\slash \\\\ \\u0000 \\n`,
  `new\nline\r\ntab\t`,
  `%`,
  `_`,
  `a%b_c*?[x]`,
  `__proto__`,
  `constructor`,
  ` leading and trailing spaces `,
  `,`,
  `["label"]`,
]);

/** A string of at least 1 MiB (UTF-16 units) mixing escapes, multi-byte and astral characters. */
export function megabyteString(): string {
  const unit = 'a"b\\c\u0000d\né😀\u2028';
  // Whole units only, so no surrogate pair is ever cut in half.
  return unit.repeat(Math.ceil((1 << 20) / unit.length));
}

/**
 * The append that starts a run (EXECUTION_REQUESTED + EXECUTION_STARTED) and takes the
 * decision's execution lease in the same transaction.
 */
export function startRunRequest(
  decisionId: string,
  expected: number | LogVersion,
  lease: { readonly owner: string; readonly expiresAt: number },
): AppendRequest {
  const ts = fixtureTs(120);
  return {
    decisionId,
    expectedVersion: versionOf(expected),
    events: [
      newEvent('EXECUTION_REQUESTED', { adapter_id: 'null', dry_run: true }, { type: 'human', id: 'operator' }, ts),
      newEvent('EXECUTION_STARTED', { router_request_digest: '0'.repeat(64) }, { type: 'system', id: 'nexus-control' }, ts),
    ],
    status: 'executing',
    lease,
  };
}

/** The append that ends a run with EXECUTION_FAILED and drops its lease in the same transaction. */
export function failRunRequest(decisionId: string, expected: number | LogVersion, errorCode = 'EXECUTION_INTERRUPTED'): AppendRequest {
  return {
    decisionId,
    expectedVersion: versionOf(expected),
    events: [
      newEvent(
        'EXECUTION_FAILED',
        { error_code: errorCode, error_message: 'interrupted: outcome unknown', run_id: null },
        { type: 'system', id: 'nexus-control' },
        fixtureTs(180),
      ),
    ],
    status: 'failed',
    lease: 'release',
  };
}
