// Benchmark harness: `npm run bench -- --list`, `npm run bench -- NAME [--seconds N] [--runs N]`.
// Each scenario ends with `NAME: ratio R (target >= T)`; the exit code does not depend on R.
import { machineLine } from './machine.js';
import { median } from './measure.js';
import type { Scenario } from './scenario.js';
import { scenarios } from './scenarios/index.js';

const DEFAULT_SECONDS = 40;

const USAGE = `usage: npm run bench -- [--list] [--seconds N] [--runs N] NAME [NAME ...]

  --list       list the scenarios
  --seconds N  time budget per scenario and run, setup included (default ${DEFAULT_SECONDS})
  --runs N     run each scenario N times (default 1): R is then the median of the runs

Each scenario prints its absolute figures and the machine, then
"NAME: ratio R (target >= T)": our throughput over the baseline's, measured in the same run.
On a shared machine the same code can swing by several per cent from run to run; a verdict
on a target wants several runs.`;

function listing(): string {
  const width = Math.max(...scenarios.map((scenario) => scenario.name.length));
  return scenarios.map((scenario) => `${scenario.name.padEnd(width)}  ${scenario.description} (target >= ${scenario.target})`).join('\n');
}

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

async function main(argv: readonly string[]): Promise<void> {
  let seconds = DEFAULT_SECONDS;
  let runs = 1;
  let list = false;
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--list') list = true;
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n\nscenarios:\n${listing()}\n`);
      return;
    } else if (arg === '--seconds' || arg.startsWith('--seconds=')) {
      const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      seconds = Number(value);
      if (!Number.isFinite(seconds) || seconds <= 0) fail(`--seconds needs a positive number, got ${String(value)}`);
    } else if (arg === '--runs' || arg.startsWith('--runs=')) {
      const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      runs = Number(value);
      if (!Number.isSafeInteger(runs) || runs < 1 || runs > 100) fail(`--runs needs a whole number from 1 to 100, got ${String(value)}`);
    } else if (arg.startsWith('-')) fail(`unknown option ${arg}`);
    else names.push(arg);
  }
  if (list) {
    process.stdout.write(`${listing()}\n`);
    return;
  }
  if (names.length === 0) fail('name a scenario to run');
  const chosen: Scenario[] = names.map((name) => scenarios.find((scenario) => scenario.name === name) ?? fail(`unknown scenario ${name}`));
  for (const scenario of chosen) {
    const ratios: number[] = [];
    for (let run = 1; run <= runs; run++) {
      const which = runs === 1 ? '' : ` (run ${run} of ${runs})`;
      process.stdout.write(`== ${scenario.name}${which}: ${scenario.description}\n${machineLine()}\nbudget: ${seconds} s\n`);
      const started = Date.now();
      const result = await scenario.run({ seconds, log: (line) => process.stdout.write(`  ${line}\n`) });
      for (const line of result.lines) process.stdout.write(`${line}\n`);
      process.stdout.write(`took ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      ratios.push(result.ratio);
    }
    if (runs > 1)
      process.stdout.write(`${scenario.name}: ratios of the ${runs} runs ${ratios.map((r) => r.toFixed(2)).join(', ')}; median below\n`);
    process.stdout.write(`${scenario.name}: ratio ${median(ratios).toFixed(2)} (target >= ${scenario.target})\n`);
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
