// (a) A plain Node ESM program that embeds the published packages: core with the SQLite store,
// one decision run to completion through the null adapter, its audit package verified offline.
import { createNexusControl, exportAuditPackage, systemClock, verifyAuditPackage } from '@nexus-control/core';
import { createSqliteEventStore } from '@nexus-control/store-sqlite';

const store = createSqliteEventStore({ path: process.argv[2] ?? 'app.db' });
const nexus = createNexusControl({ store });
const as = (id) => ({ actor: { type: 'human', id } });

const created = await nexus.request({ goal: 'rotate the signing key', policy: { minApprovals: 2 } }, as('alice'));
await nexus.approve(created.decisionId, {}, as('bob'));
await nexus.approve(created.decisionId, {}, as('carol'));
const { decision, execution } = await nexus.execute(created.decisionId, { adapterId: 'null' }, as('alice'));
const pkg = await exportAuditPackage(store, created.decisionId, { clock: systemClock });
const report = verifyAuditPackage(JSON.stringify(pkg));
await store.close();

if (decision.status !== 'completed' || execution.status !== 'completed' || !report.ok) {
  console.error(JSON.stringify({ status: decision.status, execution: execution.status, report }, null, 2));
  process.exit(1);
}
console.log(`decision ${decision.decisionId} completed; audit package verified (${report.total} checks)`);
