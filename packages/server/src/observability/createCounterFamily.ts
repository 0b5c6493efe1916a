import type { Registry, RegistryContentType } from 'prom-client';
import { labelledSeries } from './labelledSeries.js';
import { registerFamily } from './registerFamily.js';

export interface CounterSeries {
  /** Adds `by` (default 1); a negative or non-finite amount is a programming error and throws. */
  inc(by?: number): void;
}

export interface CounterFamily<L extends string> {
  /** The series of these label values, made on first use: keep it where updates are frequent. */
  labels(values: Readonly<Record<L, string>>): CounterSeries;
  inc(values: Readonly<Record<L, string>>, by?: number): void;
}

/** A counter without labels is its own one series. */
export type Counter = CounterSeries;

class Count implements CounterSeries {
  value = 0;
  inc(by = 1): void {
    if (!(by >= 0) || by === Infinity) throw new TypeError(`a counter cannot move by ${by}`);
    this.value += by;
  }
  reset(): void {
    this.value = 0;
  }
}

interface CounterOptions<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  readonly registers: readonly Registry<RegistryContentType>[];
}

/**
 * A Prometheus counter whose series are plain numbers, rendered by prom-client's registry. A
 * series without a sample yet is not rendered, as with prom-client's own counters.
 */
export function createCounterFamily<L extends string>(options: CounterOptions<L>): CounterFamily<L> {
  const series = labelledSeries(options.labelNames, () => new Count());
  for (const registry of options.registers) {
    registerFamily(registry, {
      name: options.name,
      help: options.help,
      type: 'counter',
      samples: () => Array.from(series.entries(), ({ labels, series: count }) => ({ value: count.value, labels })),
      reset: series.reset,
    });
  }
  return {
    labels: (values) => series.get(values),
    inc: (values, by) => series.get(values).inc(by),
  };
}

/** A counter without labels: its one series is made at once, so it is rendered from the start, at 0. */
export function createCounter(options: Omit<CounterOptions<never>, 'labelNames'>): Counter {
  return createCounterFamily({ ...options, labelNames: [] }).labels({});
}
