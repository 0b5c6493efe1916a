import { createHash } from 'node:crypto';
import {
  canonicalJson,
  createMemoryEventStore,
  createNexusControl,
  createNullAdapter,
  createRouter,
  exportAuditPackage,
  fixedClock,
  formatTimestamp,
  JsonFloat,
  newEvent,
  parseTimestamp,
  verifyAuditPackage,
  type JsonValue,
  type NewEvent,
  type RouterAdapter,
} from '@nexus-control/core';
import { compareThroughput, describeComparison } from '../measure.js';
import type { Scenario } from '../scenario.js';

const EVENTS = 10_000;
const APPROVERS = 50;
const START = '2025-01-01T00:00:00+00:00';

/** An adapter whose response also carries what plain JSON would lose (integral floats, a big int). */
const reportingAdapter: RouterAdapter = {
  id: 'reporting',
  capabilities: ['dry_run', 'apply'],
  async run(request) {
    return {
      run_id: 'run_verify_10k',
      status: 'completed',
      steps_executed: 2,
      dry_run: request.dry_run,
      metrics: { ratio: new JsonFloat(1), tiny: 1e-7, huge: new JsonFloat(1e16), bytes: 9007199254740993n },
    };
  },
};

/**
 * A long-lived decision of exactly EVENTS events: requested through the service, then waves
 * of approvals and revocations appended straight to the store (what years of traffic would
 * leave), then executed through the service.
 */
async function exportedPackageText(): Promise<{ text: string; bindingDigest: string }> {
  const store = createMemoryEventStore();
  const clock = fixedClock(START);
  const control = createNexusControl({ store, clock, router: createRouter([createNullAdapter(), reportingAdapter]) });
  const requester = { type: 'human', id: 'requester' } as const;
  const view = await control.request(
    {
      goal: 'keep the payment gateway keys rotated',
      plan: 'rotate\nverify',
      mode: 'dry_run',
      policy: { minApprovals: 3, labels: ['prod'] },
    },
    { actor: requester },
  );
  const id = view.decisionId;
  const bulk = EVENTS - 2 - 3; // created + policy before, requested + started + completed after
  const base = parseTimestamp(START);
  let seq = 2;
  const batch: NewEvent[] = [];
  const flush = async () => {
    await store.append({ decisionId: id, expectedVersion: { generation: 0, length: seq }, events: batch, status: 'approved' });
    seq += batch.length;
    batch.length = 0;
  };
  for (let k = 0; k < bulk; k++) {
    const actor = { type: 'human', id: `approver-${k % APPROVERS}` } as const;
    const wave = Math.floor(k / APPROVERS);
    // Waves alternate grant/revoke; the last wave is a grant, so the decision ends approved.
    const granting = wave % 2 === 0 || wave === Math.floor((bulk - 1) / APPROVERS);
    const ts = formatTimestamp(base + (k + 1) * 1000);
    batch.push(
      granting
        ? newEvent('APPROVAL_GRANTED', { expires_at: null, comment: `wave ${wave}` }, actor, ts)
        : newEvent('APPROVAL_REVOKED', { reason: 'superseded by a new plan' }, actor, ts),
    );
    if (batch.length === 1000) await flush();
  }
  if (batch.length > 0) await flush();
  clock.set(base + (bulk + 10) * 1000);
  await control.execute(id, { adapterId: 'reporting' }, { actor: { type: 'system', id: 'scheduler' } });
  const pkg = await exportAuditPackage(store, id, { mode: 'embedded', clock });
  if (pkg.control_bundle.events.length !== EVENTS) throw new Error(`expected ${EVENTS} events, built ${pkg.control_bundle.events.length}`);
  return { text: canonicalJson(pkg as unknown as JsonValue), bindingDigest: pkg.integrity.binding_digest };
}

export const verify10k: Scenario = {
  name: 'verify-10k',
  description: `verifying a ${EVENTS.toLocaleString('en-US')}-event audit package from its JSON text vs JSON.parse + JSON.stringify + SHA-256 of the same text`,
  target: 0.5,
  async run({ seconds, log }) {
    const { text, bindingDigest } = await exportedPackageText();
    log(`package: ${(text.length / 1e6).toFixed(2)} MB of JSON, ${EVENTS.toLocaleString('en-US')} events, binding ${bindingDigest}`);
    const first = verifyAuditPackage(text);
    if (!first.ok)
      throw new Error(
        `the exported package does not verify: ${first.checks
          .filter((c) => !c.ok)
          .map((c) => c.name)
          .join(', ')}`,
      );
    log(`verification: ${first.passed}/${first.total} checks pass`);

    const comparison = await compareThroughput(
      {
        name: 'verifyAuditPackage(text)',
        operation: () => {
          if (!verifyAuditPackage(text).ok) throw new Error('verification failed during the benchmark');
        },
      },
      {
        name: 'JSON.parse + JSON.stringify + sha256',
        operation: () =>
          createHash('sha256')
            .update(JSON.stringify(JSON.parse(text)))
            .digest('hex'),
      },
      { budgetMs: Math.max(3_000, seconds * 1000 - 2_000), rounds: 9 },
    );
    return { ratio: comparison.ratio, lines: describeComparison('verify-10k', comparison, 'verifications') };
  },
};
