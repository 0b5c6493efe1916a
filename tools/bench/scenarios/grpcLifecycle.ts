import { join } from 'node:path';
import { withBenchDir } from '../benchDir.js';
import { runDriver } from '../drivers/runDriver.js';
import { LIFECYCLE_TOKENS, writeLifecycleServerConfig } from '../fixtures/lifecycleServerConfig.js';
import { repoRoot, startBenchServer } from '../drivers/benchServer.js';
import type { KindResult, LoadDriverOptions, LoadDriverResult } from '../drivers/grpcLoadDriver.js';
import type { Scenario, ScenarioResult } from '../scenario.js';

const driverScript = join(repoRoot, 'tools', 'bench', 'drivers', 'grpcLoadDriver.ts');

/** Calls in flight at any moment, for both kinds of load. */
const CONCURRENCY = 8;
const RPCS_PER_LIFECYCLE = 4;
/** Set to a directory to write a V8 CPU profile of the server (`node --cpu-prof`). */
const CPU_PROFILE_ENV = 'NEXUS_BENCH_CPU_PROF';
/** `normal` runs the server with SQLite synchronous=NORMAL instead of the default FULL. */
const SYNCHRONOUS_ENV = 'NEXUS_BENCH_SQLITE_SYNCHRONOUS';

const ms = (value: number) => `${value.toFixed(2)} ms`;
const rate = (value: number) => Math.round(value).toLocaleString('en-US');
const spread = (result: KindResult) =>
  `rounds ${rate(Math.min(...result.roundRpcsPerSecond))}..${rate(Math.max(...result.roundRpcsPerSecond))}`;

export interface LifecycleRun {
  readonly seconds: number;
  readonly log: (line: string) => void;
  /** For the server's configuration file. */
  readonly dir: string;
  /** The server's `--store`. */
  readonly store: string;
  /** What the store is, for the progress line. */
  readonly storeLabel: string;
  /** The first lines of the output: the setting, store first. */
  readonly setting: readonly string[];
}

/** Runs a server on `store` and drives lifecycles and echoes at it from a separate process. */
export async function runLifecycle({ seconds, log, dir, store, storeLabel, setting }: LifecycleRun): Promise<ScenarioResult> {
  const profileDir = process.env[CPU_PROFILE_ENV] || undefined;
  log(`starting nexus-control serve (own process, ${storeLabel}, token auth)...`);
  const nodeArgs = profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
  const server = await startBenchServer(['--store', store, '--config', writeLifecycleServerConfig(join(dir, 'server.json'))], nodeArgs);
  let result: LoadDriverResult;
  try {
    // Process start-ups take a few seconds of the budget; the driver gets the rest.
    const budgetMs = Math.max(4_000, seconds * 1000 - 6_000);
    const rounds = 5;
    const warmupMs = budgetMs / 10;
    const options: LoadDriverOptions = {
      address: server.address,
      tokens: {
        requester: LIFECYCLE_TOKENS.requester,
        approvers: [LIFECYCLE_TOKENS.approvers[0], LIFECYCLE_TOKENS.approvers[1]],
        executor: LIFECYCLE_TOKENS.executor,
      },
      concurrency: CONCURRENCY,
      warmupMs,
      roundMs: (budgetMs - warmupMs) / (2 * rounds),
      rounds,
    };
    log(`driving ${CONCURRENCY} concurrent calls from a separate process at ${server.address}, ${rounds} alternating rounds...`);
    result = await runDriver<LoadDriverResult>(driverScript, options, ['--conditions=@nexus-control/source']);
  } finally {
    await server.stop();
  }
  const { echo, lifecycle } = result;
  const ratio = lifecycle.rpcsPerSecond / echo.rpcsPerSecond;
  const method = (name: string) => {
    const m = lifecycle.methods[name];
    return m ? `${name} p50 ${ms(m.p50Ms)} p99 ${ms(m.p99Ms)}` : `${name} -`;
  };
  return {
    ratio,
    lines: [
      ...setting,
      `         one JSON log line per RPC (info); load from a separate node process over one HTTP/2 channel, ${result.concurrency} calls in flight`,
      `echo      ${rate(echo.rpcsPerSecond)} RPC/s  [${spread(echo)}; ${echo.rpcs.toLocaleString('en-US')} RPCs]  latency p50 ${ms(echo.p50Ms)} p99 ${ms(echo.p99Ms)}`,
      `lifecycle ${rate(lifecycle.lifecyclesPerSecond)} lifecycles/s = ${rate(lifecycle.rpcsPerSecond)} RPC/s  [${spread(lifecycle)}; ${lifecycle.lifecycles.toLocaleString('en-US')} lifecycles]`,
      `          per lifecycle p50 ${ms(lifecycle.lifecycleP50Ms)} p99 ${ms(lifecycle.lifecycleP99Ms)}; per RPC p50 ${ms(lifecycle.p50Ms)} p99 ${ms(lifecycle.p99Ms)}`,
      `          ${method('CreateDecision')}; ${method('Approve')}; ${method('Execute')}`,
      `lifecycle RPC throughput / echo RPC throughput (each lifecycle counts as ${RPCS_PER_LIFECYCLE} RPCs): ${ratio.toFixed(3)}`,
      ...(profileDir === undefined ? [] : [`server CPU profile written to ${profileDir}`]),
    ],
  };
}

export const grpcLifecycle: Scenario = {
  name: 'grpc-lifecycle',
  description:
    'full decision lifecycle (create, 2 approvals, execute via null adapter) over loopback gRPC on SQLite vs a unary Echo RPC, per RPC',
  target: 0.5,
  async run({ seconds, log }) {
    return withBenchDir(async (dir) => {
      // The store's documented durability option; the default is what users get out of the box.
      const synchronous = process.env[SYNCHRONOUS_ENV] === 'normal' ? 'normal' : 'full';
      return runLifecycle({
        seconds,
        log,
        dir,
        store: `sqlite:${join(dir, 'bench.db')}?synchronous=${synchronous}`,
        storeLabel: `SQLite file with synchronous=${synchronous}`,
        setting: [
          `setting: nexus-control serve in its own process, SQLite store with synchronous=${synchronous.toUpperCase()} (WAL` +
            `${synchronous === 'full' ? ', the default' : `; set by ${SYNCHRONOUS_ENV}`}), bearer-token auth,`,
        ],
      });
    });
  },
};
