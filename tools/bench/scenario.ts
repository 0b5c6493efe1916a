/** What every benchmark scenario gets from the harness. */
export interface ScenarioOptions {
  /** Wall-clock budget for the whole scenario (setup included), in seconds. */
  readonly seconds: number;
  /** Prints a progress line while the scenario runs. */
  readonly log: (line: string) => void;
}

export interface ScenarioResult {
  /** Our throughput divided by the baseline's, both measured in this run: higher is better. */
  readonly ratio: number;
  /** The absolute figures behind the ratio, one printable line each. */
  readonly lines: readonly string[];
}

export interface Scenario {
  /** Kebab-case, `<store>-<operation>`, as given on the command line. */
  readonly name: string;
  readonly description: string;
  /** The ratio the scenario aims for; reported, never enforced. */
  readonly target: number;
  run(options: ScenarioOptions): Promise<ScenarioResult>;
}
