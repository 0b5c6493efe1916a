import type { Registry, RegistryContentType } from 'prom-client';
import { labelledSeries } from './labelledSeries.js';
import { registerFamily, type FamilySample } from './registerFamily.js';

export interface HistogramSeries {
  observe(value: number): void;
}

export interface HistogramFamily<L extends string> {
  /** The series of these label values, made on first use: keep it where observations are frequent. */
  labels(values: Readonly<Record<L, string>>): HistogramSeries;
}

class Distribution implements HistogramSeries {
  /** Observations per bucket (not cumulative); the last counts those above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`a histogram cannot observe ${value}`);
    const { bounds } = this;
    let bucket = 0;
    while (bucket < bounds.length && value > bounds[bucket]!) bucket++;
    this.counts[bucket]!++;
    this.sum += value;
    this.count++;
  }
  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

/**
 * A Prometheus histogram whose series are bucket counts kept in typed arrays, rendered by
 * prom-client's registry in the samples prom-client's own histograms give (cumulative `_bucket`
 * samples with `le` first, then `+Inf`, `_sum` and `_count`).
 */
export function createHistogramFamily<L extends string>(options: {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  /** Upper bounds, ascending. */
  readonly buckets: readonly number[];
  readonly registers: readonly Registry<RegistryContentType>[];
}): HistogramFamily<L> {
  const bounds = [...options.buckets];
  if (bounds.some((bound, i) => !Number.isFinite(bound) || (i > 0 && bound <= bounds[i - 1]!)))
    throw new TypeError(`histogram ${options.name}: bucket bounds must be finite and ascending`);
  const series = labelledSeries(options.labelNames, () => new Distribution(bounds));
  const bucketName = `${options.name}_bucket`;
  const samples = (): FamilySample[] => {
    const out: FamilySample[] = [];
    for (const { labels, series: distribution } of series.entries()) {
      let cumulative = 0;
      bounds.forEach((le, i) => {
        cumulative += distribution.counts[i]!;
        out.push({ metricName: bucketName, labels: { le }, sharedLabels: labels, value: cumulative });
      });
      out.push(
        { metricName: bucketName, labels: { le: '+Inf' }, sharedLabels: labels, value: distribution.count },
        { metricName: `${options.name}_sum`, labels: {}, sharedLabels: labels, value: distribution.sum },
        { metricName: `${options.name}_count`, labels: {}, sharedLabels: labels, value: distribution.count },
      );
    }
    return out;
  };
  for (const registry of options.registers) {
    registerFamily(registry, { name: options.name, help: options.help, type: 'histogram', samples, reset: series.reset });
  }
  return { labels: (values) => series.get(values) };
}
