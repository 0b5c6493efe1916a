// Drives decision lifecycles at two servers in alternating rounds (baseline, observed) from one
// process; prints the JSON result on stdout. Used by the observability-overhead scenario.
import { randomBytes } from 'node:crypto';
import { createNexusClient, DecisionStatus, Mode, type NexusCallOptions, type NexusClient } from '@nexus-control/client';
import { median } from '../measure.js';
import { driverMain } from './driverMain.js';

export interface ObservabilityDriverOptions {
  readonly baseline: string;
  readonly observed: string;
  readonly tokens: { readonly requester: string; readonly approvers: readonly [string, string]; readonly executor: string };
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly roundMs: number;
  readonly rounds: number;
}

export interface ObservabilityDriverResult {
  /**
   * Median over round pairs of observed / baseline, each pair run back to back: the machine's
   * load drifts over a run, and a pair sees nearly the same load.
   */
  readonly pairedRatio: number;
  /** Lifecycle RPCs per second, median over rounds, and every round. */
  readonly baseline: { readonly rpcsPerSecond: number; readonly rounds: readonly number[] };
  readonly observed: { readonly rpcsPerSecond: number; readonly rounds: readonly number[] };
  /** Every RPC each server answered, warm-up included. */
  readonly totals: { readonly baseline: number; readonly observed: number };
}

async function drive(options: ObservabilityDriverOptions): Promise<ObservabilityDriverResult> {
  const clients = {
    baseline: createNexusClient({ address: options.baseline }),
    observed: createNexusClient({ address: options.observed }),
  };
  await Promise.all([clients.baseline.waitForReady(10_000), clients.observed.waitForReady(10_000)]);
  let sequence = 0;
  const totals = { baseline: 0, observed: 0 };
  // Every call carries a caller's trace context, as a traced client's would; the baseline ignores it but for its logs.
  const as = (token: string): NexusCallOptions => ({
    metadata: {
      authorization: `Bearer ${token}`,
      traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
    },
  });
  const lifecycle = async (client: NexusClient) => {
    const { decision } = await client.createDecision(
      { goal: `bench lifecycle ${sequence++}`, mode: Mode.MODE_DRY_RUN, policy: { minApprovals: 2 } },
      as(options.tokens.requester),
    );
    const decisionId = decision!.decisionId;
    await client.approve({ decisionId }, as(options.tokens.approvers[0]));
    await client.approve({ decisionId }, as(options.tokens.approvers[1]));
    const executed = await client.execute({ decisionId, adapterId: 'null' }, as(options.tokens.executor));
    if (executed.decision?.status !== DecisionStatus.DECISION_STATUS_COMPLETED)
      throw new Error(`lifecycle ended in status ${executed.decision?.status}`);
    return 4;
  };
  const round = async (kind: 'baseline' | 'observed', ms: number): Promise<number> => {
    const client = clients[kind];
    const start = performance.now();
    const end = start + ms;
    let rpcs = 0;
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (performance.now() < end) {
          const done = await lifecycle(client);
          rpcs += done;
          totals[kind] += done;
        }
      }),
    );
    return (rpcs * 1000) / (performance.now() - start);
  };

  await round('baseline', options.warmupMs / 2);
  await round('observed', options.warmupMs / 2);
  const rates = { baseline: [] as number[], observed: [] as number[] };
  for (let i = 0; i < options.rounds; i++) {
    const order = i % 2 === 0 ? (['baseline', 'observed'] as const) : (['observed', 'baseline'] as const);
    for (const kind of order) rates[kind].push(await round(kind, options.roundMs));
  }
  clients.baseline.close();
  clients.observed.close();
  return {
    pairedRatio: median(rates.observed.map((observed, i) => observed / rates.baseline[i]!)),
    baseline: { rpcsPerSecond: median(rates.baseline), rounds: rates.baseline },
    observed: { rpcsPerSecond: median(rates.observed), rounds: rates.observed },
    totals,
  };
}

driverMain('observabilityDriver.ts', drive);
