/**
 * The series of one metric family, one per combination of label values, found by those values
 * in the family's label order. A caller on a hot path looks its series up once and keeps it:
 * updating a kept series touches no labels at all. A reset zeroes the series rather than
 * dropping them, so a series kept across it counts on.
 */
export function labelledSeries<L extends string, S extends { reset(): void }>(
  labelNames: readonly L[],
  create: (labels: Readonly<Record<L, string>>) => S,
) {
  const all = new Map<string, { readonly labels: Readonly<Record<L, string>>; readonly series: S }>();
  return {
    get(values: Readonly<Record<L, string>>): S {
      let key = '';
      for (const name of labelNames) key += `${values[name]}\u0000`;
      let found = all.get(key);
      if (found === undefined) {
        // A copy in the family's label order: the caller's object may be reused or changed.
        const labels = {} as Record<L, string>;
        for (const name of labelNames) {
          const value = values[name];
          if (typeof value !== 'string') throw new TypeError(`label ${name} has no value`);
          labels[name] = value;
        }
        found = { labels, series: create(labels) };
        all.set(key, found);
      }
      return found.series;
    },
    entries: () => all.values(),
    reset: () => {
      for (const { series } of all.values()) series.reset();
    },
  };
}
