/**
 * The entry point of a load driver process (see `runDriver`): reads the JSON options from the
 * first argument, runs `drive`, prints its result as one JSON line, and exits 0, or 1 with the
 * error on stderr (2 without options).
 */
export function driverMain<Options, Result>(script: string, drive: (options: Options) => Promise<Result>): void {
  const raw = process.argv[2];
  if (raw === undefined) {
    process.stderr.write(`usage: ${script} <json options>\n`);
    process.exit(2);
  }
  drive(JSON.parse(raw) as Options).then(
    (result) => {
      process.stdout.write(JSON.stringify(result) + '\n');
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
