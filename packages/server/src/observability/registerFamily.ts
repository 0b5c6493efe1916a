import type { Metric, Registry, RegistryContentType } from 'prom-client';

/** One sample as prom-client's registry renders it: `metricName{labels,sharedLabels} value`. */
export interface FamilySample {
  readonly value: number;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly sharedLabels?: Readonly<Record<string, string>>;
  readonly metricName?: string;
}

export interface FamilyDefinition {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  samples(): FamilySample[];
  reset(): void;
}

/**
 * Hands a metric family of this server's own to a prom-client registry, which renders it with
 * the rest (names, help, escaping, content type). The registry asks only for the shape that
 * prom-client's own metrics have: a name, and `get()` with the samples.
 */
export function registerFamily(registry: Registry<RegistryContentType>, family: FamilyDefinition): void {
  const metric = {
    name: family.name,
    help: family.help,
    type: family.type,
    aggregator: 'sum',
    // The registry may rename a metric it renders (OpenMetrics counters): samples follow its name.
    get: async () => ({ name: metric.name, help: family.help, type: family.type, aggregator: 'sum', values: family.samples() }),
    reset: () => family.reset(),
  };
  registry.registerMetric(metric as unknown as Metric);
}
