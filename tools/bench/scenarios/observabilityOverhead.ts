import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withBenchDir } from '../benchDir.js';
import { runDriver } from '../drivers/runDriver.js';
import { LIFECYCLE_TOKENS, writeLifecycleServerConfig } from '../fixtures/lifecycleServerConfig.js';
import { repoRoot, startBenchServer, type BenchServer } from '../drivers/benchServer.js';
import type { ObservabilityDriverOptions, ObservabilityDriverResult } from '../drivers/observabilityDriver.js';
import type { Scenario } from '../scenario.js';

const driverScript = join(repoRoot, 'tools', 'bench', 'drivers', 'observabilityDriver.ts');
const CONCURRENCY = 8;
/** USER_HZ: what /proc counts CPU time in, 100 on every Linux build in practice. */
const CLOCK_TICKS_PER_SECOND = 100;
/** Prometheus scrapes every 15 s to 1 min by default; this is harsher. */
const SCRAPE_INTERVAL_MS = 5_000;
const SPAN_ID = Buffer.from('"spanId"');
/** `metrics` or `tracing` turns on only that one in the observed server (to see what each costs); default both. */
const ONLY_ENV = 'NEXUS_BENCH_OBSERVE';
/**
 * A collector stand-in in this process: accepts OTLP/HTTP JSON exports and counts their spans
 * without parsing them (it shares the machine's cores with the servers).
 */
async function startReceiver() {
  let spans = 0;
  let exports = 0;
  const server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => {
      // A key split across two chunks goes uncounted: the count is a lower bound.
      for (let at = chunk.indexOf(SPAN_ID); at !== -1; at = chunk.indexOf(SPAN_ID, at + SPAN_ID.length)) spans++;
    });
    req.on('end', () => {
      exports++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`,
    counts: () => ({ spans, exports }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const rate = (value: number) => Math.round(value).toLocaleString('en-US');

export const observabilityOverhead: Scenario = {
  name: 'observability-overhead',
  description:
    'lifecycle RPCs with metrics (scraped every 5 s) and tracing (every call sampled, exported over OTLP/HTTP to a local receiver) vs both off',
  target: 0.9,
  async run({ seconds, log }) {
    const only = process.env[ONLY_ENV] === 'metrics' || process.env[ONLY_ENV] === 'tracing' ? process.env[ONLY_ENV] : undefined;
    return withBenchDir(async (dir) => {
      const receiver = await startReceiver();
      let baseline: BenchServer | undefined;
      let observed: BenchServer | undefined;
      let scrapes = 0;
      let scraper: NodeJS.Timeout | undefined;
      try {
        log(
          'starting two nexus-control serve processes (SQLite synchronous=normal, token auth): one plain, one with metrics and tracing...',
        );
        const store = (name: string) => `sqlite:${join(dir, name)}?synchronous=normal`;
        baseline = await startBenchServer([
          '--store',
          store('plain.db'),
          '--config',
          writeLifecycleServerConfig(join(dir, 'plain.json'), {}),
        ]);
        observed = await startBenchServer([
          '--store',
          store('observed.db'),
          '--config',
          writeLifecycleServerConfig(join(dir, 'observed.json'), {
            ...(only === 'tracing' ? {} : { metrics: { listen: '127.0.0.1:0' } }),
            ...(only === 'metrics'
              ? {}
              : { tracing: { endpoint: receiver.endpoint, serviceName: 'nexus-bench', exportIntervalMs: 1_000 } }),
          }),
        ]);
        const metricsAddress = only === 'tracing' ? undefined : metricsAddressOf(observed);
        scraper = setInterval(() => {
          if (metricsAddress === undefined) return;
          void fetch(`http://${metricsAddress}/metrics`).then(async (response) => {
            await response.text();
            scrapes++;
          });
        }, SCRAPE_INTERVAL_MS);
        const budgetMs = Math.max(6_000, seconds * 1000 - 8_000);
        const rounds = 10;
        // JIT and SQLite caches take a while: a short warm-up makes the first rounds of either look slow.
        const warmupMs = budgetMs / 4;
        log(`driving ${CONCURRENCY} concurrent lifecycles, ${rounds} alternating rounds per server...`);
        const cpuBefore = [processCpuMs(baseline), processCpuMs(observed)] as const;
        const result = await runDriver<ObservabilityDriverResult>(driverScript, {
          baseline: baseline.address,
          observed: observed.address,
          tokens: {
            requester: LIFECYCLE_TOKENS.requester,
            approvers: [LIFECYCLE_TOKENS.approvers[0], LIFECYCLE_TOKENS.approvers[1]],
            executor: LIFECYCLE_TOKENS.executor,
          },
          concurrency: CONCURRENCY,
          warmupMs,
          roundMs: (budgetMs - warmupMs) / (2 * rounds),
          rounds,
        } satisfies ObservabilityDriverOptions);
        clearInterval(scraper);
        const cpuAfter = [processCpuMs(baseline), processCpuMs(observed)] as const;
        await observed.stop();
        const cpuPerRpc = (i: 0 | 1, rpcs: number) => {
          const before = cpuBefore[i];
          const after = cpuAfter[i];
          return before === undefined || after === undefined ? undefined : ((after - before) * 1000) / rpcs;
        };
        const plainCpu = cpuPerRpc(0, result.totals.baseline);
        const observedCpu = cpuPerRpc(1, result.totals.observed);
        const { spans, exports } = receiver.counts();
        const ratio = result.pairedRatio;
        return {
          ratio,
          lines: [
            `setting: two serve processes on SQLite (synchronous=NORMAL, so the server's own CPU is what counts), bearer-token auth, info logs;`,
            `         every call carries a sampled traceparent; ${CONCURRENCY} lifecycles in flight from a separate node process`,
            `both off     ${rate(result.baseline.rpcsPerSecond)} RPC/s  [rounds ${result.baseline.rounds.map(rate).join(', ')}]`,
            `${only === undefined ? 'metrics+traces' : `${only} only (${ONLY_ENV})`} ${rate(result.observed.rpcsPerSecond)} RPC/s  [rounds ${result.observed.rounds.map(rate).join(', ')}]`,
            `             ${spans.toLocaleString('en-US')} spans (at least) received in ${exports} OTLP exports; ${scrapes} scrapes of /metrics`,
            ...(plainCpu === undefined || observedCpu === undefined
              ? []
              : [
                  `server CPU per RPC (all threads, warm-up included): plain ${plainCpu.toFixed(0)} µs, observed ${observedCpu.toFixed(0)} µs ` +
                    `(plain / observed ${(plainCpu / observedCpu).toFixed(3)})`,
                ]),
            `medians: observed / plain ${(result.observed.rpcsPerSecond / result.baseline.rpcsPerSecond).toFixed(3)}; ratio = median over back-to-back round pairs of observed / plain: ${ratio.toFixed(3)}`,
          ],
        };
      } finally {
        if (scraper) clearInterval(scraper);
        await Promise.all([baseline?.stop(), observed?.stop()]);
        await receiver.close();
      }
    });
  },
};

/**
 * CPU time (user + system, every thread) a server process has used so far, in milliseconds, from
 * /proc; undefined where there is none. Steadier than throughput on a shared machine: it counts
 * the work a call costs, not how long the call waited for a core.
 */
function processCpuMs(server: BenchServer): number | undefined {
  try {
    const fields = readFileSync(`/proc/${server.child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** The metrics address from the observed server's readiness line (kept by the bench server helper). */
function metricsAddressOf(server: BenchServer): string {
  if (!server.ready['metrics'] || typeof server.ready['metrics'] !== 'string')
    throw new Error('the observed server did not report a metrics address');
  return server.ready['metrics'];
}
