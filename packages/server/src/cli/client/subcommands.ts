import type { CliCommand, CliIo } from '../CliIo.js';
import { reportError } from '../reportError.js';
import { suggest } from '../suggest.js';

export interface Subcommand {
  readonly summary: string;
  readonly run: CliCommand;
}

/** A command made of subcommands (`decision create`, `decision get`, …). */
export function subcommands(command: string, table: Readonly<Record<string, Subcommand>>): CliCommand {
  const usage = () => {
    const width = Math.max(...Object.keys(table).map((name) => name.length));
    return [
      `usage: nexus-control ${command} <subcommand> [options]`,
      '',
      'subcommands:',
      ...Object.entries(table).map(([name, sub]) => `  ${name.padEnd(width)}  ${sub.summary}`),
      '',
      `Run 'nexus-control ${command} <subcommand> --help' for its options.`,
    ].join('\n');
  };
  return async (argv: string[], io: CliIo) => {
    const [name, ...rest] = argv;
    if (name === '--help' || name === '-h' || name === 'help') {
      io.out(usage());
      return 0;
    }
    const sub = name === undefined ? undefined : table[name];
    if (!sub) {
      if (name === undefined) {
        reportError(io, 'USAGE', `${command} needs a subcommand`, usage());
        return 2;
      }
      const guess = suggest(name, Object.keys(table));
      reportError(
        io,
        'USAGE',
        `unknown subcommand '${command} ${name}'`,
        guess === undefined ? usage() : `did you mean 'nexus-control ${command} ${guess}'?`,
      );
      return 2;
    }
    return sub.run(rest, io);
  };
}
