import type { Inspection } from '@nexus-control/core';

/** A decision as a person reads it: one block per aspect, plain text, stable layout. */
export function renderInspection(inspection: Inspection): string {
  const d = inspection.decision;
  const lines: string[] = [];
  lines.push(`Decision ${d.decisionId}`);
  lines.push(`  goal:      ${d.goal}`);
  if (d.plan !== null) lines.push(`  plan:      ${d.plan.split('\n').join('\n             ')}`);
  lines.push(`  mode:      ${d.requestedMode}`);
  lines.push(`  status:    ${d.status} (as of ${d.asOf})`);
  lines.push(`  requester: ${d.requester.id} (${d.requester.type})`);
  lines.push(`  created:   ${d.createdAt}`);
  if (d.labels.length > 0) lines.push(`  labels:    ${d.labels.join(', ')}`);

  lines.push('', 'Policy');
  if (!d.policy) {
    lines.push('  (none attached)');
  } else {
    const p = d.policy;
    lines.push(`  approvals required: ${p.minApprovals}`);
    lines.push(`  allowed modes:      ${p.allowedModes.join(', ')}`);
    lines.push(`  capabilities:       ${p.requireAdapterCapabilities.length ? p.requireAdapterCapabilities.join(', ') : '(none)'}`);
    lines.push(`  max steps:          ${p.maxSteps ?? 'unlimited'}`);
    if (p.template) lines.push(`  template:           ${p.template.name} (sha256:${p.template.digest})`);
  }

  const progress = inspection.progress;
  lines.push(
    '',
    `Approvals (${progress.activeApprovals} of ${progress.requiredApprovals} active, ${Math.round(progress.fraction * 100)}%)`,
  );
  if (d.approvals.length === 0) lines.push('  (none)');
  for (const a of d.approvals) {
    const state =
      a.revokedAt !== undefined
        ? `revoked ${a.revokedAt}${a.revokedReason ? `: ${a.revokedReason}` : ''}`
        : a.expired
          ? `expired ${a.expiresAt}`
          : 'active';
    const expiry = a.expiresAt && a.revokedAt === undefined && !a.expired ? `, expires ${a.expiresAt}` : '';
    lines.push(`  ${a.actor.id}: ${state} (granted ${a.grantedAt}${expiry})${a.comment ? ` "${a.comment}"` : ''}`);
  }

  lines.push('', 'Blocking reasons');
  if (inspection.blockingReasons.length === 0) lines.push('  (none: ready to execute)');
  for (const reason of inspection.blockingReasons) lines.push(`  ${reason.code}: ${reason.message}`);

  lines.push('', 'Executions');
  if (d.executions.length === 0) lines.push('  (none)');
  for (const e of d.executions) {
    const outcome =
      e.status === 'completed'
        ? `completed, run ${e.runId ?? '?'}, ${e.stepsExecuted ?? 0} step(s)`
        : e.status === 'failed'
          ? `failed: ${e.errorCode ?? ''} ${e.errorMessage ?? ''}`.trim()
          : e.status;
    lines.push(`  #${e.requestedSeq} ${e.adapterId} (${e.dryRun ? 'dry run' : 'apply'}) by ${e.actor.id}: ${outcome}`);
  }

  lines.push('', 'Timeline');
  for (const entry of inspection.timeline) lines.push(`  ${String(entry.seq).padStart(3)}  ${entry.ts}  ${entry.summary}`);

  lines.push('', 'Integrity');
  lines.push(
    inspection.integrity.eventDigestsValid
      ? `  all ${inspection.events.length} event digests recompute`
      : `  event digests that do not recompute: seq ${inspection.integrity.invalidEventSeqs.join(', ')}`,
  );
  return lines.join('\n') + '\n';
}
