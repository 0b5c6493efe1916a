import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compareThroughput, describeComparison } from '../measure.js';
import type { Scenario } from '../scenario.js';

const bin = fileURLToPath(new URL('../../../packages/server/bin/nexus-control.js', import.meta.url));
const built = fileURLToPath(new URL('../../../packages/server/dist/cli/main.js', import.meta.url));

function startup(args: readonly string[], expect: RegExp): () => void {
  return () => {
    const run = spawnSync(process.execPath, args, { encoding: 'utf8' });
    if (run.status !== 0 || !expect.test(run.stdout)) throw new Error(`${args.join(' ')} failed (${run.status}): ${run.stderr}`);
  };
}

/** How much the CLI adds to starting Node: the user should not feel it. */
export const cliStartup: Scenario = {
  name: 'cli-startup',
  description: '`nexus-control --version` (the built CLI, as installed) vs `node -e 0`, whole processes',
  target: 0.5,
  async run({ seconds }) {
    if (!existsSync(built)) throw new Error('the CLI is not built: run `npm run build` first');
    const comparison = await compareThroughput(
      { name: 'nexus-control --version', operation: startup([bin, '--version'], /^nexus-control \d/) },
      { name: 'node -e 0', operation: startup(['-e', '0'], /^$/) },
      { budgetMs: Math.max(3_000, seconds * 1000), rounds: 7 },
    );
    return { ratio: comparison.ratio, lines: describeComparison('cli-startup', comparison, 'starts') };
  },
};
