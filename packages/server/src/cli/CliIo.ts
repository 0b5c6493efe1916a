/** Where a command writes; tests pass buffers, the binary passes the process streams. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Environment variables (for defaults such as the server address or a token). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** --json was given: errors are reported as JSON too. */
  readonly json?: boolean;
}

/** A CLI command: parses its own arguments and returns the process exit code. */
export type CliCommand = (argv: string[], io: CliIo) => Promise<number>;

export const processIo: CliIo = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : text + '\n'),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : text + '\n'),
  env: process.env,
};
