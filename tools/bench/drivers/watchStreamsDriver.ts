// Holder of the open watch streams of the watch-fanout benchmark, run as its own process so
// that the streams' client side never shares a CPU queue with the writer being measured.
//
//   node --import tsx tools/bench/drivers/watchStreamsDriver.ts '<json options>'
//
// Opens one WatchDecisions stream per decision id, prints {"ready":...} once every stream has
// caught up, keeps them open until stdin closes, then prints its counts as one JSON line.
import { createNexusClient, type NexusWatch } from '@nexus-control/client';

export interface WatchStreamsOptions {
  readonly address: string;
  readonly decisionIds: readonly string[];
  /** Streams share this many HTTP/2 channels. */
  readonly channels: number;
}

export interface WatchStreamsResult {
  readonly streams: number;
  readonly caughtUp: number;
  readonly events: number;
  readonly checkpoints: number;
  /** Streams that ended before they were cancelled, and why. */
  readonly ended: readonly string[];
}

async function main(options: WatchStreamsOptions): Promise<void> {
  const clients = Array.from({ length: options.channels }, () => createNexusClient({ address: options.address, deadlineMs: 0 }));
  const counts = { caughtUp: 0, events: 0, checkpoints: 0 };
  const ended: string[] = [];
  let stopping = false;
  const watches: NexusWatch[] = [];
  let announce!: () => void;
  const allCaughtUp = new Promise<void>((resolve) => (announce = resolve));
  const done = options.decisionIds.map(async (decisionId, i) => {
    const watch = clients[i % clients.length]!.watchDecisions({ decisionId });
    watches.push(watch);
    try {
      for await (const item of watch) {
        if (item.type === 'caught_up') {
          if (++counts.caughtUp === options.decisionIds.length) announce();
        } else if (item.type === 'event') counts.events++;
        else counts.checkpoints++;
      }
      if (!stopping) ended.push(`${decisionId}: ended`);
    } catch (error) {
      if (!stopping) ended.push(`${decisionId}: ${(error as Error).message}`);
    }
  });
  await allCaughtUp;
  process.stdout.write(`${JSON.stringify({ ready: options.decisionIds.length })}\n`);
  await new Promise<void>((resolve) => {
    process.stdin.on('end', resolve);
    process.stdin.resume();
  });
  const result: WatchStreamsResult = { streams: options.decisionIds.length, ...counts, ended: ended.slice(0, 5) };
  stopping = true;
  for (const watch of watches) watch.cancel();
  await Promise.allSettled(done);
  for (const client of clients) client.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main(JSON.parse(process.argv[2] ?? '{}') as WatchStreamsOptions).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
