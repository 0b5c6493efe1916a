import { parseJson } from '@nexus-control/core';
import { compareThroughput, describeComparison } from '../measure.js';
import type { Scenario } from '../scenario.js';

const FLOATS = 250_000;

/**
 * A float-heavy document like a router's metrics: integral floats (`1.0`, `1e16`), which the
 * lossless parser must keep apart from integers, mixed with ordinary fractions and exponents.
 */
function floatDocument(): string {
  const kinds = [
    (i: number) => `${i % 1000}.0`,
    (i: number) => `${i}.25`,
    (i: number) => `-${i % 97}.5e-3`,
    () => '1e16',
    (i: number) => `0.${(i * 7919) % 100000}1`,
    () => '1.0',
  ];
  const samples: string[] = [];
  for (let i = 0; i < FLOATS; i++) samples.push(kinds[i % kinds.length]!(i));
  return `{"run_id":"run_metrics","series":[{"name":"latency","samples":[${samples.join(',')}]}],"ratio":1.0}`;
}

export const parseFloats: Scenario = {
  name: 'parse-floats',
  description: `parsing a ${FLOATS.toLocaleString('en-US')}-float document losslessly vs JSON.parse of the same text`,
  target: 0.3,
  async run({ seconds, log }) {
    const text = floatDocument();
    log(`document: ${(text.length / 1e6).toFixed(2)} MB of JSON, ${FLOATS.toLocaleString('en-US')} floats`);
    const comparison = await compareThroughput(
      { name: 'parseJson(text)', operation: () => parseJson(text) },
      { name: 'JSON.parse(text)', operation: () => JSON.parse(text) },
      { budgetMs: Math.max(3_000, seconds * 1000 - 2_000), rounds: 9 },
    );
    return { ratio: comparison.ratio, lines: describeComparison('parse-floats', comparison, 'parses') };
  },
};
