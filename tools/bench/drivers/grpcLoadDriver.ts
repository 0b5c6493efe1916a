// Load driver of the grpc-lifecycle benchmark, run as its own process so that the load
// generator never shares a CPU queue with the server it measures.
//
//   node --import tsx tools/bench/drivers/grpcLoadDriver.ts '<json options>'
//
// Keeps `concurrency` calls in flight over one HTTP/2 channel, alternating rounds of
// trivial Echo RPCs and of full decision lifecycles (create, approve, approve, execute),
// and prints one JSON object with throughput and latency percentiles on stdout.
import { performance } from 'node:perf_hooks';
import { createNexusClient, DecisionStatus, Mode, type NexusCallOptions } from '@nexus-control/client';
import { median } from '../measure.js';
import { driverMain } from './driverMain.js';

export interface LoadDriverOptions {
  readonly address: string;
  readonly tokens: { readonly requester: string; readonly approvers: readonly [string, string]; readonly executor: string };
  readonly concurrency: number;
  /** Warm-up of each kind, then `rounds` rounds of each kind, alternating. */
  readonly warmupMs: number;
  readonly roundMs: number;
  readonly rounds: number;
}

export interface KindResult {
  /** Median over the rounds. */
  readonly rpcsPerSecond: number;
  readonly roundRpcsPerSecond: readonly number[];
  readonly rpcs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface LoadDriverResult {
  readonly concurrency: number;
  readonly echo: KindResult;
  readonly lifecycle: KindResult & {
    readonly lifecycles: number;
    /** Median over the rounds. */
    readonly lifecyclesPerSecond: number;
    /** Whole lifecycle, four RPCs back to back. */
    readonly lifecycleP50Ms: number;
    readonly lifecycleP99Ms: number;
    readonly methods: Readonly<Record<string, { readonly p50Ms: number; readonly p99Ms: number }>>;
  };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summarize(samples: number[]): { p50Ms: number; p99Ms: number } {
  const sorted = Float64Array.from(samples).sort();
  return { p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) };
}

async function drive(options: LoadDriverOptions): Promise<LoadDriverResult> {
  const client = createNexusClient({ address: options.address });
  await client.waitForReady(10_000);
  const as = (token: string): NexusCallOptions => ({ metadata: { authorization: `Bearer ${token}` } });
  const requester = as(options.tokens.requester);
  const approvers = options.tokens.approvers.map(as) as [NexusCallOptions, NexusCallOptions];
  const executor = as(options.tokens.executor);

  const latency = {
    echo: [] as number[],
    lifecycle: [] as number[],
    create: [] as number[],
    approve: [] as number[],
    execute: [] as number[],
  };
  let recording = false;
  const timed = async <T>(bucket: number[], call: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    const result = await call();
    if (recording) bucket.push(performance.now() - start);
    return result;
  };

  const echo = async () => {
    await timed(latency.echo, () => client.echo({ message: 'ping' }, requester));
    return 1;
  };
  let sequence = 0;
  const lifecycle = async () => {
    const start = performance.now();
    const { decision } = await timed(latency.create, () =>
      client.createDecision({ goal: `bench lifecycle ${sequence++}`, mode: Mode.MODE_DRY_RUN, policy: { minApprovals: 2 } }, requester),
    );
    const decisionId = decision!.decisionId;
    await timed(latency.approve, () => client.approve({ decisionId }, approvers[0]));
    await timed(latency.approve, () => client.approve({ decisionId }, approvers[1]));
    const executed = await timed(latency.execute, () => client.execute({ decisionId, adapterId: 'null' }, executor));
    if (executed.decision?.status !== DecisionStatus.DECISION_STATUS_COMPLETED)
      throw new Error(`lifecycle ended in status ${executed.decision?.status}`);
    if (recording) latency.lifecycle.push(performance.now() - start);
    return 4;
  };

  /** `concurrency` workers repeat `operation` until `ms` pass; returns RPCs per second. */
  const round = async (
    operation: () => Promise<number>,
    ms: number,
  ): Promise<{ rpcs: number; rpcsPerSecond: number; operations: number }> => {
    const start = performance.now();
    const end = start + ms;
    let rpcs = 0;
    let operations = 0;
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (performance.now() < end) {
          // Not `rpcs += await …`: that reads `rpcs` before the await and loses the other workers' counts.
          const done = await operation();
          rpcs += done;
          operations++;
        }
      }),
    );
    return { rpcs, operations, rpcsPerSecond: (rpcs * 1000) / (performance.now() - start) };
  };

  await round(echo, options.warmupMs / 2);
  await round(lifecycle, options.warmupMs / 2);
  recording = true;
  const rates = { echo: [] as number[], lifecycle: [] as number[] };
  const totals = { echo: 0, lifecycle: 0, lifecycles: 0 };
  for (let i = 0; i < options.rounds; i++) {
    // Alternate who goes first, so neither always runs right after the other.
    const order = i % 2 === 0 ? (['echo', 'lifecycle'] as const) : (['lifecycle', 'echo'] as const);
    for (const kind of order) {
      const result = await round(kind === 'echo' ? echo : lifecycle, options.roundMs);
      rates[kind].push(result.rpcsPerSecond);
      totals[kind] += result.rpcs;
      if (kind === 'lifecycle') totals.lifecycles += result.operations;
    }
  }
  client.close();

  const lifecycleRpcs = median(rates.lifecycle);
  return {
    concurrency: options.concurrency,
    echo: { rpcsPerSecond: median(rates.echo), roundRpcsPerSecond: rates.echo, rpcs: totals.echo, ...summarize(latency.echo) },
    lifecycle: {
      rpcsPerSecond: lifecycleRpcs,
      roundRpcsPerSecond: rates.lifecycle,
      rpcs: totals.lifecycle,
      ...summarize([...latency.create, ...latency.approve, ...latency.execute]),
      lifecycles: totals.lifecycles,
      lifecyclesPerSecond: lifecycleRpcs / 4,
      lifecycleP50Ms: summarize(latency.lifecycle).p50Ms,
      lifecycleP99Ms: summarize(latency.lifecycle).p99Ms,
      methods: { CreateDecision: summarize(latency.create), Approve: summarize(latency.approve), Execute: summarize(latency.execute) },
    },
  };
}

driverMain('grpcLoadDriver.ts', drive);
