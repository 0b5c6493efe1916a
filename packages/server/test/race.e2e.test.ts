import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createNexusClient, EventType, NexusClientError, type NexusClient } from '@nexus-control/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServe, type ServeProcess } from './helpers/serveProcess.js';
import { tempDir } from './helpers/tempDir.js';
import { executorScript } from './helpers/testServer.js';

const dir = tempDir('nexus-race-');
const runLog = join(dir.path, 'runs.log');
let servers: ServeProcess[] = [];
let clients: NexusClient[] = [];

beforeAll(async () => {
  const config = join(dir.path, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      adapters: [
        {
          id: 'deploy',
          type: 'subprocess',
          command: [process.execPath, executorScript],
          env: { RUN_LOG: runLog, DELAY_MS: '200' },
          capabilities: ['dry_run', 'apply'],
        },
      ],
    }),
  );
  const args = ['--store', `sqlite:${join(dir.path, 'shared.db')}`, '--listen', '127.0.0.1:0', '--config', config];
  servers = await Promise.all([spawnServe(args), spawnServe(args)]);
  clients = servers.map((s) => createNexusClient({ address: s.address, deadlineMs: 20_000 }));
}, 60_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await Promise.all(servers.map((s) => s.stop()));
  dir.remove();
});

describe('two server processes on one database', () => {
  it('both listen on their own port and see the same decisions', async () => {
    const [a, b] = clients as [NexusClient, NexusClient];
    expect(servers[0]!.port).not.toBe(servers[1]!.port);
    const { decision } = await a.createDecision({ goal: 'shared' });
    expect((await b.getDecision({ decisionId: decision!.decisionId })).decision?.goal).toBe('shared');
  });

  it('racing to execute the same decision: exactly one run, the other caller is told it lost', async () => {
    const [a, b] = clients as [NexusClient, NexusClient];
    const losers: string[] = [];
    const rounds = 6;
    for (let round = 0; round < rounds; round++) {
      const goal = `race-${round}`;
      const { decision } = await a.createDecision({ goal });
      const decisionId = decision!.decisionId;
      await b.approve({ decisionId });
      const outcomes = await Promise.allSettled([
        a.execute({ decisionId, adapterId: 'deploy' }),
        b.execute({ decisionId, adapterId: 'deploy' }),
      ]);
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => o.reason as unknown);
      expect(won, `round ${round}`).toHaveLength(1);
      expect(lost, `round ${round}`).toHaveLength(1);
      expect(lost[0]).toBeInstanceOf(NexusClientError);
      const error = lost[0] as NexusClientError;
      // A lost race is retried after re-reading, so the loser sees the run the winner started.
      expect([error.code, error.grpcStatusName]).toEqual(['INVALID_STATE', 'FAILED_PRECONDITION']);
      losers.push(error.code);

      const { events } = await a.listEvents({ decisionId });
      expect(
        events.filter((e) => e.type === EventType.EVENT_TYPE_EXECUTION_REQUESTED),
        `round ${round}`,
      ).toHaveLength(1);
      expect(events.at(-1)?.type).toBe(EventType.EVENT_TYPE_EXECUTION_COMPLETED);
    }
    // The executor itself ran exactly once per decision.
    expect(existsSync(runLog)).toBe(true);
    const runs = readFileSync(runLog, 'utf8').trim().split('\n');
    expect(runs.sort()).toEqual(Array.from({ length: rounds }, (_, i) => `race-${i}`).sort());
    expect(losers).toHaveLength(rounds);
  });

  it('both stop cleanly on SIGTERM', async () => {
    const codes = await Promise.all(servers.map((s) => s.stop('SIGTERM')));
    expect(codes).toEqual([0, 0]);
    for (const server of servers) expect(server.logs.map((l) => l['msg'])).toContain('stopped');
  });
});
