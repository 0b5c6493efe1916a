import { performance } from 'node:perf_hooks';

/** One operation of a contender; may be synchronous. */
export type Operation = () => unknown;

export interface Contender {
  readonly name: string;
  readonly operation: Operation;
}

export interface Throughput {
  readonly name: string;
  /** Median over the rounds, operations per second. */
  readonly opsPerSecond: number;
  readonly rounds: readonly number[];
  readonly operations: number;
}

export interface Comparison {
  readonly ours: Throughput;
  readonly baseline: Throughput;
  /** ours / baseline, of the medians. */
  readonly ratio: number;
}

export interface CompareOptions {
  /** Total time for warm-up and rounds, in milliseconds. */
  readonly budgetMs: number;
  /** Rounds per contender (at least 3); each gets an equal slice of the budget. */
  readonly rounds?: number;
}

/** Runs `operation` until `ms` have passed; returns operations per second. */
async function timeSlice(operation: Operation, ms: number): Promise<{ opsPerSecond: number; operations: number }> {
  const start = performance.now();
  const end = start + ms;
  let operations = 0;
  let now: number;
  do {
    const result = operation();
    if (result instanceof Promise) await result;
    operations++;
    now = performance.now();
  } while (now < end);
  return { opsPerSecond: (operations * 1000) / (now - start), operations };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Measures two contenders side by side: a warm-up of each, then alternating rounds
 * (ours, baseline, ours, …) so drift of the machine hits both alike; compares the medians.
 */
export async function compareThroughput(ours: Contender, baseline: Contender, options: CompareOptions): Promise<Comparison> {
  const rounds = Math.max(3, options.rounds ?? 7);
  // Warm-up: one tenth of the budget, split between the two.
  const warmupMs = options.budgetMs / 10;
  const roundMs = (options.budgetMs - warmupMs) / (2 * rounds);
  await timeSlice(ours.operation, warmupMs / 2);
  await timeSlice(baseline.operation, warmupMs / 2);
  const samples = { ours: [] as number[], baseline: [] as number[] };
  let operations = { ours: 0, baseline: 0 };
  for (let round = 0; round < rounds; round++) {
    // Alternate who goes first, so neither always runs right after the other's writes.
    const order = round % 2 === 0 ? (['ours', 'baseline'] as const) : (['baseline', 'ours'] as const);
    for (const who of order) {
      const contender = who === 'ours' ? ours : baseline;
      const slice = await timeSlice(contender.operation, roundMs);
      samples[who].push(slice.opsPerSecond);
      operations = { ...operations, [who]: operations[who] + slice.operations };
    }
  }
  const oursThroughput = { name: ours.name, opsPerSecond: median(samples.ours), rounds: samples.ours, operations: operations.ours };
  const baselineThroughput = {
    name: baseline.name,
    opsPerSecond: median(samples.baseline),
    rounds: samples.baseline,
    operations: operations.baseline,
  };
  return { ours: oursThroughput, baseline: baselineThroughput, ratio: oursThroughput.opsPerSecond / baselineThroughput.opsPerSecond };
}

/** `12,345 ops/s (81.0 µs/op)`. */
export function formatThroughput(opsPerSecond: number, unit = 'ops'): string {
  const perOpMicros = 1e6 / opsPerSecond;
  const time = perOpMicros >= 1000 ? `${(perOpMicros / 1000).toFixed(2)} ms` : `${perOpMicros.toFixed(1)} µs`;
  return `${Math.round(opsPerSecond).toLocaleString('en-US')} ${unit}/s (${time}/${unit.replace(/s$/, '')})`;
}

export function describeComparison(label: string, comparison: Comparison, unit = 'ops'): string[] {
  const spread = (rounds: readonly number[]) =>
    `rounds ${Math.round(Math.min(...rounds)).toLocaleString('en-US')}..${Math.round(Math.max(...rounds)).toLocaleString('en-US')}`;
  return [
    `${label} ours:     ${formatThroughput(comparison.ours.opsPerSecond, unit)}  [${comparison.ours.name}; ${spread(comparison.ours.rounds)}]`,
    `${label} baseline: ${formatThroughput(comparison.baseline.opsPerSecond, unit)}  [${comparison.baseline.name}; ${spread(comparison.baseline.rounds)}]`,
    `${label} ratio:    ${comparison.ratio.toFixed(2)}`,
  ];
}
