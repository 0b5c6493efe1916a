import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createNexusClient, type NexusClient } from '@nexus-control/client';
import { withBenchDir } from '../benchDir.js';
import { repoRoot, startBenchServer } from '../drivers/benchServer.js';
import type { WatchStreamsOptions, WatchStreamsResult } from '../drivers/watchStreamsDriver.js';
import type { Scenario } from '../scenario.js';

const STREAMS = 1000;
const ROUNDS = 3;
/** Creates in flight at any moment. */
const CONCURRENCY = 8;
/** HTTP/2 channels the streams are spread over (a client has a stream limit per connection). */
const STREAM_CHANNELS = 10;
const driverScript = join(repoRoot, 'tools', 'bench', 'drivers', 'watchStreamsDriver.ts');

/** Creates decisions with `concurrency` calls in flight for `ms`; returns creates per second. */
async function createLoad(
  client: NexusClient,
  ms: number,
  concurrency: number,
  label: string,
): Promise<{ perSecond: number; count: number; ids: string[] }> {
  const ids: string[] = [];
  const started = performance.now();
  const deadline = started + ms;
  let count = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const { decision } = await client.createDecision({ goal: `${label} ${count}` });
        ids.push(decision!.decisionId);
        count++;
      }
    }),
  );
  return { perSecond: count / ((performance.now() - started) / 1000), count, ids };
}

/** Starts the stream holder; resolves once every stream has caught up. */
function openStreams(options: WatchStreamsOptions): Promise<{ child: ChildProcess; close(): Promise<WatchStreamsResult> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', driverScript, JSON.stringify(options)], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the streams did not all catch up within 60 s: ${stderr.slice(-2000)}`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!stdout.includes('"ready"')) return;
      clearTimeout(timer);
      resolve({
        child,
        async close() {
          child.stdin!.end();
          const code = await exited;
          if (code !== 0) throw new Error(`the stream holder failed (exit ${code}): ${stderr.trim()}`);
          const last = stdout.trim().split('\n').at(-1)!;
          return JSON.parse(last) as WatchStreamsResult;
        },
      });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the stream holder exited with ${code} before it was ready: ${stderr.slice(-2000)}`));
    });
  });
}

const rate = (value: number) => Math.round(value).toLocaleString('en-US');

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

interface Phase {
  readonly perSecond: number;
  readonly count: number;
  readonly cpuMsPerCreate: number;
}

/** CPU time (user + system) a process has used so far, in milliseconds (Linux /proc). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 per second here).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export const watchFanout: Scenario = {
  name: 'watch-fanout',
  description: `decision creates/s over loopback gRPC with ${STREAMS.toLocaleString('en-US')} open single-decision watch streams vs with none`,
  target: 0.8,
  async run({ seconds, log }) {
    return withBenchDir(async (dir) => {
      log('starting nexus-control serve (own process, SQLite file, default durability)...');
      const server = await startBenchServer(['--store', `sqlite:${join(dir, 'bench.db')}`]);
      const client = createNexusClient({ address: server.address, deadlineMs: 60_000 });
      try {
        await client.waitForReady(10_000);
        // Setup: the quiet decisions the streams watch (this also warms the server up).
        log(`creating ${STREAMS} quiet decisions...`);
        const quiet: string[] = [];
        while (quiet.length < STREAMS) quiet.push(...(await createLoad(client, 500, 16, 'quiet')).ids);
        // Opening the streams and letting them settle takes about 4 s per round.
        const phaseMs = Math.max(1_500, (seconds * 1000 - 10_000 - ROUNDS * 4_000) / (2 * ROUNDS + 1));
        const serverCpu = () => cpuMs(server.child.pid!);
        const measure = async (label: string): Promise<Phase> => {
          const cpuBefore = serverCpu();
          const load = await createLoad(client, phaseMs, CONCURRENCY, label);
          return { ...load, cpuMsPerCreate: (serverCpu() - cpuBefore) / load.count };
        };
        const none: Phase[] = [];
        const open: Phase[] = [];
        let checkpoints = 0;
        for (let round = 0; round < ROUNDS; round++) {
          log(`round ${round + 1}/${ROUNDS}: no streams, ${CONCURRENCY} creates in flight, ${(phaseMs / 1000).toFixed(1)} s...`);
          none.push(await measure('none'));
          log(`round ${round + 1}/${ROUNDS}: opening ${STREAMS} watch streams (one per quiet decision) from a separate process...`);
          const streams = await openStreams({ address: server.address, decisionIds: quiet.slice(0, STREAMS), channels: STREAM_CHANNELS });
          let held: WatchStreamsResult;
          try {
            // A stream reports caught_up before it joins the shared reader: let the joins finish first.
            await new Promise((resolve) => setTimeout(resolve, 2_000));
            log(
              `round ${round + 1}/${ROUNDS}: ${STREAMS} open streams, ${CONCURRENCY} creates in flight, ${(phaseMs / 1000).toFixed(1)} s...`,
            );
            open.push(await measure('streams'));
          } finally {
            held = await streams.close();
          }
          if (held.caughtUp !== STREAMS || held.ended.length > 0) throw new Error(`the streams did not stay open: ${JSON.stringify(held)}`);
          if (held.events !== 0) throw new Error(`streams of quiet decisions received ${held.events} events`);
          checkpoints += held.checkpoints;
        }
        log('last round without streams...');
        none.push(await measure('none'));
        // Each round with streams against the rounds without on either side of it, so drift in
        // the machine's load cancels out; the median of the rounds.
        const ratios = open.map((phase, i) => phase.perSecond / ((none[i]!.perSecond + none[i + 1]!.perSecond) / 2));
        const ratio = median(ratios);
        const list = (phases: Phase[]) => phases.map((p) => rate(p.perSecond)).join(', ');
        const cpu = (phases: Phase[]) => median(phases.map((p) => p.cpuMsPerCreate)).toFixed(2);
        return {
          ratio,
          lines: [
            `setting: nexus-control serve in its own process, SQLite file at the default durability; creates from this process over one`,
            `         HTTP/2 channel, ${CONCURRENCY} in flight; streams held by a separate node process over ${STREAM_CHANNELS} channels;`,
            `         ${ROUNDS} rounds with streams, each between two rounds without, ${(phaseMs / 1000).toFixed(1)} s each`,
            `no streams           creates/s per round ${list(none)}; server CPU ${cpu(none)} ms per create (median)`,
            `${STREAMS} open streams   creates/s per round ${list(open)}; server CPU ${cpu(open)} ms per create (median)`,
            `                     every stream caught up and stayed open; 0 events (quiet decisions), ${checkpoints} periodic checkpoints`,
            `per-round ratios ${ratios.map((r) => r.toFixed(3)).join(', ')}; creates/s with streams / without (median): ${ratio.toFixed(3)}`,
          ],
        };
      } finally {
        client.close();
        await server.stop();
      }
    });
  },
};
