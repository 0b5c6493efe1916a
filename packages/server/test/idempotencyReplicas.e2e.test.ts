import { join } from 'node:path';
import { createNexusClient, type NexusClient } from '@nexus-control/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServe, type ServeProcess } from './helpers/serveProcess.js';
import { tempDir } from './helpers/tempDir.js';

const dir = tempDir('nexus-idem-replicas-');
const PAIRS = 20;
let servers: ServeProcess[] = [];
let clients: [NexusClient, NexusClient];

beforeAll(async () => {
  const args = ['--store', `sqlite:${join(dir.path, 'shared.db')}`, '--listen', '127.0.0.1:0'];
  servers = await Promise.all([spawnServe(args), spawnServe(args)]);
  clients = servers.map((s) => createNexusClient({ address: s.address, deadlineMs: 20_000 })) as [NexusClient, NexusClient];
  await Promise.all(clients.map((client) => client.waitForReady(10_000)));
}, 60_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await Promise.all(servers.map((s) => s.stop()));
  dir.remove();
});

/** Sends one call to each server at the same moment; both must succeed. */
async function pair<T>(call: (client: NexusClient) => Promise<T>): Promise<[T, T]> {
  const outcomes = await Promise.allSettled(clients.map(call));
  const failures = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
  expect(failures).toEqual([]);
  return outcomes.map((o) => (o as PromiseFulfilledResult<T>).value) as [T, T];
}

describe('one idempotency key sent to two server processes at the same moment', () => {
  it(`approve, revoke and create: in each of ${PAIRS} pairs both answer OK with the same response, and the command is written once`, async () => {
    const [a] = clients;
    for (let round = 0; round < PAIRS; round++) {
      const created = await pair((client) =>
        client.createDecision({ goal: `twin ${round}`, policy: { minApprovals: 2 }, idempotencyKey: `create-${round}` }),
      );
      expect(created[1]).toEqual(created[0]);
      const decisionId = created[0].decision!.decisionId;

      const approved = await pair((client) => client.approve({ decisionId, comment: 'looks fine', idempotencyKey: `approve-${round}` }));
      expect(approved[1]).toEqual(approved[0]);
      expect(approved[0].decision?.activeApprovals).toBe(1);

      const revoked = await pair((client) => client.revoke({ decisionId, reason: 'changed my mind', idempotencyKey: `revoke-${round}` }));
      expect(revoked[1]).toEqual(revoked[0]);
      expect(revoked[0].decision?.activeApprovals).toBe(0);

      const { events } = await a.listEvents({ decisionId });
      expect(events).toHaveLength(4);
    }
    const { decisions } = await a.listDecisions({ pageSize: 100 });
    expect(decisions.filter((d) => d.goal.startsWith('twin '))).toHaveLength(PAIRS);
  }, 120_000);

  it(`createTemplate: in each of ${PAIRS} pairs both answer OK with the one template created`, async () => {
    for (let round = 0; round < PAIRS; round++) {
      const created = await pair((client) =>
        client.createTemplate({ name: `template-${round}`, policy: { minApprovals: 2 }, idempotencyKey: `template-${round}` }),
      );
      expect(created[1]).toEqual(created[0]);
    }
  }, 60_000);
});
