// Proto messages → text for a person. Field values use the SPEC's names, so what a
// person reads matches what `--json` prints.
import type { Actor, Decision, DecisionSummary, Event, Execution, Lifecycle, Policy, Template } from '@nexus-control/client';
import { actorJson, eventTypeText, executionJson, modeText, statusText, timestampText } from './toOutputJson.js';

function actorText(actor: Actor | undefined): string {
  const json = actorJson(actor);
  if (json === null) return '-';
  return json['type'] === 'human' ? String(json['id']) : `${String(json['id'])} (${String(json['type'])})`;
}

function list(values: readonly string[]): string {
  return values.length === 0 ? 'none' : values.join(', ');
}

/** Labels of `label: value` lines line up across a whole rendering. */
const LABEL_WIDTH = 'requested mode'.length;

/** Aligned `label: value` lines, indented; lines of a multi-line value stay in the value column. */
function fields(rows: ReadonlyArray<readonly [string, string]>, indent = '  '): string[] {
  const width = Math.max(LABEL_WIDTH, ...rows.map(([label]) => label.length));
  const continuation = '\n' + ' '.repeat(indent.length + width + 3);
  return rows.map(([label, value]) => `${indent}${(label + ':').padEnd(width + 1)}  ${value.split('\n').join(continuation)}`.trimEnd());
}

export function policyRows(policy: Policy | undefined): Array<readonly [string, string]> {
  if (policy === undefined) return [['policy', 'none (draft)']];
  const rows: Array<readonly [string, string]> = [
    ['min approvals', String(policy.minApprovals)],
    ['allowed modes', list(policy.allowedModes.map(modeText))],
    ['capabilities', list(policy.requireAdapterCapabilities)],
    ['max steps', policy.maxSteps === undefined ? 'no limit' : String(policy.maxSteps)],
    ['labels', list(policy.labels)],
  ];
  if (policy.template) rows.push(['template', `${policy.template.name} (sha256:${policy.template.digest})`]);
  return rows;
}

export function executionLine(execution: Execution): string {
  const json = executionJson(execution);
  const parts = [
    `#${execution.requestedSeq}`,
    String(json['status']),
    `via ${execution.adapterId}`,
    execution.dryRun ? 'dry run' : 'apply',
    `by ${actorText(execution.actor)}`,
  ];
  if (execution.runId !== undefined) parts.push(`run ${execution.runId}`);
  if (execution.stepsExecuted !== undefined) parts.push(`${execution.stepsExecuted} step${execution.stepsExecuted === 1 ? '' : 's'}`);
  if (execution.errorCode !== '') parts.push(`${execution.errorCode}: ${execution.errorMessage}`);
  return parts.join('  ');
}

export function renderDecision(decision: Decision, lifecycle?: Lifecycle): string {
  const lines = [`decision ${decision.decisionId}  ${statusText(decision.status)}`];
  lines.push(
    ...fields([
      ['goal', decision.goal],
      ['plan', decision.plan ?? '-'],
      ['requested mode', modeText(decision.requestedMode)],
      ['requester', actorText(decision.requester)],
      ['created', timestampText(decision.createdAt) ?? '-'],
      ['updated', timestampText(decision.updatedAt) ?? '-'],
      ...policyRows(decision.policy),
      ['approvals', `${decision.activeApprovals} active of ${decision.policy?.minApprovals ?? '?'} required`],
    ]),
  );
  for (const approval of decision.approvals) {
    const parts = [`    - ${actorText(approval.actor)}`, approval.active ? 'active' : approval.revokedAt ? 'revoked' : 'expired'];
    parts.push(`granted ${timestampText(approval.grantedAt) ?? '-'}`);
    if (approval.expiresAt) parts.push(`expires ${timestampText(approval.expiresAt)}`);
    if (approval.revokedAt)
      parts.push(`revoked ${timestampText(approval.revokedAt)}${approval.revokedReason ? ` (${approval.revokedReason})` : ''}`);
    if (approval.comment) parts.push(JSON.stringify(approval.comment));
    lines.push(parts.join('  '));
  }
  lines.push(...fields([['executions', decision.executions.length === 0 ? 'none' : String(decision.executions.length)]]));
  for (const execution of decision.executions) lines.push(`    - ${executionLine(execution)}`);
  if (lifecycle) {
    if (lifecycle.blockingReasons.length === 0) {
      lines.push(...fields([['blocked by', 'nothing']]));
    } else {
      lines.push(...fields([['blocked by', '']]));
      for (const reason of lifecycle.blockingReasons) lines.push(`    - ${reason.code}: ${reason.message}`);
    }
  }
  lines.push(...fields([['events', String(decision.eventCount)]]));
  return lines.join('\n');
}

/** A table of decisions, newest first. */
export function renderSummaries(summaries: readonly DecisionSummary[]): string {
  if (summaries.length === 0) return 'no decisions';
  const rows = summaries.map((summary) => [
    summary.decisionId,
    statusText(summary.status),
    modeText(summary.requestedMode),
    timestampText(summary.createdAt) ?? '-',
    summary.goal,
  ]);
  return table(['DECISION', 'STATUS', 'MODE', 'CREATED', 'GOAL'], rows);
}

export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** One line per event, as `decision watch` prints them: its checkpoint token first. */
export function renderEvent(event: Event): string {
  const generation = event.generation > 0 ? ` g${event.generation}` : '';
  return `${event.checkpoint}  ${event.recordedTs}  ${event.decisionId}  #${event.seq}${generation}  ${eventTypeText(event.type)}  by ${actorText(event.actor)}  ${event.payloadJson}`;
}

export function renderTemplate(template: Template): string {
  return [
    `template ${template.name}`,
    ...fields([
      ['description', template.description === '' ? '-' : template.description],
      ...policyRows(template.policy).filter(([label]) => label !== 'template'),
      ['digest', `sha256:${template.digest}`],
      ['created', timestampText(template.createdAt) ?? '-'],
      ['created by', actorText(template.createdBy)],
    ]),
  ].join('\n');
}

export function renderTemplates(templates: readonly Template[]): string {
  if (templates.length === 0) return 'no templates';
  return table(
    ['NAME', 'APPROVALS', 'MODES', 'LABELS', 'DESCRIPTION'],
    templates.map((template) => [
      template.name,
      String(template.policy?.minApprovals ?? '-'),
      (template.policy?.allowedModes ?? []).map(modeText).join(','),
      (template.policy?.labels ?? []).join(',') || '-',
      template.description,
    ]),
  );
}
