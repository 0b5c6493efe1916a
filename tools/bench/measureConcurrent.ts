import { performance } from 'node:perf_hooks';
import { median, type Comparison, type Throughput } from './measure.js';

/** One worker's operation: `worker` is 0..workers-1, so each can keep its own key or connection. */
export type WorkerOperation = (worker: number) => Promise<unknown>;

export interface ConcurrentContender {
  readonly name: string;
  readonly workers: number;
  readonly operation: WorkerOperation;
}

/** Runs every worker in a loop until `ms` have passed; operations per second of all together. */
async function concurrentSlice(contender: ConcurrentContender, ms: number): Promise<{ opsPerSecond: number; operations: number }> {
  const start = performance.now();
  const end = start + ms;
  let operations = 0;
  await Promise.all(
    Array.from({ length: contender.workers }, async (_, worker) => {
      while (performance.now() < end) {
        await contender.operation(worker);
        operations++;
      }
    }),
  );
  return { opsPerSecond: (operations * 1000) / (performance.now() - start), operations };
}

/** Like `compareThroughput`, for contenders that run several workers at once: warm-up, then alternating rounds. */
export async function compareConcurrentThroughput(
  ours: ConcurrentContender,
  baseline: ConcurrentContender,
  options: { readonly budgetMs: number; readonly rounds?: number },
): Promise<Comparison> {
  const rounds = Math.max(3, options.rounds ?? 7);
  const warmupMs = options.budgetMs / 10;
  const roundMs = (options.budgetMs - warmupMs) / (2 * rounds);
  await concurrentSlice(ours, warmupMs / 2);
  await concurrentSlice(baseline, warmupMs / 2);
  const samples = { ours: [] as number[], baseline: [] as number[] };
  const operations = { ours: 0, baseline: 0 };
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (['ours', 'baseline'] as const) : (['baseline', 'ours'] as const);
    for (const who of order) {
      const slice = await concurrentSlice(who === 'ours' ? ours : baseline, roundMs);
      samples[who].push(slice.opsPerSecond);
      operations[who] += slice.operations;
    }
  }
  const throughput = (name: string, values: number[], ops: number): Throughput => ({
    name,
    opsPerSecond: median(values),
    rounds: values,
    operations: ops,
  });
  const o = throughput(ours.name, samples.ours, operations.ours);
  const b = throughput(baseline.name, samples.baseline, operations.baseline);
  return { ours: o, baseline: b, ratio: o.opsPerSecond / b.opsPerSecond };
}
