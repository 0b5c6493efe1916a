/** One scrape of a Prometheus text endpoint, read by metric name and labels. */
export interface Scrape {
  readonly text: string;
  /** The sample's value; 0 when no sample has exactly these labels (a counter not yet moved). */
  value(name: string, labels?: Readonly<Record<string, string>>): number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export async function scrape(address: string): Promise<Scrape> {
  const response = await fetch(`http://${address}/metrics`);
  if (response.status !== 200) throw new Error(`metrics endpoint answered ${response.status}`);
  const text = await response.text();
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL)) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return {
    text,
    value(name, wanted = {}) {
      const found = samples.find(
        (s) =>
          s.name === name &&
          Object.keys(s.labels).length === Object.keys(wanted).length &&
          Object.entries(wanted).every(([k, v]) => s.labels[k] === v),
      );
      return found?.value ?? 0;
    },
  };
}
