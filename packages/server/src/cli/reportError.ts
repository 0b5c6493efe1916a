import type { CliIo } from './CliIo.js';

/**
 * The one way the CLI reports a failure, on stderr: `error [CODE]: message` (and a hint on the
 * next line), or with --json one JSON object `{"error":{"code","message","hint"?}}` for scripts.
 */
export function reportError(io: CliIo, code: string, message: string, hint?: string): void {
  if (io.json) {
    io.err(JSON.stringify({ error: { code, message, ...(hint === undefined ? {} : { hint }) } }));
    return;
  }
  io.err(`error [${code}]: ${message}` + (hint === undefined ? '' : `\n${hint}`));
}
